package linkrules

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// DurationPattern is the form of an Elasticsearch time value such as 7d, the
// form key expiration and rotation take. The CRD and XRD schemas carry the
// same pattern.
const DurationPattern = `^[0-9]+(nanos|micros|ms|s|m|h|d)$`

var durationRE = regexp.MustCompile(`^([0-9]+)(nanos|micros|ms|s|m|h|d)$`)

var durationUnits = map[string]time.Duration{
	"nanos": time.Nanosecond, "micros": time.Microsecond, "ms": time.Millisecond,
	"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
}

// ParseDuration parses an Elasticsearch time value such as 7d. field names
// the field that holds it, for the error.
func ParseDuration(field, s string) (time.Duration, error) {
	m := durationRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%s %q is not an Elasticsearch duration: use a number and one of nanos, micros, ms, s, m, h, d, such as 7d", field, s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	unit := durationUnits[m[2]]
	if err != nil || n > int64(1<<62)/int64(unit) {
		return 0, fmt.Errorf("%s %q is out of range", field, s)
	}
	return time.Duration(n) * unit, nil
}

// IsDuration reports whether s is an Elasticsearch time value.
func IsDuration(s string) bool { return durationRE.MatchString(s) }
