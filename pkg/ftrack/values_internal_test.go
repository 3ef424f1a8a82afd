package ftrack

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseDateTime(t *testing.T) {
	t.Parallel()
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	cases := map[string]struct {
		reason string
		in     string
		want   time.Time
		err    bool
	}{
		"naive":      {"naive values are UTC", "2022-10-10T10:12:09", utc(2022, 10, 10, 10, 12, 9, 0), false},
		"fraction":   {"fractional seconds are kept", "2022-10-10T10:12:09.123456", utc(2022, 10, 10, 10, 12, 9, 123456000), false},
		"zulu":       {"a Z suffix is UTC", "2022-10-10T10:12:09.5Z", utc(2022, 10, 10, 10, 12, 9, 500000000), false},
		"offset":     {"a positive offset is converted to UTC", "2022-10-10T12:12:09+02:00", utc(2022, 10, 10, 10, 12, 9, 0), false},
		"negative":   {"a negative offset is converted to UTC", "2022-10-10T05:12:09-05:00", utc(2022, 10, 10, 10, 12, 9, 0), false},
		"date only":  {"a date is midnight UTC", "2025-12-01", utc(2025, 12, 1, 0, 0, 0, 0), false},
		"space":      {"a space separator is accepted", "2022-10-10 10:12:09", utc(2022, 10, 10, 10, 12, 9, 0), false},
		"garbage":    {"text is refused", "yesterday", time.Time{}, true},
		"bad month":  {"month 13 is refused", "2022-13-10", time.Time{}, true},
		"bad zone":   {"a malformed zone is refused", "2022-10-10T10:12:09+0200", time.Time{}, true},
		"empty frac": {"a dot without digits is refused", "2022-10-10T10:12:09.", time.Time{}, true},
		"short":      {"a truncated time is refused", "2022-10-10T10:12", time.Time{}, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := parseDateTime(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("%s: err = %v, want error %v", tc.reason, err, tc.err)
			}
			if !got.Equal(tc.want) {
				t.Errorf("%s: got %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}

func TestJSONDecoder(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		in     string
		want   any
		err    bool
	}{
		"scalars":   {"literals and numbers decode as encoding/json does", `[1, -2.5e1, true, false, null, "x"]`, []any{1.0, -25.0, true, false, nil, "x"}, false},
		"escapes":   {"escapes and surrogate pairs are decoded", `"a\"b\\c\/\n\u00e9\ud83d\ude00"`, "a\"b\\c/\né😀", false},
		"objects":   {"plain objects become maps", `{"a": {"b": []}}`, map[string]any{"a": map[string]any{"b": []any{}}}, false},
		"datetime":  {"tagged datetimes become time.Time", `{"__type__": "datetime", "value": "2024-01-02T03:04:05"}`, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), false},
		"date":      {"tagged dates become Date", `{"value": "2024-01-02", "__type__": "date"}`, Date{2024, 1, 2}, false},
		"bad tag":   {"an unknown tag stays a map", `{"__type__": "money", "value": "1"}`, map[string]any{"__type__": "money", "value": "1"}, false},
		"trailing":  {"data after the value is refused", `[] x`, nil, true},
		"truncated": {"a truncated document is refused", `[{"a": 1`, nil, true},
		"control":   {"a raw control character in a string is refused", "\"a\x01\"", nil, true},
		"bad esc":   {"an unknown escape is refused", `"\q"`, nil, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := newJSONDecoder([]byte(tc.in), nil).decodeDocument()
			if (err != nil) != tc.err {
				t.Fatalf("%s: err = %v, want error %v", tc.reason, err, tc.err)
			}
			if tc.err {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestJSONDecoderDepth(t *testing.T) {
	t.Parallel()
	deep := make([]byte, 0, 2*maxJSONDepth+4)
	for range maxJSONDepth + 1 {
		deep = append(deep, '[')
	}
	if _, err := newJSONDecoder(deep, nil).decodeDocument(); err == nil {
		t.Error("nesting beyond the limit was accepted")
	}
}

func TestPrimaryString(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		in   any
		want string
	}{
		"string": {"abc", "abc"},
		"int":    {42.0, "42"},
		"float":  {1.5, "1.5"},
		"bool":   {true, "True"},
		"int64":  {int64(7), "7"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := primaryString(tc.in); got != tc.want {
				t.Errorf("primaryString(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestFormatDateTime(t *testing.T) {
	t.Parallel()
	tm := time.Date(2024, 5, 6, 9, 8, 7, 123000000, time.FixedZone("", 3600))
	if got, want := formatDateTime(tm), "2024-05-06T08:08:07.123Z"; got != want {
		t.Errorf("formatDateTime = %q, want %q", got, want)
	}
	if got, want := formatQueryDateTime(tm), "2024-05-06T08:08:07"; got != want {
		t.Errorf("formatQueryDateTime = %q, want %q", got, want)
	}
	if got, want := (Date{2024, 2, 29}).String(), "2024-02-29"; got != want {
		t.Errorf("Date.String = %q, want %q", got, want)
	}
}
