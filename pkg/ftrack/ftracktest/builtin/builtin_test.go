package builtin_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

func TestSchemasDeterministic(t *testing.T) {
	t.Parallel()
	a, b := builtin.Schemas(), builtin.Schemas()
	if !bytes.Equal(a, b) {
		t.Fatal("Schemas() differs between calls")
	}
	a[0] = 'x'
	if builtin.Schemas()[0] != '[' {
		t.Fatal("changing the returned slice changed the package's copy")
	}
	set, err := schema.Parse(builtin.Schemas())
	if err != nil {
		t.Fatalf("Parse(Schemas()): %v", err)
	}
	if got, want := set.Hash(), builtin.SchemaSet().Hash(); got != want {
		t.Errorf("hash of Schemas() = %s, SchemaSet().Hash() = %s", got, want)
	}
}

func TestSchemaClosed(t *testing.T) {
	t.Parallel()
	if err := builtin.SchemaSet().Validate(); err != nil {
		t.Errorf("a $ref or items.$ref names a type outside the built-in schema:\n%v", err)
	}
}

func TestSchemaHasPipelineTypes(t *testing.T) {
	t.Parallel()
	want := []string{
		"Context", "TypedContext", "Project", "Episode", "Sequence", "Shot", "Folder", "AssetBuild", "Milestone", "Task",
		"Status", "State", "Type", "Priority", "ObjectType", "ProjectSchema", "WorkflowSchema", "WorkflowSchemaStatus",
		"TaskTypeSchema", "TaskTypeSchemaType", "Schema", "SchemaStatus", "SchemaType", "ProjectSchemaObjectType",
		"ProjectSchemaOverride", "User", "UserType", "Group", "Membership", "SecurityRole", "UserSecurityRole", "Resource",
		"Asset", "AssetType", "AssetVersion", "Note", "NoteCategory", "Appointment", "Timelog",
		"CustomAttributeConfiguration", "CustomAttributeType", "CustomAttributeGroup", "CustomAttributeValue",
		"ContextCustomAttributeValue", "AssetVersionCustomAttributeValue", "AssetCustomAttributeValue",
		"UserCustomAttributeValue", "Metadata", "Location", "Component", "FileComponent", "SequenceComponent",
		"ContainerComponent", "ComponentLocation", "Job", "List", "TypedContextList", "AssetVersionList", "ListObject",
		"ListCategory", "TypedContextLink", "AssetVersionLink", "StatusChange",
	}
	set := builtin.SchemaSet()
	for _, name := range want {
		if _, ok := set.Get(name); !ok {
			t.Errorf("type %s is missing", name)
		}
	}
}

func TestSchemaPolymorphism(t *testing.T) {
	t.Parallel()
	set := builtin.SchemaSet()
	cases := map[string]struct {
		reason string
		base   string
		want   []string
	}{
		"TypedContext": {reason: "classified by object type", base: "TypedContext", want: []string{"Episode", "Sequence", "Shot", "Folder", "AssetBuild", "Milestone", "Task"}},
		"Context":      {reason: "projects and typed contexts", base: "Context", want: []string{"Project", "Episode", "Sequence", "Shot", "Folder", "AssetBuild", "Milestone", "Task"}},
		"Resource":     {reason: "users and groups", base: "Resource", want: []string{"User", "Group"}},
		"Component":    {reason: "plain components and the three component kinds", base: "Component", want: []string{"Component", "FileComponent", "SequenceComponent", "ContainerComponent"}},
		"List":         {reason: "classified by entity", base: "List", want: []string{"TypedContextList", "AssetVersionList"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, set.ConcreteTypes(tc.base)); diff != "" {
				t.Errorf("%s: ConcreteTypes(%s) (-want +got):\n%s", tc.reason, tc.base, diff)
			}
		})
	}
	task, _ := set.Get("Task")
	p, _ := task.Property("object_type_id")
	if got, _ := p.DefaultValue(func() string { return "" }); got != builtin.TaskObjectTypeID {
		t.Errorf("Task.object_type_id default = %v, want %s", got, builtin.TaskObjectTypeID)
	}
}

func TestImpliedValues(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		typ    string
		want   map[string]any
	}{
		"Shot":      {reason: "discriminator and object type classifier", typ: "Shot", want: map[string]any{"context_type": "task", "object_type_id": builtin.ShotObjectTypeID}},
		"Project":   {reason: "projects are shows", typ: "Project", want: map[string]any{"context_type": "show"}},
		"File":      {reason: "component kind", typ: "FileComponent", want: map[string]any{"system_type": "file"}},
		"List":      {reason: "list classifier through alias_for entity", typ: "AssetVersionList", want: map[string]any{"system_type": "assetversion"}},
		"User":      {reason: "resource kind", typ: "User", want: map[string]any{"resource_type": "user"}},
		"Plain":     {reason: "nothing implied", typ: "Status", want: map[string]any{}},
		"Undefined": {reason: "unknown types imply nothing", typ: "Nope", want: map[string]any{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, builtin.ImpliedValues(tc.typ)); diff != "" {
				t.Errorf("%s: ImpliedValues(%s) (-want +got):\n%s", tc.reason, tc.typ, diff)
			}
		})
	}
	// Every implied attribute is a property of its type, and every concrete
	// subtype of a polymorphic root has its discriminator.
	set := builtin.SchemaSet()
	for _, root := range []string{"Context", "Resource", "Component"} {
		for _, typ := range set.ConcreteTypes(root) {
			implied := builtin.ImpliedValues(typ)
			if len(implied) == 0 {
				t.Errorf("%s (a %s) has no implied discriminator", typ, root)
			}
			sc, _ := set.Get(typ)
			for k := range implied {
				if _, ok := sc.Property(k); !ok {
					t.Errorf("%s: implied %s is not a property", typ, k)
				}
			}
		}
	}
}
