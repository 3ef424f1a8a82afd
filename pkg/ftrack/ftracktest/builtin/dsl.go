package builtin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// entityDef is one entity type under construction.
type entityDef struct {
	id                 string
	aliasFor           any
	primaryKey         []string
	required           []string
	immutable          []string
	computed           []string
	defaultProjections []string
	systemProjections  []string
	props              []prop
}

// prop is one property: its name and fragment.
type prop struct {
	name string
	frag fragment
}

// fragment is a property fragment; field order is the JSON key order.
type fragment struct {
	Type                 string          `json:"type,omitempty"`
	Ref                  string          `json:"$ref,omitempty"`
	Items                *itemsRef       `json:"items,omitempty"`
	Format               string          `json:"format,omitempty"`
	Default              json.RawMessage `json:"default,omitempty"`
	AliasFor             string          `json:"alias_for,omitempty"`
	Description          string          `json:"description,omitempty"`
	Enum                 []string        `json:"enum,omitempty"`
	KeyValueAttributes   *keyValue       `json:"key_value_attributes,omitempty"`
	Transform            *transform      `json:"transform,omitempty"`
	RestrictedProjection bool            `json:"restricted_projection,omitempty"`
}

type itemsRef struct {
	Ref string `json:"$ref"`
}

type keyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type transform struct {
	Client string `json:"client"`
	Server string `json:"server"`
}

type classifiedAlias struct {
	ID          string            `json:"id"`
	Classifiers map[string]string `json:"classifiers"`
}

// entity starts a type with the given primary key. Required, immutable and
// default projections default to the primary key.
func entity(id string, primaryKey ...string) *entityDef {
	return &entityDef{id: id, primaryKey: primaryKey}
}

func (e *entityDef) alias(table string) *entityDef { e.aliasFor = table; return e }

func (e *entityDef) classified(table, column, value string) *entityDef {
	e.aliasFor = classifiedAlias{ID: table, Classifiers: map[string]string{column: value}}
	return e
}

func (e *entityDef) req(names ...string) *entityDef  { e.required = names; return e }
func (e *entityDef) imm(names ...string) *entityDef  { e.immutable = names; return e }
func (e *entityDef) comp(names ...string) *entityDef { e.computed = names; return e }
func (e *entityDef) proj(names ...string) *entityDef { e.defaultProjections = names; return e }
func (e *entityDef) sys(names ...string) *entityDef  { e.systemProjections = names; return e }

// with appends properties; a later property of the same name replaces an
// earlier one in place.
func (e *entityDef) with(props ...[]prop) *entityDef {
	for _, group := range props {
		for _, p := range group {
			if i := slices.IndexFunc(e.props, func(q prop) bool { return q.name == p.name }); i >= 0 {
				e.props[i] = p
				continue
			}
			e.props = append(e.props, p)
		}
	}
	return e
}

// opt changes a fragment.
type opt func(*fragment)

// al sets the server column name.
func al(column string) opt { return func(f *fragment) { f.AliasFor = column } }

// def sets the default value.
func def(v any) opt {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("builtin: default %v: %v", v, err))
	}
	return func(f *fragment) { f.Default = b }
}

// enum sets the allowed values.
func enum(values ...string) opt { return func(f *fragment) { f.Enum = values } }

// asFK marks a string as a foreign key without naming its target.
func asFK(f *fragment) { f.Format = "foreign_key" }

// tableTransform is the parent_type transform: schema id on the client, table
// name on the server.
func tableTransform(f *fragment) {
	f.Transform = &transform{Client: "{schema_id}", Server: "{table_name}"}
}

func mk(name string, f fragment, opts []opt) []prop {
	for _, o := range opts {
		o(&f)
	}
	return []prop{{name: name, frag: f}}
}

func str(name string, o ...opt) []prop     { return mk(name, fragment{Type: "string"}, o) }
func boolean(name string, o ...opt) []prop { return mk(name, fragment{Type: "boolean"}, o) }
func integer(name string, o ...opt) []prop { return mk(name, fragment{Type: "integer"}, o) }
func number(name string, o ...opt) []prop  { return mk(name, fragment{Type: "number"}, o) }
func variable(name string, o ...opt) []prop {
	return mk(name, fragment{Type: "variable"}, o)
}
func object(name string, o ...opt) []prop { return mk(name, fragment{Type: "object"}, o) }

// datetime is a string with format date-time.
func datetime(name string, o ...opt) []prop {
	return mk(name, fragment{Type: "string", Format: "date-time"}, o)
}

// fk is a foreign key string column referring to target.id.
func fk(name, target string, o ...opt) []prop {
	return mk(name, fragment{Type: "string", Format: "foreign_key", Description: "Foreign key(s): " + target + ".id"}, o)
}

// ref is a scalar reference to target.
func ref(name, target string, o ...opt) []prop { return mk(name, fragment{Ref: target}, o) }

// array is a collection of target.
func array(name, target string, o ...opt) []prop {
	return mk(name, fragment{Type: "array", Items: &itemsRef{Ref: target}}, o)
}

// mapped is a key/value mapped_array of target items.
func mapped(name, target string, o ...opt) []prop {
	return mk(name, fragment{Type: "mapped_array", Items: &itemsRef{Ref: target}, KeyValueAttributes: &keyValue{Key: "key", Value: "value"}}, o)
}

// uid is the id property with a generated UUID default.
func uid(o ...opt) []prop {
	return mk("id", fragment{Type: "string", Default: json.RawMessage(`"{uid}"`)}, o)
}

// metadata is the metadata mapping of an entity.
func metadata() []prop { return mapped("metadata", "Metadata", al("meta")) }

// customAttributes is the custom attribute mapping with values of type target.
func customAttributes(target string) []prop {
	return mapped("custom_attributes", target, al("custom_attribute_values"))
}

// group concatenates property groups.
func group(groups ...[]prop) []prop {
	var out []prop
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// marshal renders one schema object with a fixed key order.
func (e *entityDef) marshal(buf *bytes.Buffer) error {
	or := func(v, fallback []string) []string {
		if v == nil {
			return fallback
		}
		return v
	}
	head := struct {
		ID                 string   `json:"id"`
		Type               string   `json:"type"`
		AliasFor           any      `json:"alias_for,omitempty"`
		PrimaryKey         []string `json:"primary_key"`
		Required           []string `json:"required"`
		Immutable          []string `json:"immutable"`
		Computed           []string `json:"computed,omitempty"`
		DefaultProjections []string `json:"default_projections"`
		SystemProjections  []string `json:"system_projections,omitempty"`
	}{
		ID:                 e.id,
		Type:               "object",
		AliasFor:           e.aliasFor,
		PrimaryKey:         e.primaryKey,
		Required:           or(e.required, e.primaryKey),
		Immutable:          or(e.immutable, e.primaryKey),
		Computed:           e.computed,
		DefaultProjections: or(e.defaultProjections, e.primaryKey),
		SystemProjections:  e.systemProjections,
	}
	b, err := json.Marshal(head)
	if err != nil {
		return fmt.Errorf("builtin: type %s: %w", e.id, err)
	}
	buf.Write(b[:len(b)-1])
	buf.WriteString(`,"properties":{`)
	for i, p := range e.props {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(p.name)
		buf.Write(k)
		buf.WriteByte(':')
		f, err := json.Marshal(p.frag)
		if err != nil {
			return fmt.Errorf("builtin: type %s: property %s: %w", e.id, p.name, err)
		}
		buf.Write(f)
	}
	buf.WriteString("}}")
	return nil
}
