package esfake

import (
	"strconv"
	"strings"
	"time"
)

// parseDuration follows TimeValue.parseTimeValue, including its messages.
func parseDuration(input, setting string) (time.Duration, *esError) {
	s := strings.ToLower(strings.TrimSpace(input))
	switch s {
	case "-1":
		return -1, nil
	case "0":
		return 0, nil
	}
	units := []struct {
		suffix string
		unit   time.Duration
	}{
		{"nanos", time.Nanosecond}, {"micros", time.Microsecond}, {"ms", time.Millisecond},
		{"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour},
	}
	for _, u := range units {
		if !strings.HasSuffix(s, u.suffix) {
			continue
		}
		num := strings.TrimSpace(strings.TrimSuffix(s, u.suffix))
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			if _, ferr := strconv.ParseFloat(num, 64); ferr == nil {
				return 0, parseExc("failed to parse [%s], fractional time values are not supported", input)
			}
			return 0, parseExc("failed to parse [%s]", input)
		}
		if n < -1 {
			return 0, illegalArg("failed to parse setting [%s] with value [%s] as a time value: negative durations are not supported", setting, input)
		}
		// Clamp absurd values instead of overflowing time.Duration.
		const maxDur = time.Duration(1<<63 - 1)
		if n > 0 && time.Duration(n) > maxDur/u.unit {
			return maxDur, nil
		}
		return time.Duration(n) * u.unit, nil
	}
	return 0, parseExc("failed to parse setting [%s] with value [%s] as a time value: unit is missing or unrecognized", setting, input)
}
