package plan

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// serverFilledAttributes are attributes ftrack fills on every create, whatever the spec says:
// who and when, the link from the project down, and the legacy context type of contexts.
// They are read-only only where the type's schema also says so (see EntityType.serverSet):
// a type that declares one of these names as an ordinary attribute keeps it writable.
var serverFilledAttributes = map[string]bool{
	"created_at": true, "created_by": true, "created_by_id": true, "link": true, "context_type": true,
}

// EntityType is the part of the server's schema the reconciler needs for one type.
type EntityType struct {
	set *schema.Set
	s   *schema.Schema
}

// LookupType returns the schema of spec.entityType, or a SpecError.
func LookupType(set *schema.Set, typ string) (EntityType, error) {
	s, ok := set.Get(typ)
	if !ok {
		msg := fmt.Sprintf("entityType %q is not a type of the server's schema", typ)
		if f, ok := set.GetFold(typ); ok {
			msg += fmt.Sprintf("; did you mean %q?", f.ID)
		}
		return EntityType{}, &SpecError{Reason: v1alpha1.ReasonUnknownEntityType, Message: msg}
	}
	if set.IsAbstract(typ) {
		return EntityType{}, Errorf(v1alpha1.ReasonUnknownEntityType,
			"entityType %q is a base type that cannot be created; use one of its types: %s", typ, strings.Join(set.ConcreteTypes(typ), ", "))
	}
	if len(s.PrimaryKey) != 1 || s.PrimaryKey[0] != "id" {
		return EntityType{}, Errorf(v1alpha1.ReasonUnknownEntityType,
			"entityType %q is identified by %s, not by an id; only types with an id can be managed", typ, strings.Join(s.PrimaryKey, ", "))
	}
	return EntityType{set: set, s: s}, nil
}

// serverSet reports whether attribute name of the type is set by the server and so cannot
// be written by a spec: an attribute (or the foreign key of a relation) that is a subtype
// classifier is fixed by the entity type (Shot.object_type_id), and an attribute that ftrack
// fills on every create is the server's where the schema marks it immutable or gives it no
// default while requiring it (created_at, link, context_type). The rule follows the schema,
// not the name alone: CustomAttributeConfiguration.object_type_id, an ordinary attribute
// there, stays writable.
func (es EntityType) serverSet(name string) bool {
	classifiers := es.s.Classifiers()
	if _, ok := classifiers[name]; ok {
		return true
	}
	if fk := es.ForeignKey(name); fk != "" {
		if _, ok := classifiers[fk]; ok {
			return true
		}
	}
	if !serverFilledAttributes[name] {
		return false
	}
	if name == "context_type" {
		return es.set.IsA(es.s.ID, "Context")
	}
	return es.s.IsImmutable(name) || (name == "created_by" && es.s.IsImmutable("created_by_id"))
}

// HasMetadata reports whether the type has a metadata mapping.
func (es EntityType) HasMetadata() bool {
	p, ok := es.s.Property("metadata")
	return ok && p.Kind() == schema.KindMapped && p.ItemsRef == "Metadata"
}

// CustomAttributeType returns the value type of the type's custom attributes, or "".
func (es EntityType) CustomAttributeType() string {
	p, ok := es.s.Property("custom_attributes")
	if !ok || p.Kind() != schema.KindMapped {
		return ""
	}
	return p.ItemsRef
}

// ForeignKey returns the foreign-key attribute that holds the id of relation rel, or "".
func (es EntityType) ForeignKey(rel string) string {
	if p, ok := es.s.Property(rel + "_id"); ok && p.Format == "foreign_key" {
		return rel + "_id"
	}
	return ""
}

// RelationOfForeignKey returns the relation whose foreign key is attr, or "". Only an
// attribute the schema marks as a foreign key counts: CustomAttributeConfiguration's
// object_type_id sits beside an object_type relation but is a plain attribute.
func (es EntityType) RelationOfForeignKey(attr string) string {
	rel, ok := strings.CutSuffix(attr, "_id")
	if !ok {
		return ""
	}
	if p, ok := es.s.Property(attr); !ok || p.Format != "foreign_key" {
		return ""
	}
	if p, ok := es.s.Property(rel); ok && p.Kind() == schema.KindReference {
		return rel
	}
	return ""
}

// convertAttribute checks one spec attribute against its property and returns the value to
// send and to compare (see Normalize).
func (es EntityType) convertAttribute(name string, raw apiextensionsv1.JSON) (any, error) {
	typ := es.s.ID
	p, ok := es.s.Property(name)
	if !ok {
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "attributes.%s: %s has no attribute %q%s", name, typ, name, suggest(name, es.s.PropertyOrder))
	}
	switch {
	case es.s.IsPrimaryKey(name):
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "attributes.%s: the id is chosen by the operator; to take over an existing entity use spec.adopt.id", name)
	case es.s.IsComputed(name):
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "attributes.%s: %s.%s is computed by the server and cannot be set", name, typ, name)
	case es.serverSet(name):
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "attributes.%s: %s.%s is set by the server (it follows from the entity type or is filled on create) and is read-only", name, typ, name)
	case strings.HasPrefix(name, "_") || p.RestrictedProjection:
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "attributes.%s: %s.%s is read-only", name, typ, name)
	}
	if rel := es.RelationOfForeignKey(name); rel != "" {
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "attributes.%s: set the relation under references.%s (by FtrackEntity name, id or query) instead of its foreign key", name, rel)
	}
	switch p.Kind() {
	case schema.KindReference:
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "attributes.%s: %s.%s is a relation to %s; set it under references.%s", name, typ, name, p.Ref, name)
	case schema.KindCollection:
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "attributes.%s: %s.%s is a collection of %s, which FtrackEntity does not manage", name, typ, name, p.ItemsRef)
	case schema.KindMapped:
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "attributes.%s: set %s under spec.customAttributes or spec.metadata", name, name)
	case schema.KindUnknown:
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "attributes.%s: %s.%s cannot be set through the API", name, typ, name)
	}
	var v any
	if err := json.Unmarshal(raw.Raw, &v); err != nil {
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "attributes.%s: not valid JSON", name)
	}
	out, err := convertScalar(p, v)
	if err != nil {
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "attributes.%s: %s.%s %s", name, typ, name, err.Error())
	}
	if len(p.Enum) > 0 {
		if s, ok := out.(string); ok && !slices.Contains(p.Enum, s) {
			return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "attributes.%s: %q is not one of %s", name, s, strings.Join(p.Enum, ", "))
		}
	}
	return out, nil
}

// convertScalar checks a decoded JSON value against a scalar or datetime property.
func convertScalar(p *schema.Property, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if p.Kind() == schema.KindDateTime {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("is a datetime: give an RFC 3339 string such as \"2025-01-31T09:00:00Z\", not %s", jsonKind(v))
		}
		t, err := parseDateTime(s)
		if err != nil {
			return nil, fmt.Errorf("is a datetime: %q is not RFC 3339 (for example \"2025-01-31T09:00:00Z\" or \"2025-01-31\")", s)
		}
		return t, nil
	}
	switch p.Type {
	case "string":
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("is a string, not %s", jsonKind(v))
	case "integer":
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, fmt.Errorf("is an integer, not %s", jsonKind(v))
		}
		return f, nil
	case "number":
		if f, ok := v.(float64); ok {
			return f, nil
		}
		return nil, fmt.Errorf("is a number, not %s", jsonKind(v))
	case "boolean":
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("is a boolean, not %s", jsonKind(v))
	}
	return v, nil
}

// parseDateTime accepts RFC 3339 with or without fractional seconds and a bare date, and
// returns UTC truncated to seconds, as the server stores datetimes.
func parseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Second), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a datetime: %q", s)
}

// jsonKind names the JSON kind of a decoded value for messages.
func jsonKind(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", Truncate(x, 40))
	case float64:
		return fmt.Sprintf("the number %v", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// suggest returns "; did you mean …?" for a close property name, else "".
func suggest(name string, names []string) string {
	lower := strings.ToLower(name)
	var best string
	bestD := 3
	for _, n := range names {
		if d := editDistance(lower, strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// validateStatic checks what the spec says without asking ftrack: the type, the attributes,
// the reference attributes, metadata keys and adoption keys. It returns the converted
// attributes.
func validateStatic(es EntityType, spec *v1alpha1.FtrackEntitySpec) (map[string]any, error) {
	attrs := make(map[string]any, len(spec.Attributes))
	for _, name := range slices.Sorted(maps.Keys(spec.Attributes)) {
		v, err := es.convertAttribute(name, spec.Attributes[name])
		if err != nil {
			return nil, err
		}
		attrs[name] = v
	}
	for _, name := range slices.Sorted(maps.Keys(spec.References)) {
		if _, dup := spec.Attributes[name]; dup {
			return nil, Errorf(v1alpha1.ReasonInvalidReference, "references.%s: %s is also set under attributes; set it in one place", name, name)
		}
		p, ok := es.s.Property(name)
		if !ok {
			return nil, Errorf(v1alpha1.ReasonInvalidReference, "references.%s: %s has no attribute %q%s", name, es.s.ID, name, suggest(name, es.s.PropertyOrder))
		}
		if p.Kind() != schema.KindReference {
			return nil, Errorf(v1alpha1.ReasonInvalidReference, "references.%s: %s.%s is not a relation to one entity (it is %s)", name, es.s.ID, name, p.Kind())
		}
		if es.s.IsComputed(name) || es.serverSet(name) {
			return nil, Errorf(v1alpha1.ReasonInvalidReference, "references.%s: %s.%s is set by the server", name, es.s.ID, name)
		}
		if _, fkSet := spec.Attributes[name+"_id"]; fkSet {
			return nil, Errorf(v1alpha1.ReasonInvalidReference, "references.%s: %s_id is also set under attributes", name, name)
		}
		r := spec.References[name]
		if n := btoi(r.Name != "") + btoi(r.ID != "") + btoi(r.Query != ""); n != 1 {
			return nil, Errorf(v1alpha1.ReasonInvalidReference, "references.%s: set exactly one of name, id and query", name)
		}
	}
	if len(spec.Metadata) > 0 && !es.HasMetadata() {
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "metadata: %s entities have no metadata", es.s.ID)
	}
	if _, ok := spec.Metadata[v1alpha1.MetadataManagedBy]; ok {
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "metadata.%s is reserved: the operator sets it to mark the entities it manages", v1alpha1.MetadataManagedBy)
	}
	if len(spec.CustomAttributes) > 0 && es.CustomAttributeType() == "" {
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "customAttributes: %s entities have no custom attributes", es.s.ID)
	}
	if spec.Management == v1alpha1.ManagementObserve && spec.Adopt == nil {
		return nil, Errorf(v1alpha1.ReasonInvalidSpec, "management Observe reads an existing entity: name it with spec.adopt (id or match)")
	}
	if a := spec.Adopt; a != nil {
		if (a.ID == "") == (len(a.Match) == 0) {
			return nil, Errorf(v1alpha1.ReasonInvalidSpec, "adopt: set exactly one of id and match")
		}
		for _, k := range slices.Sorted(maps.Keys(a.Match)) {
			p, ok := es.s.Property(k)
			if !ok || (p.Kind() != schema.KindScalar && p.Kind() != schema.KindDateTime) {
				return nil, Errorf(v1alpha1.ReasonInvalidSpec, "adopt.match.%s: %s has no scalar attribute %q%s", k, es.s.ID, k, suggest(k, es.s.PropertyOrder))
			}
		}
	}
	return attrs, nil
}

// validateRequired checks, before anything is written, that a spec that creates an entity
// gives every attribute ftrack requires. A required attribute is missing only when the spec
// sets it neither as an attribute nor through its relation (references.<relation> for a
// foreign key, or the relation itself), and none of these hold:
//
//   - it is the primary key: the operator chooses the id;
//   - the schema gives it a default;
//   - it is a boolean: the server stores false;
//   - it is not a plain value (collections and mappings are never required on create);
//   - the server fills it on create (see serverFillsOnCreate).
//
// A typed context (a sequence, shot, task…) also needs its parent: the schema does not list
// parent_id as required, but in ftrack every context below a project sits under one, and its
// project follows from it. Without a parent the entity would belong to no project.
//
// Specs that only adopt or observe an existing entity create nothing and are not checked.
func validateRequired(es EntityType, spec *v1alpha1.FtrackEntitySpec, attrs map[string]any) error {
	if spec.Management == v1alpha1.ManagementObserve || spec.Adopt != nil {
		return nil
	}
	if es.set.IsA(es.s.ID, "TypedContext") {
		_, byRef := spec.References["parent"]
		if v, byKey := attrs["parent_id"]; !byRef && (!byKey || v == nil) {
			return Errorf(v1alpha1.ReasonMissingRequiredAttribute,
				"references.parent: a %s sits under a parent in ftrack (the project, or a context of it), which gives it its project; name the parent under references.parent", es.s.ID)
		}
	}
	for _, name := range es.s.Required {
		p, ok := es.s.Property(name)
		if !ok || es.s.IsPrimaryKey(name) || p.HasDefault || p.Type == "boolean" || es.serverFillsOnCreate(name) {
			continue
		}
		rel := ""
		switch p.Kind() {
		case schema.KindReference:
			rel = name
			if fk := es.ForeignKey(name); fk != "" && es.serverFillsOnCreate(fk) {
				continue
			}
		case schema.KindScalar, schema.KindDateTime:
			rel = es.RelationOfForeignKey(name)
			if rel != "" && es.serverFillsOnCreate(rel) {
				continue
			}
		default:
			continue
		}
		if v, set := attrs[name]; set && v != nil {
			continue
		}
		if rel != "" {
			if _, set := spec.References[rel]; set {
				continue
			}
			p, _ := es.s.Property(rel)
			return Errorf(v1alpha1.ReasonMissingRequiredAttribute, "references.%s: %s.%s is required by ftrack and has no default; name the %s under references.%s", rel, es.s.ID, rel, p.Ref, rel)
		}
		return Errorf(v1alpha1.ReasonMissingRequiredAttribute, "attributes.%s: %s.%s is required by ftrack and has no default; set it under attributes", name, es.s.ID, name)
	}
	return nil
}

// serverFillsOnCreate reports whether ftrack fills required attribute name itself when a
// create leaves it out: the attributes every create gets (see serverSet), the legacy type
// columns of contexts, components and resources, the workflow fields of typed contexts
// (status, type, project, bid and sort), a project's status, and the status of any other
// type that requires one (its "Not started" status).
func (es EntityType) serverFillsOnCreate(name string) bool {
	if es.serverSet(name) || serverFilledAttributes[name] {
		return true
	}
	typed := es.set.IsA(es.s.ID, "TypedContext")
	switch name {
	case "status_id", "status":
		return true
	case "type_id", "type", "project_id", "project", "bid", "sort":
		return typed
	case "system_type":
		return es.set.IsA(es.s.ID, "Component")
	case "resource_type":
		return es.set.IsA(es.s.ID, "Resource")
	}
	return false
}

// CheckReferenceType reports a SpecError when an entity of type got cannot be stored in
// relation rel.
func (es EntityType) CheckReferenceType(rel, got, via string) error {
	p, _ := es.s.Property(rel)
	if p == nil || es.set.IsA(got, p.Ref) {
		return nil
	}
	return Errorf(v1alpha1.ReasonInvalidReference, "references.%s: %s refers to a %s, but %s.%s holds a %s", rel, via, got, es.s.ID, rel, p.Ref)
}

// convertCustomAttribute checks a custom attribute value against its configuration's type.
func convertCustomAttribute(key string, cfg CustomAttributeConfig, raw apiextensionsv1.JSON) (any, error) {
	var v any
	if err := json.Unmarshal(raw.Raw, &v); err != nil {
		return nil, Errorf(v1alpha1.ReasonInvalidAttribute, "customAttributes.%s: not valid JSON", key)
	}
	bad := func(want string) error {
		return Errorf(v1alpha1.ReasonInvalidAttribute, "customAttributes.%s: the custom attribute is of type %s and needs %s, not %s", key, cfg.TypeName, want, jsonKind(v))
	}
	if v == nil {
		return nil, nil
	}
	switch cfg.TypeName {
	case "number":
		if _, ok := v.(float64); !ok {
			return nil, bad("a number")
		}
	case "text", "url", "expression":
		if _, ok := v.(string); !ok {
			return nil, bad("a string")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return nil, bad("a boolean")
		}
	case "date":
		s, ok := v.(string)
		if !ok {
			return nil, bad("an RFC 3339 string")
		}
		t, err := parseDateTime(s)
		if err != nil {
			return nil, bad("an RFC 3339 string")
		}
		return t, nil
	case "enumerator":
		if _, ok := v.([]any); !ok {
			if _, ok := v.(string); !ok {
				return nil, bad("a list of strings")
			}
		}
	}
	return v, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Validate checks spec against the server's schema set without asking ftrack — the entity
// type, the attributes and their values, the reference attributes, metadata, adoption and
// the attributes ftrack requires — and returns the Desired entity with its attributes and
// metadata. References, custom attributes and the id are the caller's to resolve. Errors
// are *SpecError.
func Validate(set *schema.Set, spec *v1alpha1.FtrackEntitySpec) (*Desired, error) {
	es, err := LookupType(set, spec.EntityType)
	if err != nil {
		return nil, err
	}
	attrs, err := validateStatic(es, spec)
	if err != nil {
		return nil, err
	}
	if err := validateRequired(es, spec, attrs); err != nil {
		return nil, err
	}
	d := &Desired{Type: es, Attrs: attrs, Refs: map[string]Ref{}, Custom: map[string]Custom{}, Metadata: map[string]string{}}
	for k, v := range spec.Metadata {
		d.Metadata[k] = v
	}
	return d, nil
}

// SettableAttributes lists the scalar and datetime attributes of the type that a spec may
// set under attributes (what Validate accepts), in schema order.
func (es EntityType) SettableAttributes() []string {
	var out []string
	for _, name := range es.s.PropertyOrder {
		p, _ := es.s.Property(name)
		if p == nil || es.s.IsPrimaryKey(name) || es.s.IsComputed(name) || es.serverSet(name) || strings.HasPrefix(name, "_") || p.RestrictedProjection || es.RelationOfForeignKey(name) != "" {
			continue
		}
		if k := p.Kind(); k == schema.KindScalar || k == schema.KindDateTime {
			out = append(out, name)
		}
	}
	return out
}

// SettableReferences lists the relations of the type that a spec may set under references,
// with the foreign key that holds each ("" when there is none), in schema order.
func (es EntityType) SettableReferences() map[string]string {
	out := map[string]string{}
	for _, name := range es.s.PropertyOrder {
		p, _ := es.s.Property(name)
		if p == nil || p.Kind() != schema.KindReference || es.s.IsComputed(name) || es.serverSet(name) {
			continue
		}
		out[name] = es.ForeignKey(name)
	}
	return out
}

// ServerDefault returns what ftrack stores in attribute name when a create leaves it out, when
// that is known: the schema's default, else what the server fills (0 for a typed context's bid
// and sort, "active" for a project's status).
func (es EntityType) ServerDefault(name string) (any, bool) {
	if p, ok := es.s.Property(name); ok && p.HasDefault {
		return p.Default, true
	}
	switch {
	case (name == "bid" || name == "sort") && es.set.IsA(es.s.ID, "TypedContext"):
		return 0.0, true
	case name == "status" && es.s.ID == "Project":
		return "active", true
	}
	return nil, false
}

// ServerFills reports whether ftrack fills attribute or relation name when a create leaves it
// out (the status, type and project of a typed context, for example).
func (es EntityType) ServerFills(name string) bool { return es.serverFillsOnCreate(name) }
