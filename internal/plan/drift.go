package plan

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
)

// ChangeKind says which part of an entity a Change is about.
type ChangeKind int

const (
	ChangeAttribute ChangeKind = iota + 1
	ChangeReference
	ChangeCustomAttribute
	ChangeMetadata
)

// Change is one difference between the spec and ftrack.
type Change struct {
	Kind ChangeKind
	Name string
	Want any
	Have any
	// HaveSet is false when ftrack holds no value (a metadata key or custom attribute that
	// does not exist yet).
	HaveSet bool
}

// path is the change's name as reported in status.lastDrift.
func (c Change) Path() string {
	switch c.Kind {
	case ChangeCustomAttribute:
		return "customAttributes." + c.Name
	case ChangeMetadata:
		return "metadata." + c.Name
	case ChangeReference:
		return "references." + c.Name
	}
	return "attributes." + c.Name
}

// report is the Change as a status entry.
func (c Change) Report() v1alpha1.AttributeDrift {
	d := v1alpha1.AttributeDrift{Name: c.Path(), Expected: Canonical(c.Want)}
	if c.HaveSet {
		d.Actual = Canonical(c.Have)
	}
	return d
}

// Normalize maps a value from the spec or from ftrack to a Canonical form, so that equal
// values never look different: datetimes become UTC RFC 3339 text without fractions (the
// server keeps whole seconds), every number a float64, dates their YYYY-MM-DD form at
// midnight UTC, entities their id, and lists and objects are normalised element by element.
func Normalize(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		return x.UTC().Truncate(time.Second).Format(time.RFC3339)
	case ftrack.Date:
		return x.Time().UTC().Format(time.RFC3339)
	case *ftrack.Entity:
		if x == nil {
			return nil
		}
		return x.ID()
	case float64:
		return x
	case float32:
		return float64(x)
	case int:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case string:
		return x
	case bool:
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Normalize(e)
		}
		return out
	}
	return fmt.Sprint(v)
}

// EqualValues reports whether a and b are the same after normalisation.
func EqualValues(a, b any) bool {
	na, nb := Normalize(a), Normalize(b)
	if fa, ok := na.(float64); ok {
		fb, ok := nb.(float64)
		return ok && (fa == fb || math.Abs(fa-fb) <= 1e-9*math.Max(math.Abs(fa), math.Abs(fb)))
	}
	if sa, ok := na.(string); ok {
		sb, ok := nb.(string)
		return ok && sa == sb
	}
	ja, errA := json.Marshal(na)
	jb, errB := json.Marshal(nb)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// Canonical renders a value for status and Events.
func Canonical(v any) string {
	n := Normalize(v)
	if f, ok := n.(float64); ok {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	data, err := json.Marshal(n)
	if err != nil {
		return fmt.Sprint(n)
	}
	return Truncate(string(data), 256)
}

// Diff lists what must change in ftrack for have to equal want. Metadata and custom
// attributes the spec does not name are left alone.
func Diff(want *Desired, have *Observed) []Change {
	var out []Change
	for _, name := range slices.Sorted(maps.Keys(want.Attrs)) {
		w := want.Attrs[name]
		h, ok := have.Attrs[name]
		if !ok || !EqualValues(w, h) {
			out = append(out, Change{Kind: ChangeAttribute, Name: name, Want: w, Have: h, HaveSet: ok})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want.Refs)) {
		w := want.Refs[name].ID
		h, ok := have.Refs[name]
		if !ok || w != h {
			var hv any
			if ok && h != "" {
				hv = h
			}
			out = append(out, Change{Kind: ChangeReference, Name: name, Want: w, Have: hv, HaveSet: ok})
		}
	}
	for _, key := range slices.Sorted(maps.Keys(want.Custom)) {
		w := want.Custom[key].Value
		h, ok := have.Custom[key]
		if !ok || !EqualValues(w, h) {
			out = append(out, Change{Kind: ChangeCustomAttribute, Name: key, Want: w, Have: h, HaveSet: ok})
		}
	}
	for _, key := range slices.Sorted(maps.Keys(want.Metadata)) {
		w := want.Metadata[key]
		h, ok := have.Metadata[key]
		if !ok || w != h {
			out = append(out, Change{Kind: ChangeMetadata, Name: key, Want: w, Have: h, HaveSet: ok})
		}
	}
	return out
}

// DriftReport is the status entry of changes seen at now; at most 32 are listed.
func DriftReport(changes []Change, now time.Time, deleted, corrected bool) *v1alpha1.DriftReport {
	r := &v1alpha1.DriftReport{Time: metav1.NewTime(now.Truncate(time.Second)), Deleted: deleted, Corrected: corrected}
	for _, c := range changes {
		if len(r.Attributes) == 32 {
			break
		}
		r.Attributes = append(r.Attributes, c.Report())
	}
	sort.SliceStable(r.Attributes, func(i, j int) bool { return r.Attributes[i].Name < r.Attributes[j].Name })
	return r
}

// ChangeNames lists the paths of changes for messages.
func ChangeNames(changes []Change) []string {
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = c.Path()
	}
	return out
}
