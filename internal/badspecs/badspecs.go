// Package badspecs holds the kinds of FtrackEntity spec that can never work, shared by the
// tests of the reconciler (which stalls on each without writing to ftrack) and of the
// validating webhook (which refuses each at admission with the same reason and message).
package badspecs

import (
	"encoding/json"
	"maps"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// Ids of what Seed adds to an emulator.
const (
	// ParentID is a project the shots of the cases are placed under.
	ParentID = "00000000-0000-4000-8000-0000000000aa"
	// FstartConfigID and BriefConfigID are custom attribute configurations: a number on
	// shots, a text on projects.
	FstartConfigID = "00000000-0000-4000-8000-00000000f001"
	BriefConfigID  = "00000000-0000-4000-8000-00000000f002"
	// TargetName is the FtrackEntity (a Shot) that ReferenceWrongTypeByName refers to; the
	// test creates it (see Target).
	TargetName = "a-shot"
)

// Seed returns the records the cases rely on.
func Seed() []ftracktest.Record {
	return []ftracktest.Record{
		{Type: "CustomAttributeConfiguration", Data: map[string]any{"id": FstartConfigID, "key": "fstart", "label": "Frame start", "entity_type": "task", "object_type_id": builtin.ShotObjectTypeID, "type_id": builtin.NumberCustomAttributeTypeID, "default": 1001, "config": "{}", "core": false}},
		{Type: "CustomAttributeConfiguration", Data: map[string]any{"id": BriefConfigID, "key": "brief", "label": "Brief", "entity_type": "show", "type_id": builtin.TextCustomAttributeTypeID, "default": "", "config": "{}", "core": false}},
		{Type: "Project", Data: map[string]any{"id": ParentID, "name": "seeded", "full_name": "Seeded", "project_schema_id": builtin.DefaultProjectSchemaID}},
	}
}

// Case is one kind of invalid spec.
type Case struct {
	Name        string
	Reason      string
	Type        string
	Mutate      func(*v1alpha1.FtrackEntity)
	WantReason  string
	WantMessage string
}

// JS turns a Go value into a spec JSON value.
func JS(v any) apiextensionsv1.JSON {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return apiextensionsv1.JSON{Raw: data}
}

// Attrs turns a map into spec attributes.
func Attrs(m map[string]any) map[string]apiextensionsv1.JSON {
	out := make(map[string]apiextensionsv1.JSON, len(m))
	for k, v := range m {
		out[k] = JS(v)
	}
	return out
}

func project(a map[string]any) func(*v1alpha1.FtrackEntity) {
	return func(e *v1alpha1.FtrackEntity) {
		base := map[string]any{"name": "p", "full_name": "P"}
		for k, v := range a {
			base[k] = v
		}
		e.Spec.Attributes = Attrs(base)
		e.Spec.References = map[string]v1alpha1.EntityReference{"project_schema": {ID: builtin.DefaultProjectSchemaID}}
	}
}

func shot(mutate func(*v1alpha1.FtrackEntity)) func(*v1alpha1.FtrackEntity) {
	return func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = Attrs(map[string]any{"name": "sh010"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: ParentID}}
		mutate(e)
	}
}

func task(refs map[string]v1alpha1.EntityReference) func(*v1alpha1.FtrackEntity) {
	return func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = Attrs(map[string]any{"name": "comp"})
		// Under the seeded project unless the case names another parent.
		e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: ParentID}}
		maps.Copy(e.Spec.References, refs)
	}
}

// Target makes e the FtrackEntity ReferenceWrongTypeByName refers to: a Shot, itself
// invalid so that it never writes.
func Target(e *v1alpha1.FtrackEntity) {
	shot(func(e *v1alpha1.FtrackEntity) { e.Spec.Attributes["bid"] = JS("lots") })(e)
}

// Cases returns the kinds of invalid spec.
func Cases() []Case {
	return []Case{
		{
			Name:   "UnknownType",
			Reason: "a type the schema lacks", Type: "shot", Mutate: func(*v1alpha1.FtrackEntity) {},
			WantReason: v1alpha1.ReasonUnknownEntityType, WantMessage: `did you mean "Shot"?`,
		},
		{
			Name:   "AbstractType",
			Reason: "a base type cannot be created", Type: "TypedContext", Mutate: func(*v1alpha1.FtrackEntity) {},
			WantReason: v1alpha1.ReasonUnknownEntityType, WantMessage: "base type that cannot be created",
		},
		{
			Name:   "UnknownAttribute",
			Reason: "a misspelt attribute", Type: "Project", Mutate: project(map[string]any{"ful_name": "x"}),
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: `did you mean "full_name"?`,
		},
		{
			Name:   "ComputedAttribute",
			Reason: "computed attributes are the server's", Type: "Project", Mutate: project(map[string]any{"thumbnail_url": "x"}),
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: "computed by the server",
		},
		{
			Name:   "ReadOnlyAttribute",
			Reason: "created_at is set by the server", Type: "Project", Mutate: project(map[string]any{"created_at": "2025-01-01T00:00:00Z"}),
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: "read-only",
		},
		{
			Name:   "IDAttribute",
			Reason: "the operator chooses the id", Type: "Project", Mutate: project(map[string]any{"id": "x"}),
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: "spec.adopt.id",
		},
		{
			Name:   "StringGivenNumber",
			Reason: "a number for a string", Type: "Project", Mutate: project(map[string]any{"full_name": 42}),
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: "is a string, not the number 42",
		},
		{
			Name:   "NumberGivenString",
			Reason: "a string for a number", Type: "Shot", Mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.Attributes["bid"] = JS("lots") }),
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: `is a number, not the string "lots"`,
		},
		{
			Name:   "BooleanGivenString",
			Reason: "a string for a boolean", Type: "Project", Mutate: project(map[string]any{"is_private": "yes"}),
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: "is a boolean",
		},
		{
			Name:   "BadDatetime",
			Reason: "a datetime that is not RFC 3339", Type: "Project", Mutate: project(map[string]any{"start_date": "next tuesday"}),
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: "is not RFC 3339",
		},
		{
			Name:   "RelationAsAttribute",
			Reason: "relations go under references", Type: "Shot", Mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.Attributes["status"] = JS("x") }),
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: "set it under references.status",
		},
		{
			Name:   "ForeignKeyAsAttribute",
			Reason: "foreign keys go under references", Type: "Shot", Mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.Attributes["type_id"] = JS("x") }),
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: "references.type",
		},
		{
			Name:   "CollectionAsAttribute",
			Reason: "collections are not managed", Type: "Project", Mutate: project(map[string]any{"children": []any{}}),
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: "is a collection",
		},
		{
			Name:   "ReferenceToScalar",
			Reason: "a reference needs a relation", Type: "Shot", Mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.References["description"] = v1alpha1.EntityReference{ID: "x"} }),
			WantReason: v1alpha1.ReasonInvalidReference, WantMessage: "is not a relation",
		},
		{
			Name:   "ReferenceUnknown",
			Reason: "a reference to an attribute the type lacks", Type: "Shot", Mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.References["supervisor"] = v1alpha1.EntityReference{ID: "x"} }),
			WantReason: v1alpha1.ReasonInvalidReference, WantMessage: `has no attribute "supervisor"`,
		},
		{
			Name:   "ReferenceWrongTypeByName",
			Reason: "a task's status cannot be a shot", Type: "Task", Mutate: task(map[string]v1alpha1.EntityReference{"status": {Name: TargetName}}),
			WantReason: v1alpha1.ReasonInvalidReference, WantMessage: "refers to a Shot, but Task.status holds a Status",
		},
		{
			Name:   "ReferenceWrongTypeByQuery",
			Reason: "a query that finds a type for a status", Type: "Task", Mutate: task(map[string]v1alpha1.EntityReference{"status": {Query: `Type where name is "Compositing"`}}),
			WantReason: v1alpha1.ReasonInvalidReference, WantMessage: "refers to a Type, but Task.status holds a Status",
		},
		{
			Name:   "UnknownCustomAttribute",
			Reason: "a custom attribute that does not apply", Type: "Shot", Mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.CustomAttributes = Attrs(map[string]any{"fstrt": 1}) }),
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: `did you mean "fstart"?`,
		},
		{
			Name:   "CustomAttributeWrongType",
			Reason: "a number custom attribute given text", Type: "Shot", Mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.CustomAttributes = Attrs(map[string]any{"fstart": "ten"}) }),
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: "of type number and needs a number",
		},
		{
			Name:   "ReservedMetadata",
			Reason: "the managed-by key is the operator's", Type: "Project", Mutate: func(e *v1alpha1.FtrackEntity) {
				project(nil)(e)
				e.Spec.Metadata = map[string]string{v1alpha1.MetadataManagedBy: "me"}
			},
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: "is reserved",
		},
		{
			Name:   "MetadataUnsupported",
			Reason: "statuses have no metadata", Type: "Status", Mutate: func(e *v1alpha1.FtrackEntity) {
				e.Spec.Attributes = Attrs(map[string]any{"name": "x", "is_active": true})
				e.Spec.Metadata = map[string]string{"a": "b"}
			},
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: "Status entities have no metadata",
		},
		{
			Name:   "ObserveWithoutAdopt",
			Reason: "observe-only needs an entity to observe", Type: "Project", Mutate: func(e *v1alpha1.FtrackEntity) {
				project(nil)(e)
				e.Spec.Management = v1alpha1.ManagementObserve
			},
			WantReason: v1alpha1.ReasonInvalidSpec, WantMessage: "spec.adopt",
		},
		{
			Name:   "AdoptByUnknownAttribute",
			Reason: "adoption keys must be attributes", Type: "Project", Mutate: func(e *v1alpha1.FtrackEntity) {
				project(nil)(e)
				e.Spec.Adopt = &v1alpha1.AdoptSpec{Match: map[string]string{"nmae": "x"}} //nolint:misspell // the misspelt key is what the test is about
			},
			WantReason: v1alpha1.ReasonInvalidSpec, WantMessage: `did you mean "name"?`,
		},
		{
			Name:   "MissingRequiredAttribute",
			Reason: "a project needs a project schema, which neither the schema nor the server fills", Type: "Project", Mutate: func(e *v1alpha1.FtrackEntity) {
				e.Spec.Attributes = Attrs(map[string]any{"name": "p", "full_name": "P"})
			},
			WantReason: v1alpha1.ReasonMissingRequiredAttribute, WantMessage: "Project.project_schema is required by ftrack",
		},
		{
			Name:   "ContextWithoutParent",
			Reason: "a shot with no parent would belong to no project", Type: "Shot", Mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.References = nil }),
			WantReason: v1alpha1.ReasonMissingRequiredAttribute, WantMessage: "references.parent: a Shot sits under a parent in ftrack",
		},
		{
			Name:   "MissingRequiredScalar",
			Reason: "a location needs a name before it is created", Type: "Location", Mutate: func(e *v1alpha1.FtrackEntity) {
				e.Spec.Attributes = Attrs(map[string]any{"label": "Studio disk"})
			},
			WantReason: v1alpha1.ReasonMissingRequiredAttribute, WantMessage: "attributes.name: Location.name is required",
		},
		{
			Name:   "ClassifierAttribute",
			Reason: "a shot's object type follows from its entity type", Type: "Shot", Mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.Attributes["object_type_id"] = JS(builtin.ShotObjectTypeID) }),
			WantReason: v1alpha1.ReasonInvalidAttribute, WantMessage: "Shot.object_type_id is set by the server",
		},
		{
			Name:   "InvalidQuery",
			Reason: "a query ftrack cannot parse", Type: "Task", Mutate: task(map[string]v1alpha1.EntityReference{"status": {Query: `Status whre name is "x"`}}),
			WantReason: v1alpha1.ReasonInvalidReference, WantMessage: "is not valid",
		},
	}
}
