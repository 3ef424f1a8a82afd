package event

import (
	"testing"
)

// FuzzParseExpression checks that parsing never panics, that the canonical
// form of every accepted expression parses again to the same canonical form
// and the same match result, and that matching never panics.
func FuzzParseExpression(f *testing.F) {
	for _, s := range []string{
		"topic=ftrack.update",
		`topic=ftrack.update and source.user.username="x"`,
		"not (a=1 or b!=2) and c>=3",
		"id='abc'",
		"topic=ftrack.*",
	} {
		f.Add(s)
	}
	cand := testCandidate()
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpression(s)
		if err != nil {
			return
		}
		canonical := e.String()
		again, err := ParseExpression(canonical)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canonical, s, err)
		}
		if again.String() != canonical {
			t.Fatalf("canonical form not stable: %q -> %q", canonical, again.String())
		}
		if e.Match(cand) != again.Match(cand) {
			t.Fatalf("%q and its canonical form %q match differently", s, canonical)
		}
	})
}
