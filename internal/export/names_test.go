package export

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestNamesAreValidDistinctAndStable(t *testing.T) {
	type ent struct{ id, seq, shot string }
	ents := []ent{
		{"id-1", "sq010", "sh010"},
		{"id-2", "SQ010", "sh010"},           // differs from the first only by case
		{"id-3", "Reel 2.v3 plané", "sh010"}, // spaces, a dot, unicode
		{"id-4", "sq010", "sh 010"},          // a space in the shot
		{"id-5", "sq010", "sh-010"},          // the same label as the last, without loss
		{"id-6", "ショット", "sh010"},            // nothing of the name survives
		{"id-7", "sq010", strings.Repeat("very long name ", 30)},
		{"id-8", "..", "--"},
	}
	names := func() []string {
		n := newNamer()
		var out []string
		for _, e := range ents {
			out = append(out, n.name(e.id, "gullwing", e.seq, e.shot))
		}
		return out
	}
	first := names()
	seen := map[string]string{}
	for i, name := range first {
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			t.Errorf("%q → %q is not a valid object name: %v", ents[i].seq+"/"+ents[i].shot, name, errs)
		}
		if len(name) > maxName {
			t.Errorf("%q is longer than %d", name, maxName)
		}
		if other, ok := seen[name]; ok {
			t.Errorf("%s and %s both export as %q", other, ents[i].id, name)
		}
		seen[name] = ents[i].id
	}
	if first[0] != "gullwing-sq010-sh010" {
		t.Errorf("a name that loses nothing keeps its plain form: got %q", first[0])
	}
	if !strings.HasPrefix(first[1], "gullwing-sq010-sh010-") {
		t.Errorf("an upper-case sibling gets the plain form and a suffix: got %q", first[1])
	}
	if !strings.HasPrefix(first[2], "gullwing-reel-2-v3-plan-sh010-") {
		t.Errorf("spaces, dots and unicode become dashes: got %q", first[2])
	}
	if again := names(); strings.Join(again, ",") != strings.Join(first, ",") {
		t.Errorf("a second run names differently:\n%v\n%v", first, again)
	}
}

func TestLabel(t *testing.T) {
	for in, want := range map[string]struct {
		out   string
		lossy bool
	}{
		"sh010":    {"sh010", false},
		"SH010":    {"sh010", true},
		"a b":      {"a-b", true},
		"a  .b":    {"a-b", true},
		"-a-":      {"a", true},
		"é":        {"", true},
		"v1.2":     {"v1-2", true},
		"plain-ok": {"plain-ok", false},
		"a-":       {"a", true},
	} {
		out, lossy := label(in)
		if out != want.out || lossy != want.lossy {
			t.Errorf("label(%q) = %q, %v; want %q, %v", in, out, lossy, want.out, want.lossy)
		}
	}
}
