package ftrack

import (
	"errors"
	"strings"
	"time"
)

// Identity is an entity's identity: its type and its primary-key values,
// always strings, in the schema's primary-key order.
type Identity struct {
	Type string
	Key  []string
}

// String formats the identity as the Python client does:
// ('Task', ['8b0c…']).
func (id Identity) String() string {
	var b strings.Builder
	b.Grow(len(id.Type) + 8 + 40*len(id.Key))
	b.WriteString("('")
	b.WriteString(id.Type)
	b.WriteString("', [")
	for i, k := range id.Key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('\'')
		b.WriteString(k)
		b.WriteByte('\'')
	}
	b.WriteString("])")
	return b.String()
}

// Date is a calendar date without a time of day, sent and received as an
// ftrack date value.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// String returns YYYY-MM-DD.
func (d Date) String() string {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// Time returns midnight UTC of the date.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

var errBadTime = errors.New("ftrack: invalid datetime")

// parseDateTime parses the datetime forms the server and the clients use:
// YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS with optional fraction and optional Z or
// ±HH:MM (a space instead of T is accepted). Naive values are UTC.
func parseDateTime(s string) (time.Time, error) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, errBadTime
	}
	y, ok1 := atoiN(s[0:4])
	mo, ok2 := atoiN(s[5:7])
	d, ok3 := atoiN(s[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return time.Time{}, errBadTime
	}
	if len(s) == 10 {
		return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC), nil
	}
	if len(s) < 19 || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, errBadTime
	}
	h, ok1 := atoiN(s[11:13])
	mi, ok2 := atoiN(s[14:16])
	se, ok3 := atoiN(s[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || se > 60 {
		return time.Time{}, errBadTime
	}
	rest := s[19:]
	ns := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := 100000000
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			ns += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == 1 {
			return time.Time{}, errBadTime
		}
		rest = rest[i:]
	}
	loc := time.UTC
	switch {
	case rest == "" || rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := atoiN(rest[1:3])
		om, ok2 := atoiN(rest[4:6])
		if !ok1 || !ok2 {
			return time.Time{}, errBadTime
		}
		off := oh*3600 + om*60
		if rest[0] == '-' {
			off = -off
		}
		if off != 0 {
			loc = time.FixedZone("", off)
		}
	default:
		return time.Time{}, errBadTime
	}
	t := time.Date(y, time.Month(mo), d, h, mi, se, ns, loc)
	if loc != time.UTC {
		t = t.UTC()
	}
	return t, nil
}

func atoiN(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// formatDateTime formats t in UTC with microseconds when present and a Z.
func formatDateTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.999999Z07:00")
}

// formatQueryDateTime formats t as a naive UTC value without fractional
// seconds, the form the Python client uses in ensure queries.
func formatQueryDateTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05")
}
