package ftrack

import (
	"slices"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// attribute is one attribute of an entity type, resolved from its schema
// property. idx is its slot in the entity's value slices.
type attribute struct {
	name     string
	idx      int
	prop     *schema.Property
	kind     schema.Kind
	mutable  bool
	computed bool
	primary  bool
	integer  bool
}

// entityType is the client-side form of one schema: attribute slots by name.
type entityType struct {
	name    string
	schema  *schema.Schema
	attrs   []*attribute
	byName  map[string]*attribute
	primary []*attribute
}

func newEntityType(sc *schema.Schema) *entityType {
	t := &entityType{name: sc.ID, schema: sc, byName: make(map[string]*attribute, len(sc.Properties))}
	names := slices.Clone(sc.PropertyOrder)
	if len(names) == 0 {
		for n := range sc.Properties {
			names = append(names, n)
		}
		slices.Sort(names)
	}
	for _, name := range names {
		p := sc.Properties[name]
		if p == nil {
			continue
		}
		k := p.Kind()
		if k == schema.KindUnknown {
			continue
		}
		a := &attribute{
			name:     name,
			idx:      len(t.attrs),
			prop:     p,
			kind:     k,
			mutable:  !sc.IsImmutable(name),
			computed: sc.IsComputed(name),
			primary:  sc.IsPrimaryKey(name),
			integer:  p.Type == "integer",
		}
		t.attrs = append(t.attrs, a)
		t.byName[name] = a
	}
	for _, pk := range sc.PrimaryKey {
		a, ok := t.byName[pk]
		if !ok {
			// A primary key without a usable property still identifies the
			// entity: keep it as a plain scalar slot.
			a = &attribute{name: pk, idx: len(t.attrs), kind: schema.KindScalar, primary: true, prop: &schema.Property{Name: pk, Type: "string"}}
			t.attrs = append(t.attrs, a)
			t.byName[pk] = a
		}
		t.primary = append(t.primary, a)
	}
	return t
}

// attributeNames returns the attribute names in schema order.
func (t *entityType) attributeNames() []string {
	out := make([]string, len(t.attrs))
	for i, a := range t.attrs {
		out[i] = a.name
	}
	return out
}
