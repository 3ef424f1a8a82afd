package querylang

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse checks that Parse never panics and that every query it accepts
// renders to text that parses back to an equal query.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`Task`,
		`select id, name from Task where parent.id is "x" offset 0 limit 500`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		q, err := Parse(expr)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T is not *SyntaxError", expr, err)
			}
			if se.Pos < 0 || se.Pos > len(expr) {
				t.Fatalf("Parse(%q) error position %d outside the input: %v", expr, se.Pos, err)
			}
			return
		}
		text := q.String()
		again, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", expr, text, err)
		}
		if diff := cmp.Diff(q, again); diff != "" {
			t.Fatalf("Parse(%q).String() = %q parses differently (-first +second):\n%s", expr, text, diff)
		}
		if text2 := again.String(); text2 != text {
			t.Fatalf("String is not stable: %q then %q", text, text2)
		}
	})
}
