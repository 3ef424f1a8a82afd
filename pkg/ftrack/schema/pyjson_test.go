package schema_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// The expected outputs below are what CPython 3 prints for
// json.dumps(json.loads(input), sort_keys=True).
func TestPythonJSONRaw(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		input  string
		want   string
	}{
		"Unicode": {
			reason: "non-ASCII is escaped with lower-case hex",
			input:  `"héllo 世界"`,
			want:   `"h\u00e9llo \u4e16\u754c"`,
		},
		"Astral": {
			reason: "characters beyond the BMP become surrogate pairs",
			input:  `"😀x"`,
			want:   `"\ud83d\ude00x"`,
		},
		"AstralEscaped": {
			reason: "an escaped surrogate pair in the input is one character",
			input:  `"\uD83D\uDE00"`,
			want:   `"\ud83d\ude00"`,
		},
		"Escapes": {
			reason: "quote, backslash, short escapes, control characters and DEL; slash stays",
			input:  `"q\"b\\s/n\nr\rt\tb\bf\fc\u0001\u001fdel` + "\x7f" + `"`,
			want:   `"q\"b\\s/n\nr\rt\tb\bf\fc\u0001\u001fdel\u007f"`,
		},
		"EscapedSlash": {
			reason: "an escaped slash in the input is written plain",
			input:  `"a\/b"`,
			want:   `"a/b"`,
		},
		"Nested": {
			reason: "keys sorted at every level, Python separators",
			input:  `{"b": [1, {"d": null, "c": true}], "a": {}, "": []}`,
			want:   `{"": [], "a": {}, "b": [1, {"c": true, "d": null}]}`,
		},
		"Compact": {
			reason: "input whitespace does not matter",
			input:  "{\"b\":[1,2],\n\t\"a\":false}",
			want:   `{"a": false, "b": [1, 2]}`,
		},
		"Numbers": {
			reason: "integers keep their digits, floats become Python reprs",
			input:  `[1, 1.0, -0, -0.0, 1.50, 1e5, 1E-5, 0.0001, 1e16, 1e15, 123456789012345678901234567890, 1.5e300, 2.5e-7, 100.0, 9999999999999998.0, 1e400, 0.1]`,
			want:   `[1, 1.0, 0, -0.0, 1.5, 100000.0, 1e-05, 0.0001, 1e+16, 1000000000000000.0, 123456789012345678901234567890, 1.5e+300, 2.5e-07, 100.0, 9999999999999998.0, Infinity, 0.1]`,
		},
		"KeyOrder": {
			reason: "keys sort by code point: digits, upper case, underscore, lower case, then non-ASCII",
			input:  `{"b": 1, "B": 2, "é": 3, "a": 4, "aa": 5, "😀": 6, "\uffff": 7, "_": 8, "1": 9}`,
			want:   `{"1": 9, "B": 2, "_": 8, "a": 4, "aa": 5, "b": 1, "\u00e9": 3, "\uffff": 7, "\ud83d\ude00": 6}`,
		},
		"Empty": {
			reason: "empty containers and strings",
			input:  `[{}, [], "", {"x": {}}]`,
			want:   `[{}, [], "", {"x": {}}]`,
		},
		"DuplicateKeys": {
			reason: "the last duplicate key wins, as in json.loads",
			input:  `{"a": 1, "a": 2}`,
			want:   `{"a": 2}`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := schema.PythonJSONRaw([]byte(tc.input))
			if err != nil {
				t.Fatalf("%s: PythonJSONRaw: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("%s: (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestPythonJSONValues(t *testing.T) {
	t.Parallel()
	type point struct {
		X int     `json:"x"`
		Y float64 `json:"y"`
	}
	cases := map[string]struct {
		reason string
		value  any
		want   string
	}{
		"Float": {
			reason: "Go floats are Python floats",
			value:  []any{1.0, 0.5, -2e-9, math.Inf(-1), math.NaN()},
			want:   `[1.0, 0.5, -2e-09, -Infinity, NaN]`,
		},
		"Ints": {
			reason: "Go integers stay integers",
			value:  []any{int8(-3), uint64(math.MaxUint64), int64(math.MinInt64)},
			want:   `[-3, 18446744073709551615, -9223372036854775808]`,
		},
		"Typed": {
			reason: "string slices and maps",
			value:  map[string]any{"s": []string{"ü"}, "m": map[string]string{"z": "1", "a": "2"}},
			want:   `{"m": {"a": "2", "z": "1"}, "s": ["\u00fc"]}`,
		},
		"Raw": {
			reason: "raw messages are decoded and re-encoded",
			value:  map[string]any{"r": json.RawMessage(`{"b":1.0,"a":[]}`)},
			want:   `{"r": {"a": [], "b": 1.0}}`,
		},
		"Number": {
			reason: "json.Number keeps an integer literal",
			value:  json.Number("12345678901234567890"),
			want:   `12345678901234567890`,
		},
		"Struct": {
			reason: "other values go through encoding/json",
			value:  point{X: 1, Y: 2},
			want:   `{"x": 1, "y": 2}`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := schema.PythonJSON(tc.value)
			if err != nil {
				t.Fatalf("%s: PythonJSON: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("%s: (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestPythonJSONErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		input  string
	}{
		"Invalid":  {reason: "not JSON", input: `{"a": }`},
		"Trailing": {reason: "two documents", input: `{} {}`},
		"Empty":    {reason: "no document", input: ``},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := schema.HashJSON([]byte(tc.input)); err == nil {
				t.Errorf("%s: HashJSON(%q) succeeded, want an error", tc.reason, tc.input)
			}
		})
	}
	if _, err := schema.PythonJSON(json.Number("1x")); err == nil {
		t.Error("PythonJSON accepted an invalid json.Number")
	}
	if _, err := schema.PythonJSON(func() {}); err == nil {
		t.Error("PythonJSON accepted a func")
	}
}

func TestHashJSON(t *testing.T) {
	t.Parallel()
	// md5(json.dumps({"a": [1, 2.0, "é"]}, sort_keys=True)) in CPython.
	got, err := schema.HashJSON([]byte(`{"a":[1,2.0,"é"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "9b6c725a3b9675aa9b24aef9a5a403ba"; got != want {
		t.Errorf("HashJSON = %q, want %q", got, want)
	}
}
