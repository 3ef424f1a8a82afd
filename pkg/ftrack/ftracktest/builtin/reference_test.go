package builtin_test

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// allowedDifferences lists, by "Type" or "Type.property", where the built-in
// schema knowingly differs from the recorded real server, and why. Nothing
// else may differ.
var allowedDifferences = map[string]string{
	// Nothing yet: every built-in type and property matches the recording.
}

// referenceSet parses ../shared/ftrack-reference/query_schemas.json beside
// the module root.
func referenceSet(tb testing.TB) *schema.Set {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("cannot locate the test source file")
	}
	dir := filepath.Dir(file)
	for range 16 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		dir = filepath.Dir(dir)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "..", "shared", "ftrack-reference", "query_schemas.json"))
	if err != nil {
		tb.Fatalf("read the reference schema: %v", err)
	}
	set, err := schema.Parse(raw)
	if err != nil {
		tb.Fatalf("parse the reference schema: %v", err)
	}
	return set
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// typeFacts are the facts of a type compared with the reference.
type typeFacts struct {
	PrimaryKey         []string
	Required           []string
	Immutable          []string
	Computed           []string
	DefaultProjections []string
	SystemProjections  []string
	AliasFor           *schema.AliasFor
}

func factsOf(s *schema.Schema) typeFacts {
	return typeFacts{
		PrimaryKey:         s.PrimaryKey,
		Required:           sorted(s.Required),
		Immutable:          sorted(s.Immutable),
		Computed:           sorted(s.Computed),
		DefaultProjections: s.DefaultProjections,
		SystemProjections:  sorted(s.SystemProjections),
		AliasFor:           s.AliasFor,
	}
}

// propertyFacts are the facts of a property compared with the reference;
// descriptions are ours.
type propertyFacts struct {
	Type, Ref, ItemsRef, Format, AliasFor string
	Default                               any
	HasDefault, RestrictedProjection      bool
	Enum                                  []string
	KeyValue                              *schema.KeyValue
	Transform                             *schema.Transform
	Kind                                  schema.Kind
}

func propertyFactsOf(p *schema.Property) propertyFacts {
	return propertyFacts{
		Type: p.Type, Ref: p.Ref, ItemsRef: p.ItemsRef, Format: p.Format, AliasFor: p.AliasFor,
		Default: p.Default, HasDefault: p.HasDefault, RestrictedProjection: p.RestrictedProjection,
		Enum: p.Enum, KeyValue: p.KeyValue, Transform: p.Transform, Kind: p.Kind(),
	}
}

func TestMatchesReference(t *testing.T) {
	t.Parallel()
	ref := referenceSet(t)
	ours := builtin.SchemaSet()
	for _, own := range ours.Types() {
		t.Run(own.ID, func(t *testing.T) {
			t.Parallel()
			real, ok := ref.Get(own.ID)
			if !ok {
				if _, allowed := allowedDifferences[own.ID]; !allowed {
					t.Fatalf("type %s is not in the reference and not allowed to differ", own.ID)
				}
				return
			}
			if _, allowed := allowedDifferences[own.ID]; !allowed {
				if diff := cmp.Diff(factsOf(real), factsOf(own)); diff != "" {
					t.Errorf("type %s differs from the reference (-reference +built-in):\n%s", own.ID, diff)
				}
			}
			for _, name := range own.PropertyOrder {
				key := own.ID + "." + name
				if _, allowed := allowedDifferences[key]; allowed {
					continue
				}
				rp, ok := real.Property(name)
				if !ok {
					t.Errorf("%s is not in the reference", key)
					continue
				}
				p, _ := own.Property(name)
				if diff := cmp.Diff(propertyFactsOf(rp), propertyFactsOf(p)); diff != "" {
					t.Errorf("%s differs from the reference (-reference +built-in):\n%s", key, diff)
				}
			}
		})
	}
}

func TestAllowedDifferencesAreUsed(t *testing.T) {
	t.Parallel()
	ours := builtin.SchemaSet()
	for key := range allowedDifferences {
		typ, prop, _ := cutDot(key)
		s, ok := ours.Get(typ)
		if !ok {
			t.Errorf("allowed difference %q names no built-in type", key)
			continue
		}
		if _, ok := s.Property(prop); prop != "" && !ok {
			t.Errorf("allowed difference %q names no built-in property", key)
		}
	}
}

func cutDot(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func TestPolymorphismMatchesReference(t *testing.T) {
	t.Parallel()
	ref := referenceSet(t)
	ours := builtin.SchemaSet()
	for _, base := range []string{"Context", "TypedContext", "Component", "Resource", "List"} {
		if diff := cmp.Diff(sorted(ref.ConcreteTypes(base)), sorted(ours.ConcreteTypes(base))); diff != "" {
			t.Errorf("ConcreteTypes(%s) (-reference +built-in):\n%s", base, diff)
		}
	}
}
