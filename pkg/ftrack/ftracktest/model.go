package ftracktest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// model is the emulator's view of a schema.Set: entity types with their
// properties, the polymorphic families and the relations resolved to foreign
// keys. It is built once per server and read-only afterwards.
type model struct {
	set   *schema.Set
	types map[string]*entityType
	order []*entityType
}

// entityType is one schema type with everything the store needs precomputed.
type entityType struct {
	s *schema.Schema
	// name is the schema id.
	name string
	// concrete lists the storable types a query on this type returns: the
	// type itself (unless abstract) and all its subtypes.
	concrete []*entityType
	// bases lists the types this type is a subtype of (not itself).
	bases []*entityType
	// abstract types are never stored: Context, TypedContext, Resource, ...
	abstract bool
	// refFK maps a scalar reference attribute to its foreign-key attribute.
	refFK map[string]string
	// inverse maps a collection attribute to the foreign-key attribute of the
	// item type that points back at the owner.
	inverse map[string]string
	// system lists the attributes always returned.
	system []string
	// legacy is the lowercase legacy entity type of ftrack.update events and
	// of CustomAttributeConfiguration.entity_type.
	legacy string
	// aliasOf maps attribute names to legacy column names.
	aliasOf map[string]string
}

// is reports whether t is base or a subtype of base.
func (t *entityType) is(base string) bool {
	if t.name == base {
		return true
	}
	for _, b := range t.bases {
		if b.name == base {
			return true
		}
	}
	return false
}

func (t *entityType) prop(name string) (*schema.Property, bool) {
	return t.s.Property(name)
}

// column returns the legacy column name of attribute name.
func (t *entityType) column(name string) string {
	if c, ok := t.aliasOf[name]; ok {
		return c
	}
	return name
}

// relationOverrides names foreign keys the naming conventions do not find:
// type.attribute → foreign-key attribute (of the owner for scalar
// references, of the item type for collections). "Base.attr" applies to all
// subtypes.
var relationOverrides = map[string]string{
	"Asset.parent":                                 "context_id",
	"Context.assets":                               "context_id",
	"Context.notes":                                "parent_id",
	"AssetVersion.notes":                           "parent_id",
	"ReviewSessionObject.notes":                    "parent_id",
	"Note.author":                                  "user_id",
	"Note.replies":                                 "in_reply_to_id",
	"Context.children":                             "parent_id",
	"Group.children":                               "parent_id",
	"Context.timelogs":                             "context_id",
	"Context.assignments":                          "context_id",
	"Context.appointments":                         "context_id",
	"Context.allocations":                          "context_id",
	"Context.status_changes":                       "parent_id",
	"AssetVersion.status_changes":                  "parent_id",
	"Status.state":                                 "state_id",
	"Asset.versions":                               "asset_id",
	"AssetVersion.components":                      "version_id",
	"Component.component_locations":                "component_id",
	"Location.location_components":                 "location_id",
	"User.memberships":                             "user_id",
	"Group.memberships":                            "group_id",
	"User.timelogs":                                "user_id",
	"Resource.assignments":                         "resource_id",
	"Resource.appointments":                        "resource_id",
	"SchemaType.task_type":                         "type_id",
	"SchemaStatus.task_status":                     "status_id",
	"Schema.statuses":                              "schema_id",
	"Schema.types":                                 "schema_id",
	"ProjectSchema._schemas":                       "project_schema_id",
	"ProjectSchema._overrides":                     "project_schema_id",
	"ProjectSchema.task_workflow_schema_overrides": "project_schema_id",
	"ProjectSchema.object_type_schemas":            "project_schema_id",
	"List.owner":                                   "user_id",
	"Recipient.recipient":                          "resource_id",
	"Recipient.user":                               "resource_id",
}

// manyToMany describes collections held by a link type: owner.attr →
// {link type, link attribute pointing at the owner, link attribute pointing at the item}.
type linkRelation struct {
	link, ownerFK, itemFK string
}

var manyToMany = map[string]linkRelation{
	"WorkflowSchema.statuses":       {"WorkflowSchemaStatus", "workflow_schema_id", "status_id"},
	"TaskTypeSchema.types":          {"TaskTypeSchemaType", "task_type_schema_id", "type_id"},
	"ProjectSchema.object_types":    {"ProjectSchemaObjectType", "project_schema_id", "object_type_id"},
	"ObjectType.project_schemas":    {"ProjectSchemaObjectType", "object_type_id", "project_schema_id"},
	"AssetVersion.uses_versions":    {"AssetVersionLink", "to_id", "from_id"},
	"AssetVersion.used_in_versions": {"AssetVersionLink", "from_id", "to_id"},
	"TypedContextList.items":        {"ListObject", "list_id", "entity_id"},
	"AssetVersionList.items":        {"ListObject", "list_id", "entity_id"},
	"Context.incoming_links":        {"TypedContextLink", "to_id", ""},
	"Context.outgoing_links":        {"TypedContextLink", "from_id", ""},
}

// cascadeFKs are foreign keys whose rows are deleted with the row they point at.
var cascadeFKs = map[string]bool{
	"parent_id": true, "entity_id": true, "context_id": true, "asset_id": true,
	"version_id": true, "component_id": true, "note_id": true, "resource_id": true,
	"configuration_id": true, "user_id": true, "group_id": true, "list_id": true,
	"workflow_schema_id": true, "task_type_schema_id": true, "schema_id": true,
	"project_schema_id": false, "from_id": true, "to_id": true, "in_reply_to_id": true,
	"dashboard_id": true, "job_id": true, "review_session_id": true,
	"review_session_object_id": true,
}

func newModel(set *schema.Set) (*model, error) {
	m := &model{set: set, types: map[string]*entityType{}}
	for _, s := range set.Types() {
		t := &entityType{s: s, name: s.ID, refFK: map[string]string{}, inverse: map[string]string{}, aliasOf: map[string]string{}}
		for name, p := range s.Properties {
			if p.AliasFor != "" {
				t.aliasOf[name] = p.AliasFor
			}
		}
		t.system = s.SystemAttributes()
		m.types[t.name] = t
		m.order = append(m.order, t)
	}
	if len(m.order) == 0 {
		return nil, fmt.Errorf("ftracktest: the schema has no entity types")
	}
	// Families come from the schema package: Context → Project and the
	// TypedContext types, Component → FileComponent, …
	for _, t := range m.order {
		for _, b := range m.order {
			if b != t && set.IsA(t.name, b.name) {
				t.bases = append(t.bases, b)
			}
		}
		t.abstract = set.IsAbstract(t.name)
		for _, c := range set.ConcreteTypes(t.name) {
			t.concrete = append(t.concrete, m.types[c])
		}
	}
	// Types that are the same table under two names (NoteLabel is alias_for NoteCategory)
	// are one: a query on either returns the rows of both, and each stands for the other.
	tables := map[string][]*entityType{}
	for _, t := range m.order {
		if a := t.s.AliasFor; a != nil && a.Classifiers == nil && a.ID != "" {
			tables[a.ID] = append(tables[a.ID], t)
		}
	}
	for table, ts := range tables {
		if own, ok := m.types[table]; ok && !slices.Contains(ts, own) {
			ts = append(ts, own)
		}
		if len(ts) < 2 {
			continue
		}
		for _, t := range ts {
			for _, mate := range ts {
				if mate != t && !mate.abstract && !t.abstract {
					t.concrete = append(t.concrete, mate)
					t.bases = append(t.bases, mate)
				}
			}
		}
	}
	for _, t := range m.order {
		t.legacy = legacyName(t)
		m.resolveRelations(t)
	}
	return m, nil
}

func legacyName(t *entityType) string {
	switch {
	case t.is("Project"):
		return "show"
	case t.is("TypedContext"):
		return "task"
	case t.is("Context"):
		return "context"
	case t.is("List"):
		return "list"
	}
	if t.s.AliasFor != nil && t.s.AliasFor.Classifiers == nil {
		return strings.ToLower(t.s.AliasFor.ID)
	}
	return strings.ToLower(t.name)
}

// override looks up relationOverrides for t or one of its bases.
func override(t *entityType, attr string) (string, bool) {
	if fk, ok := relationOverrides[t.name+"."+attr]; ok {
		return fk, true
	}
	for _, b := range t.bases {
		if fk, ok := relationOverrides[b.name+"."+attr]; ok {
			return fk, true
		}
	}
	return "", false
}

func linkFor(t *entityType, attr string) (linkRelation, bool) {
	if l, ok := manyToMany[t.name+"."+attr]; ok {
		return l, true
	}
	for _, b := range t.bases {
		if l, ok := manyToMany[b.name+"."+attr]; ok {
			return l, true
		}
	}
	return linkRelation{}, false
}

// fkTarget returns the type a foreign-key property points at, read from its
// description ("Foreign key(s): Status.id").
func fkTarget(p *schema.Property) string {
	const prefix = "Foreign key(s): "
	if !strings.HasPrefix(p.Description, prefix) {
		return ""
	}
	rest := strings.TrimPrefix(p.Description, prefix)
	if i := strings.IndexAny(rest, ".,"); i >= 0 {
		rest = rest[:i]
	}
	return strings.TrimSpace(rest)
}

// aliasedForeignKey returns the foreign-key attribute of t whose column (alias_for) is the
// reference p's column with "id" or "_id" appended, or "".
func aliasedForeignKey(t *entityType, p *schema.Property) string {
	if p.AliasFor == "" {
		return ""
	}
	for fn, fp := range t.s.Properties {
		if fp.Format == "foreign_key" && (fp.AliasFor == p.AliasFor+"id" || fp.AliasFor == p.AliasFor+"_id") {
			return fn
		}
	}
	return ""
}

func (m *model) resolveRelations(t *entityType) {
	for name, p := range t.s.Properties {
		switch p.Kind() {
		case schema.KindReference:
			if fk, ok := override(t, name); ok {
				if _, exists := t.s.Properties[fk]; exists {
					t.refFK[name] = fk
					continue
				}
			}
			if _, ok := t.s.Properties[name+"_id"]; ok {
				t.refFK[name] = name + "_id"
				continue
			}
			// The schema's own word: a reference aliased to column X is held by the
			// foreign key aliased to Xid (ProjectSchema._task_workflow and
			// task_workflow_schema are both taskworkflow, held by task_workflow_schema_id,
			// alias taskworkflowid).
			if fk := aliasedForeignKey(t, p); fk != "" {
				t.refFK[name] = fk
				continue
			}
			// A unique foreign key to the referenced type.
			var cands []string
			for fn, fp := range t.s.Properties {
				if fp.Format == "foreign_key" && fkTarget(fp) == p.Ref {
					cands = append(cands, fn)
				}
			}
			if len(cands) == 1 {
				t.refFK[name] = cands[0]
				continue
			}
			// No foreign-key attribute in the schema (Status.state): the
			// store keeps the reference under a hidden attribute.
			t.refFK[name] = name + "_id"
		case schema.KindCollection:
			item, ok := m.types[p.ItemsRef]
			if !ok {
				continue
			}
			if fk, ok := override(t, name); ok {
				if _, exists := item.s.Properties[fk]; exists {
					t.inverse[name] = fk
					continue
				}
			}
			if _, ok := linkFor(t, name); ok {
				continue
			}
			// An item reference back at the owner (or one of its bases).
			var cands []string
			for rn, rp := range item.s.Properties {
				if rp.Kind() != schema.KindReference {
					continue
				}
				if rp.Ref == t.name || slices.ContainsFunc(t.bases, func(b *entityType) bool { return b.name == rp.Ref }) {
					if _, ok := item.s.Properties[rn+"_id"]; ok {
						cands = append(cands, rn+"_id")
					}
				}
			}
			if len(cands) == 0 {
				for fn, fp := range item.s.Properties {
					tgt := fkTarget(fp)
					if fp.Format == "foreign_key" && (tgt == t.name || slices.ContainsFunc(t.bases, func(b *entityType) bool { return b.name == tgt })) {
						cands = append(cands, fn)
					}
				}
			}
			slices.Sort(cands)
			if len(cands) == 1 {
				t.inverse[name] = cands[0]
			} else if slices.Contains(cands, "parent_id") {
				t.inverse[name] = "parent_id"
			}
		}
	}
}

// get returns the entity type called name; the query language also accepts
// other letter cases.
func (m *model) get(name string) (*entityType, bool) {
	if t, ok := m.types[name]; ok {
		return t, true
	}
	if s, ok := m.set.GetFold(name); ok {
		return m.types[s.ID], true
	}
	return nil, false
}
