package controllers

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
)

// changeKind says which part of an entity a change is about.
type changeKind int

const (
	changeAttribute changeKind = iota + 1
	changeReference
	changeCustomAttribute
	changeMetadata
)

// change is one difference between the spec and ftrack.
type change struct {
	kind changeKind
	name string
	want any
	have any
	// haveSet is false when ftrack holds no value (a metadata key or custom attribute that
	// does not exist yet).
	haveSet bool
}

// path is the change's name as reported in status.lastDrift.
func (c change) path() string {
	switch c.kind {
	case changeCustomAttribute:
		return "customAttributes." + c.name
	case changeMetadata:
		return "metadata." + c.name
	case changeReference:
		return "references." + c.name
	}
	return "attributes." + c.name
}

// report is the change as a status entry.
func (c change) report() v1alpha1.AttributeDrift {
	d := v1alpha1.AttributeDrift{Name: c.path(), Expected: canonical(c.want)}
	if c.haveSet {
		d.Actual = canonical(c.have)
	}
	return d
}

// normalize maps a value from the spec or from ftrack to a canonical form, so that equal
// values never look different: datetimes become UTC RFC 3339 text without fractions (the
// server keeps whole seconds), every number a float64, dates their YYYY-MM-DD form at
// midnight UTC, entities their id, and lists and objects are normalised element by element.
func normalize(v any) any {
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
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	return fmt.Sprint(v)
}

// equalValues reports whether a and b are the same after normalisation.
func equalValues(a, b any) bool {
	na, nb := normalize(a), normalize(b)
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

// canonical renders a value for status and Events.
func canonical(v any) string {
	n := normalize(v)
	if f, ok := n.(float64); ok {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	data, err := json.Marshal(n)
	if err != nil {
		return fmt.Sprint(n)
	}
	return truncate(string(data), 256)
}

// diffEntity lists what must change in ftrack for have to equal want. Metadata and custom
// attributes the spec does not name are left alone.
func diffEntity(want *desiredEntity, have *observedEntity) []change {
	var out []change
	for _, name := range sortedKeys(want.attrs) {
		w := want.attrs[name]
		h, ok := have.attrs[name]
		if !ok || !equalValues(w, h) {
			out = append(out, change{kind: changeAttribute, name: name, want: w, have: h, haveSet: ok})
		}
	}
	for _, name := range sortedKeys(want.refs) {
		w := want.refs[name].id
		h, ok := have.refs[name]
		if !ok || w != h {
			var hv any
			if ok && h != "" {
				hv = h
			}
			out = append(out, change{kind: changeReference, name: name, want: w, have: hv, haveSet: ok})
		}
	}
	for _, key := range sortedKeys(want.custom) {
		w := want.custom[key].value
		h, ok := have.custom[key]
		if !ok || !equalValues(w, h) {
			out = append(out, change{kind: changeCustomAttribute, name: key, want: w, have: h, haveSet: ok})
		}
	}
	for _, key := range sortedKeys(want.metadata) {
		w := want.metadata[key]
		h, ok := have.metadata[key]
		if !ok || w != h {
			out = append(out, change{kind: changeMetadata, name: key, want: w, have: h, haveSet: ok})
		}
	}
	return out
}

// driftReport is the status entry of changes seen at now; at most 32 are listed.
func driftReport(changes []change, now time.Time, deleted, corrected bool) *v1alpha1.DriftReport {
	r := &v1alpha1.DriftReport{Time: metaTime(now), Deleted: deleted, Corrected: corrected}
	for _, c := range changes {
		if len(r.Attributes) == 32 {
			break
		}
		r.Attributes = append(r.Attributes, c.report())
	}
	sort.SliceStable(r.Attributes, func(i, j int) bool { return r.Attributes[i].Name < r.Attributes[j].Name })
	return r
}

// changeNames lists the paths of changes for messages.
func changeNames(changes []change) []string {
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = c.path()
	}
	return out
}
