package keylifetime

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

// DefaultMinKeyLifetime is how long a key serves, at the least, before the
// provider replaces it, unless the platform team sets another minimum (the
// function input's minimumKeyLifetime, the provider's --min-key-lifetime).
// Without file-based secure settings every rotation restarts the local
// cluster, so rotations must stay rare.
const DefaultMinKeyLifetime = 24 * time.Hour

// Fields names the fields a key's lifetime comes from, for errors:
// spec.expiration on a link, spec.forProvider.expiration on a key.
type Fields struct {
	Expiration, RotateBefore string
}

// CheckKeyLifetime checks a requested expiration and rotateBefore (each may
// be empty) against each other and the platform's minimum: a key must serve
// at least minimum between its creation and the moment it is replaced
// (expiration minus rotateBefore), so that rotation can never run hot.
// rotateBefore must be shorter than expiration and needs one. minimum names
// where the platform sets it, for the error.
func CheckKeyLifetime(f Fields, expiration, rotateBefore string, minimum time.Duration, minimumFrom string) error {
	if rotateBefore != "" && expiration == "" {
		return fmt.Errorf("%s needs %s: a key that never expires is never rotated", f.RotateBefore, f.Expiration)
	}
	if expiration == "" {
		return nil
	}
	exp, err := ParseDuration(f.Expiration, expiration)
	if err != nil {
		return err
	}
	var before time.Duration
	if rotateBefore != "" {
		if before, err = ParseDuration(f.RotateBefore, rotateBefore); err != nil {
			return err
		}
		if before >= exp {
			return fmt.Errorf("%s %s must be shorter than %s %s: the key would be due for replacement as soon as it is created", f.RotateBefore, rotateBefore, f.Expiration, expiration)
		}
	}
	if serves := exp - before; serves < minimum {
		if rotateBefore == "" {
			return fmt.Errorf("%s %s is shorter than the minimum key lifetime %s that %s sets: lengthen it", f.Expiration, expiration, minimum, minimumFrom)
		}
		return fmt.Errorf("%s %s minus %s %s leaves %s between rotations, less than the minimum key lifetime %s that %s sets: lengthen %s or shorten %s",
			f.Expiration, expiration, f.RotateBefore, rotateBefore, serves, minimum, minimumFrom, f.Expiration, f.RotateBefore)
	}
	return nil
}
