package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Set holds all entity types of one server, in the order the server sent them.
// A Set is immutable after Parse and safe for concurrent use.
type Set struct {
	raw    []byte
	types  []*Schema
	byID   map[string]*Schema
	byFold map[string]*Schema

	// subtypes maps a type to its direct and indirect subtypes, in server order.
	subtypes map[string][]string

	hashOnce sync.Once
	hash     string
	hashErr  error
}

// Schema is one entity type of a query_schemas answer.
type Schema struct {
	// ID is the entity type name, the __entity_type__ value of its entities.
	ID string
	// PrimaryKey lists the identity attributes in entity_key order.
	PrimaryKey []string
	// Required lists the attributes the server requires on create.
	Required []string
	// Immutable lists the attributes that cannot change once set.
	Immutable []string
	// Computed lists the attributes the server computes.
	Computed []string
	// DefaultProjections lists the attributes selected when a query has no select.
	DefaultProjections []string
	// SystemProjections lists the server-side column names always returned.
	SystemProjections []string
	// Properties holds the attribute definitions by name.
	Properties map[string]*Property
	// PropertyOrder lists the property names in source order.
	PropertyOrder []string
	// AliasFor is the server-side table or subtype mapping; nil when absent.
	AliasFor *AliasFor
	// Raw is the schema object exactly as received.
	Raw json.RawMessage

	required, immutable, computed, primary map[string]struct{}
	byAlias                                map[string]string
}

// AliasFor is a schema's alias_for: either a plain legacy table name
// ("Show", "TaskStatus"), held in ID with nil Classifiers, or an object naming
// the table and the classifier column values that select this subtype, e.g.
// {"id": "Task", "classifiers": {"object_typeid": "bad911de-…"}}.
type AliasFor struct {
	// ID is the aliased table or type name.
	ID string
	// Classifiers maps server column names to the values that identify this
	// subtype; nil for the plain form.
	Classifiers map[string]string
}

// Property is one attribute definition (a property fragment) of a Schema.
type Property struct {
	// Name is the attribute name.
	Name string
	// Type is "string", "integer", "number", "boolean", "variable", "object",
	// "array", "mapped_array", or "" for a scalar reference.
	Type string
	// Ref is the referenced type ($ref) of a scalar reference.
	Ref string
	// ItemsRef is the item type (items.$ref) of an array or mapped_array.
	ItemsRef string
	// Format is "foreign_key", "date-time", "json", ... or "".
	Format string
	// Default is the decoded default (numbers as float64); nil if none.
	Default any
	// HasDefault reports whether the fragment has a default, which may be null.
	HasDefault bool
	// AliasFor is the server column or relation name, or "".
	AliasFor string
	// Description is the fragment's description, or "".
	Description string
	// Enum lists the allowed values; nil when unrestricted.
	Enum []string
	// KeyValue names the key and value attributes of a mapped_array's items.
	KeyValue *KeyValue
	// Transform is the client/server value transform (parent_type columns).
	Transform *Transform
	// RestrictedProjection marks attributes that cannot be projected.
	RestrictedProjection bool
	// Raw is the fragment exactly as received.
	Raw json.RawMessage
}

// KeyValue is a mapped_array's key_value_attributes.
type KeyValue struct {
	// Key is the item attribute used as the mapping key.
	Key string `json:"key"`
	// Value is the item attribute used as the mapping value.
	Value string `json:"value"`
}

// Transform is a property's transform: how the value differs between the
// client ("{schema_id}") and the server ("{table_name}").
type Transform struct {
	// Client is the client-side form.
	Client string `json:"client"`
	// Server is the server-side form.
	Server string `json:"server"`
}

// Kind is the kind of attribute the Python client builds for a property.
type Kind int

// Kinds of attributes, mirroring ftrack_api.entity.factory.Factory.create.
const (
	// KindUnknown: the Python client makes no attribute of the property
	// (no type and no $ref, an unknown type, a restricted projection, or a
	// mapped_array of items other than Metadata and *CustomAttributeValue).
	KindUnknown Kind = iota
	// KindScalar: string, integer, number, boolean, variable or object.
	KindScalar
	// KindDateTime: a string with format date-time.
	KindDateTime
	// KindReference: no type and a $ref.
	KindReference
	// KindCollection: an array of references.
	KindCollection
	// KindMapped: a key/value mapped collection (metadata, custom attributes).
	KindMapped
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindScalar:
		return "scalar"
	case KindDateTime:
		return "datetime"
	case KindReference:
		return "reference"
	case KindCollection:
		return "collection"
	case KindMapped:
		return "mapped"
	default:
		return "unknown"
	}
}

// Kind returns the kind of attribute the Python client builds for p.
func (p *Property) Kind() Kind {
	if p.RestrictedProjection {
		return KindUnknown
	}
	switch p.Type {
	case "string":
		if p.Format == "date-time" {
			return KindDateTime
		}
		return KindScalar
	case "integer", "number", "boolean", "variable", "object":
		return KindScalar
	case "array":
		return KindCollection
	case "mapped_array":
		if p.ItemsRef == "Metadata" || strings.HasSuffix(p.ItemsRef, "CustomAttributeValue") {
			return KindMapped
		}
		return KindUnknown
	case "":
		if p.Ref != "" {
			return KindReference
		}
	}
	return KindUnknown
}

// DefaultUID is the default value that stands for a newly generated UUID.
const DefaultUID = "{uid}"

// DefaultValue returns the value a new entity gets for p when none is given:
// newUUID() for the "{uid}" default, otherwise a deep copy of Default. It
// reports false when p has no default.
func (p *Property) DefaultValue(newUUID func() string) (any, bool) {
	if !p.HasDefault {
		return nil, false
	}
	if s, ok := p.Default.(string); ok && s == DefaultUID {
		return newUUID(), true
	}
	return deepCopy(p.Default), true
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}

// IsReference reports whether p refers to other entities: a scalar
// reference, an array or a mapped_array.
func (p *Property) IsReference() bool {
	return p.Ref != "" || p.ItemsRef != ""
}

// Target returns the referenced entity type: Ref or ItemsRef.
func (p *Property) Target() string {
	if p.Ref != "" {
		return p.Ref
	}
	return p.ItemsRef
}

// Property returns the property called name.
func (s *Schema) Property(name string) (*Property, bool) {
	p, ok := s.Properties[name]
	return p, ok
}

// PropertyByAlias returns the property whose alias_for is column, or the
// property called column when none is aliased to it.
func (s *Schema) PropertyByAlias(column string) (*Property, bool) {
	if name, ok := s.byAlias[column]; ok {
		return s.Properties[name], true
	}
	return s.Property(column)
}

// IsImmutable reports whether name is listed in immutable.
func (s *Schema) IsImmutable(name string) bool { _, ok := s.immutable[name]; return ok }

// IsRequired reports whether name is listed in required.
func (s *Schema) IsRequired(name string) bool { _, ok := s.required[name]; return ok }

// IsComputed reports whether name is listed in computed.
func (s *Schema) IsComputed(name string) bool { _, ok := s.computed[name]; return ok }

// IsPrimaryKey reports whether name is part of the primary key.
func (s *Schema) IsPrimaryKey(name string) bool { _, ok := s.primary[name]; return ok }

// Classifiers returns the subtype classifier values of s keyed by API
// attribute name, translating the server column names of alias_for through
// the properties' alias_for (object_typeid → object_type_id, entity →
// system_type). It returns nil for a type without classifiers.
func (s *Schema) Classifiers() map[string]string {
	if s.AliasFor == nil || s.AliasFor.Classifiers == nil {
		return nil
	}
	out := make(map[string]string, len(s.AliasFor.Classifiers))
	for col, v := range s.AliasFor.Classifiers {
		name := col
		if p, ok := s.PropertyByAlias(col); ok {
			name = p.Name
		}
		out[name] = v
	}
	return out
}

// SystemAttributes returns the API attribute names a server always returns
// for entities of s: the system_projections translated through the
// properties' alias_for, followed by the classifier attributes. Server
// columns without an API attribute (such as _casted_value) are left out.
func (s *Schema) SystemAttributes() []string {
	var out []string
	for _, col := range s.SystemProjections {
		if p, ok := s.PropertyByAlias(col); ok && !slices.Contains(out, p.Name) {
			out = append(out, p.Name)
		}
	}
	for _, name := range slices.Sorted(mapKeys(s.Classifiers())) {
		if _, ok := s.Properties[name]; ok && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Parse reads a query_schemas answer: a JSON array of schema objects. The
// input is copied; MarshalJSON returns it unchanged.
func Parse(data []byte) (*Set, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(data, &elems); err != nil {
		return nil, fmt.Errorf("schema: want a JSON array of schema objects: %w", err)
	}
	raw := bytes.Clone(data)
	set := &Set{
		raw:    raw,
		types:  make([]*Schema, 0, len(elems)),
		byID:   make(map[string]*Schema, len(elems)),
		byFold: make(map[string]*Schema, len(elems)),
	}
	for i, elem := range elems {
		sc, err := parseSchema(elem)
		if err != nil {
			return nil, fmt.Errorf("schema: element %d: %w", i, err)
		}
		if _, dup := set.byID[sc.ID]; dup {
			return nil, fmt.Errorf("schema: element %d: type %q: defined twice", i, sc.ID)
		}
		set.types = append(set.types, sc)
		set.byID[sc.ID] = sc
		if _, dup := set.byFold[strings.ToLower(sc.ID)]; !dup {
			set.byFold[strings.ToLower(sc.ID)] = sc
		}
	}
	set.subtypes = deriveSubtypes(set.types, set.byID)
	return set, nil
}

// UnmarshalJSON parses data with Parse into s, which must not be in use by
// other goroutines.
func (s *Set) UnmarshalJSON(data []byte) error {
	p, err := Parse(data)
	if err != nil {
		return err
	}
	s.raw, s.types, s.byID, s.byFold, s.subtypes = p.raw, p.types, p.byID, p.byFold, p.subtypes
	s.hashOnce, s.hash, s.hashErr = sync.Once{}, "", nil
	return nil
}

// MarshalJSON returns the query_schemas answer exactly as it was parsed.
func (s *Set) MarshalJSON() ([]byte, error) {
	return bytes.Clone(s.raw), nil
}

// Hash returns the schema_hash of the set as the ftrack server and the Python
// client compute it: HashJSON of the answer. It returns "" only if the answer
// cannot be re-encoded, which Parse has already ruled out.
func (s *Set) Hash() string {
	s.hashOnce.Do(func() { s.hash, s.hashErr = HashJSON(s.raw) })
	return s.hash
}

// Len returns the number of entity types.
func (s *Set) Len() int { return len(s.types) }

// Types returns the entity types in server order. The slice is a copy; the
// schemas are shared and must not be modified.
func (s *Set) Types() []*Schema { return slices.Clone(s.types) }

// Names returns the entity type names in server order.
func (s *Set) Names() []string {
	out := make([]string, len(s.types))
	for i, t := range s.types {
		out[i] = t.ID
	}
	return out
}

// Get returns the entity type called id (case-sensitive, as __entity_type__).
func (s *Set) Get(id string) (*Schema, bool) {
	sc, ok := s.byID[id]
	return sc, ok
}

// GetFold returns the entity type whose name equals id ignoring case, as the
// query language accepts "from task". An exact match wins.
func (s *Set) GetFold(id string) (*Schema, bool) {
	if sc, ok := s.byID[id]; ok {
		return sc, true
	}
	sc, ok := s.byFold[strings.ToLower(id)]
	return sc, ok
}

// Validate checks that the set is closed: every $ref and items.$ref names a
// type of the set. Parse does not require this, because a server may refer to
// types it does not publish.
func (s *Set) Validate() error {
	var errs []error
	for _, t := range s.types {
		for _, name := range t.PropertyOrder {
			p := t.Properties[name]
			if target := p.Target(); target != "" {
				if _, ok := s.byID[target]; !ok {
					errs = append(errs, fmt.Errorf("schema: type %q: property %q: refers to unknown type %q", t.ID, name, target))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// rawSchema is the wire form of a schema object.
type rawSchema struct {
	ID                 string          `json:"id"`
	PrimaryKey         []string        `json:"primary_key"`
	Required           []string        `json:"required"`
	Immutable          []string        `json:"immutable"`
	Computed           []string        `json:"computed"`
	DefaultProjections []string        `json:"default_projections"`
	SystemProjections  []string        `json:"system_projections"`
	AliasFor           json.RawMessage `json:"alias_for"`
	Properties         json.RawMessage `json:"properties"`
}

// rawProperty is the wire form of a property fragment.
type rawProperty struct {
	Type        string `json:"type"`
	Ref         string `json:"$ref"`
	Format      string `json:"format"`
	AliasFor    string `json:"alias_for"`
	Description string `json:"description"`
	Items       *struct {
		Ref string `json:"$ref"`
	} `json:"items"`
	Default              json.RawMessage `json:"default"`
	Enum                 []string        `json:"enum"`
	KeyValue             *KeyValue       `json:"key_value_attributes"`
	Transform            *Transform      `json:"transform"`
	RestrictedProjection bool            `json:"restricted_projection"`
}

func parseSchema(elem json.RawMessage) (*Schema, error) {
	var raw rawSchema
	err := json.Unmarshal(elem, &raw)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
	case errors.As(err, &te) && te.Field != "" && raw.ID != "":
		return nil, fmt.Errorf("type %q: %w", raw.ID, typeError(te))
	case errors.As(err, &te) && te.Field == "":
		return nil, fmt.Errorf("want a schema object, not JSON %s", te.Value)
	default:
		return nil, typeError(err)
	}
	if raw.ID == "" {
		return nil, errors.New(`missing "id"`)
	}
	sc := &Schema{
		ID:                 raw.ID,
		PrimaryKey:         raw.PrimaryKey,
		Required:           raw.Required,
		Immutable:          raw.Immutable,
		Computed:           raw.Computed,
		DefaultProjections: raw.DefaultProjections,
		SystemProjections:  raw.SystemProjections,
		Raw:                elem,
	}
	wrap := func(err error) error { return fmt.Errorf("type %q: %w", sc.ID, err) }
	if raw.AliasFor != nil && string(raw.AliasFor) != "null" {
		af, err := parseAliasFor(raw.AliasFor)
		if err != nil {
			return nil, wrap(err)
		}
		sc.AliasFor = af
	}
	if raw.Properties == nil {
		return nil, wrap(errors.New(`missing "properties"`))
	}
	if err := sc.parseProperties(raw.Properties); err != nil {
		return nil, wrap(err)
	}
	if len(sc.PrimaryKey) == 0 {
		return nil, wrap(errors.New(`"primary_key" is empty`))
	}
	for _, k := range sc.PrimaryKey {
		if _, ok := sc.Properties[k]; !ok {
			return nil, wrap(fmt.Errorf(`primary key %q is not a property`, k))
		}
	}
	sc.required = toSet(sc.Required)
	sc.immutable = toSet(sc.Immutable)
	sc.computed = toSet(sc.Computed)
	sc.primary = toSet(sc.PrimaryKey)
	return sc, nil
}

// typeError rewrites a JSON type mismatch to name the offending key.
func typeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%q: cannot use JSON %s as %s", te.Field, te.Value, te.Type)
	}
	return err
}

func (sc *Schema) parseProperties(raw json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf(`"properties": %w`, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New(`"properties": want an object`)
	}
	sc.Properties = make(map[string]*Property)
	sc.byAlias = make(map[string]string)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf(`"properties": %w`, err)
		}
		name := tok.(string) // Object keys are always strings.
		start := dec.InputOffset()
		var rp rawProperty
		err = dec.Decode(&rp)
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return fmt.Errorf("property %q: want an object, not JSON %s", name, te.Value)
		}
		if err != nil {
			return fmt.Errorf("property %q: %w", name, typeError(err))
		}
		frag := bytes.TrimLeft(raw[start:dec.InputOffset()], " \t\r\n:")
		p, err := newProperty(name, frag, &rp)
		if err != nil {
			return fmt.Errorf("property %q: %w", name, err)
		}
		if _, dup := sc.Properties[name]; !dup {
			sc.PropertyOrder = append(sc.PropertyOrder, name)
		}
		sc.Properties[name] = p
		if p.AliasFor != "" {
			if _, taken := sc.byAlias[p.AliasFor]; !taken {
				sc.byAlias[p.AliasFor] = name
			}
		}
	}
	return nil
}

func newProperty(name string, frag json.RawMessage, rp *rawProperty) (*Property, error) {
	p := &Property{
		Name:                 name,
		Type:                 rp.Type,
		Ref:                  rp.Ref,
		Format:               rp.Format,
		AliasFor:             rp.AliasFor,
		Description:          rp.Description,
		Enum:                 rp.Enum,
		KeyValue:             rp.KeyValue,
		Transform:            rp.Transform,
		RestrictedProjection: rp.RestrictedProjection,
		Raw:                  frag,
	}
	if rp.Items != nil {
		p.ItemsRef = rp.Items.Ref
	}
	if rp.Default != nil {
		p.HasDefault = true
		if err := json.Unmarshal(rp.Default, &p.Default); err != nil {
			return nil, fmt.Errorf(`"default": %w`, err)
		}
	}
	switch p.Type {
	case "array", "mapped_array":
		if p.ItemsRef == "" {
			return nil, fmt.Errorf("type %q without items.$ref", p.Type)
		}
	}
	return p, nil
}

func parseAliasFor(raw json.RawMessage) (*AliasFor, error) {
	var name string
	if err := json.Unmarshal(raw, &name); err == nil {
		if name == "" {
			return nil, errors.New(`"alias_for" is empty`)
		}
		return &AliasFor{ID: name}, nil
	}
	var obj struct {
		ID          string            `json:"id"`
		Classifiers map[string]string `json:"classifiers"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf(`"alias_for": want a string or {"id", "classifiers"}: %w`, err)
	}
	if obj.ID == "" {
		return nil, errors.New(`"alias_for": missing "id"`)
	}
	if obj.Classifiers == nil {
		obj.Classifiers = map[string]string{}
	}
	return &AliasFor{ID: obj.ID, Classifiers: obj.Classifiers}, nil
}

func toSet(names []string) map[string]struct{} {
	m := make(map[string]struct{}, len(names))
	for _, n := range names {
		m[n] = struct{}{}
	}
	return m
}
