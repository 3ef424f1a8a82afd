package ftracktest

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// wireDateTime is the layout of datetimes the emulator emits: naive UTC, with microseconds
// when there are any (as Python's isoformat writes them, and ftrack with it).
const wireDateTime = "2006-01-02T15:04:05"

// formatDateTime writes t in the wire layout.
func formatDateTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 != 0 {
		return t.Format(wireDateTime + ".000000")
	}
	return t.Format(wireDateTime)
}

var dateTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseDateTime reads any datetime form the clients send: with or without
// fractional seconds (kept to the microsecond, as ftrack keeps them), with Z, ±HH:MM or no
// offset (UTC), or a date only.
func parseDateTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range dateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Microsecond), true
		}
	}
	return time.Time{}, false
}

// decodeDateTime accepts a tagged {"__type__": "datetime"|"date", "value"}
// object or a plain string.
func decodeDateTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case map[string]any:
		tag, _ := x["__type__"].(string)
		s, ok := x["value"].(string)
		if !ok || (tag != "datetime" && tag != "date") {
			return time.Time{}, false
		}
		return parseDateTime(s)
	case string:
		return parseDateTime(x)
	case time.Time:
		return x.UTC().Truncate(time.Microsecond), true
	}
	return time.Time{}, false
}

func encodeDateTime(t time.Time) map[string]any {
	return map[string]any{"__type__": "datetime", "value": formatDateTime(t)}
}

// encodeValue turns a stored value into its wire form.
func encodeValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return encodeDateTime(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = encodeValue(e)
		}
		return out
	}
	return v
}

func stringify(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return formatDateTime(x)
	case nil:
		return "None"
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// coerce checks a client value against property p of type t and returns
// the stored form. Errors name the type, attribute and value.
func coerce(t *entityType, p *schema.Property, v any) (any, error) {
	bad := func(want string) error {
		return validationError("%s.%s must be %s, got %s", t.name, p.Name, want, describe(v))
	}
	if v == nil {
		return nil, nil
	}
	if p.Format == "date-time" {
		tm, ok := decodeDateTime(v)
		if !ok {
			return nil, bad("a datetime")
		}
		return tm, nil
	}
	switch p.Type {
	case "string":
		s, ok := v.(string)
		if !ok {
			return nil, bad("a string")
		}
		if len(p.Enum) > 0 && !contains(p.Enum, s) {
			return nil, validationError("%s.%s must be one of %s, got %q", t.name, p.Name, strings.Join(p.Enum, ", "), s)
		}
		return s, nil
	case "integer":
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) {
			return nil, bad("an integer")
		}
		return f, nil
	case "number":
		f, ok := v.(float64)
		if !ok {
			return nil, bad("a number")
		}
		return f, nil
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return nil, bad("a boolean")
		}
		return b, nil
	default:
		// variable and object: any JSON value; tagged datetimes are decoded.
		if m, ok := v.(map[string]any); ok {
			if _, tagged := m["__type__"]; tagged {
				if tm, ok := decodeDateTime(m); ok {
					return tm, nil
				}
			}
		}
		return v, nil
	}
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case float64:
		return "number " + stringify(x)
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case map[string]any:
		b, _ := json.Marshal(x)
		return "object " + string(b)
	case []any:
		return fmt.Sprintf("a list of %d items", len(x))
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", v)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
