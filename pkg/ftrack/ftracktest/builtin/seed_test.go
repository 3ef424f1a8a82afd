package builtin_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// primaryKey renders a record's primary key.
func primaryKey(sc *schema.Schema, r builtin.Record) string {
	parts := make([]string, len(sc.PrimaryKey))
	for i, k := range sc.PrimaryKey {
		parts[i] = fmt.Sprint(r.Data[k])
	}
	return r.Type + "(" + strings.Join(parts, ",") + ")"
}

// fkTarget returns the type a foreign key column refers to, from the
// "Foreign key(s): Type.id" description the built-in schema writes.
func fkTarget(p *schema.Property) string {
	t, ok := strings.CutPrefix(p.Description, "Foreign key(s): ")
	if !ok {
		return ""
	}
	return strings.TrimSuffix(t, ".id")
}

func TestSeedRecords(t *testing.T) {
	t.Parallel()
	set := builtin.SchemaSet()
	seed := builtin.Seed()
	if len(seed.Records) == 0 {
		t.Fatal("Seed() is empty")
	}
	// byID maps every single-key id to the type of its record.
	byID := map[string]string{}
	keys := map[string]bool{}
	for _, r := range seed.Records {
		sc, ok := set.Get(r.Type)
		if !ok {
			t.Errorf("record of unknown type %s", r.Type)
			continue
		}
		if set.IsAbstract(r.Type) {
			t.Errorf("record of abstract type %s", r.Type)
		}
		key := primaryKey(sc, r)
		if keys[key] {
			t.Errorf("primary key %s seeded twice", key)
		}
		keys[key] = true
		if id, ok := r.Data["id"].(string); ok {
			if other, dup := byID[id]; dup {
				t.Errorf("id %s used by %s and %s", id, other, r.Type)
			}
			byID[id] = r.Type
		}
	}
	for _, r := range seed.Records {
		sc, ok := set.Get(r.Type)
		if !ok {
			continue
		}
		for _, name := range sc.Required {
			if _, ok := r.Data[name]; ok {
				continue
			}
			if p, ok := sc.Property(name); ok && p.HasDefault {
				continue
			}
			t.Errorf("%s lacks required %s", primaryKey(sc, r), name)
		}
		for name, v := range r.Data {
			p, ok := sc.Property(name)
			if !ok {
				t.Errorf("%s sets %s, which is not a property", primaryKey(sc, r), name)
				continue
			}
			switch {
			case p.Kind() == schema.KindReference:
				ref, ok := v.(map[string]any)
				if !ok {
					t.Errorf("%s.%s = %v, want an entity reference", primaryKey(sc, r), name, v)
					continue
				}
				typ, _ := ref["__entity_type__"].(string)
				id, _ := ref["id"].(string)
				if !set.IsA(typ, p.Ref) || byID[id] != typ {
					t.Errorf("%s.%s refers to %s %s, which is not a seeded %s", primaryKey(sc, r), name, typ, id, p.Ref)
				}
			case p.Kind() == schema.KindCollection || p.Kind() == schema.KindMapped:
				t.Errorf("%s sets collection %s; collections come from link records", primaryKey(sc, r), name)
			case fkTarget(p) != "":
				id, _ := v.(string)
				if typ, ok := byID[id]; !ok || !set.IsA(typ, fkTarget(p)) {
					t.Errorf("%s.%s = %v, which is not a seeded %s", primaryKey(sc, r), name, v, fkTarget(p))
				}
			}
		}
	}
}

func TestSeedWellKnown(t *testing.T) {
	t.Parallel()
	seed := builtin.Seed()
	set := builtin.SchemaSet()
	cases := map[string]struct {
		reason string
		typ    string
		id     string
		attr   string
		want   any
	}{
		"ServerLocation":  {reason: "Python finds locations by name", typ: "Location", id: builtin.ServerLocationID, attr: "name", want: "ftrack.server"},
		"OriginLocation":  {reason: "Python finds locations by name", typ: "Location", id: builtin.OriginLocationID, attr: "name", want: "ftrack.origin"},
		"UnmanagedLoc":    {reason: "Python finds locations by name", typ: "Location", id: builtin.UnmanagedLocationID, attr: "name", want: "ftrack.unmanaged"},
		"ReviewLocation":  {reason: "Python finds locations by name", typ: "Location", id: builtin.ReviewLocationID, attr: "name", want: "ftrack.review"},
		"ConnectLocation": {reason: "Python finds locations by name", typ: "Location", id: builtin.ConnectLocationID, attr: "name", want: "ftrack.connect"},
		"DefaultPriority": {reason: "the priority_id default exists", typ: "Priority", id: builtin.DefaultPriorityID, attr: "name", want: "None"},
		"NotStarted":      {reason: "the Not started status", typ: "Status", id: builtin.NotStartedStatusID, attr: "name", want: "Not started"},
		"BlockedState":    {reason: "state shorts", typ: "State", id: builtin.BlockedStateID, attr: "short", want: "BLOCKED"},
		"ProjectSchema":   {reason: "the default project schema", typ: "ProjectSchema", id: builtin.DefaultProjectSchemaID, attr: "task_workflow_schema_id", want: builtin.TaskWorkflowSchemaID},
		"TaskTypeable":    {reason: "tasks have types", typ: "ObjectType", id: builtin.TaskObjectTypeID, attr: "is_typeable", want: true},
		"SequenceStatus":  {reason: "sequences have no status of their own", typ: "ObjectType", id: builtin.SequenceObjectTypeID, attr: "is_statusable", want: false},
		"DefaultFilled":   {reason: "schema defaults are filled in", typ: "AssetType", id: builtin.GeometryAssetTypeID, attr: "component", want: "main"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, ok := seed.Find(tc.typ, tc.id)
			if !ok {
				t.Fatalf("%s: no %s %s", tc.reason, tc.typ, tc.id)
			}
			if diff := cmp.Diff(tc.want, r.Data[tc.attr]); diff != "" {
				t.Errorf("%s: %s.%s (-want +got):\n%s", tc.reason, tc.typ, tc.attr, diff)
			}
		})
	}
	// Every TypedContext subtype's object_type_id default is a seeded
	// ObjectType, and its ObjectType's flags agree with the schema's
	// immutable status and type.
	for _, typ := range set.ConcreteTypes("TypedContext") {
		sc, _ := set.Get(typ)
		p, _ := sc.Property("object_type_id")
		id, _ := p.Default.(string)
		ot, ok := seed.Find("ObjectType", id)
		if !ok {
			t.Errorf("%s: object_type_id default %q is not a seeded ObjectType", typ, id)
			continue
		}
		if got, want := ot.Data["is_statusable"], !sc.IsImmutable("status_id"); got != want {
			t.Errorf("%s: is_statusable = %v, but status_id mutable = %v", typ, got, want)
		}
		if got, want := ot.Data["is_typeable"], !sc.IsImmutable("type_id"); got != want {
			t.Errorf("%s: is_typeable = %v, but type_id mutable = %v", typ, got, want)
		}
	}
	states := map[string]bool{}
	for _, r := range seed.ByType("State") {
		states[r.Data["short"].(string)] = true
	}
	if diff := cmp.Diff(map[string]bool{"NOT_STARTED": true, "IN_PROGRESS": true, "DONE": true, "BLOCKED": true}, states); diff != "" {
		t.Errorf("state shorts (-want +got):\n%s", diff)
	}
}

// TestSeedProjectSchema walks the default project schema the way the
// clients do: task statuses and types through the workflows, other object
// types through their Schema.
func TestSeedProjectSchema(t *testing.T) {
	t.Parallel()
	seed := builtin.Seed()
	ps, ok := seed.Find("ProjectSchema", builtin.DefaultProjectSchemaID)
	if !ok {
		t.Fatal("no default project schema")
	}
	linked := func(typ, ownerKey, owner, memberKey string) []string {
		var out []string
		for _, r := range seed.ByType(typ) {
			if r.Data[ownerKey] == owner {
				out = append(out, r.Data[memberKey].(string))
			}
		}
		return out
	}
	taskStatuses := linked("WorkflowSchemaStatus", "workflow_schema_id", ps.Data["task_workflow_schema_id"].(string), "status_id")
	if !slices.Contains(taskStatuses, builtin.NotStartedStatusID) || !slices.Contains(taskStatuses, builtin.InProgressStatusID) {
		t.Errorf("task workflow statuses %v lack Not started or In progress", taskStatuses)
	}
	if got := linked("WorkflowSchemaStatus", "workflow_schema_id", ps.Data["asset_version_workflow_schema_id"].(string), "status_id"); len(got) == 0 {
		t.Error("the version workflow has no statuses")
	}
	taskTypes := linked("TaskTypeSchemaType", "task_type_schema_id", ps.Data["task_type_schema_id"].(string), "type_id")
	for _, want := range []string{builtin.GenericTypeID, builtin.AnimationTypeID, builtin.CompositingTypeID} {
		if !slices.Contains(taskTypes, want) {
			t.Errorf("task type schema lacks %s", want)
		}
	}
	objectTypes := linked("ProjectSchemaObjectType", "project_schema_id", builtin.DefaultProjectSchemaID, "object_type_id")
	for _, ot := range seed.ByType("ObjectType") {
		if !slices.Contains(objectTypes, ot.Data["id"].(string)) {
			t.Errorf("object type %s is not enabled in the default project schema", ot.Data["name"])
		}
	}
	for _, tc := range []struct {
		objectType string
		wantTypes  bool
	}{
		{builtin.ShotObjectTypeID, false},
		{builtin.AssetBuildObjectTypeID, true},
		{builtin.MilestoneObjectTypeID, true},
	} {
		var schemaID string
		for _, s := range seed.ByType("Schema") {
			if s.Data["project_schema_id"] == builtin.DefaultProjectSchemaID && s.Data["type_id"] == tc.objectType {
				schemaID = s.Data["id"].(string)
			}
		}
		if schemaID == "" {
			t.Errorf("no Schema for object type %s", tc.objectType)
			continue
		}
		if len(linked("SchemaStatus", "schema_id", schemaID, "status_id")) == 0 {
			t.Errorf("Schema of object type %s has no statuses", tc.objectType)
		}
		if got := len(linked("SchemaType", "schema_id", schemaID, "type_id")) > 0; got != tc.wantTypes {
			t.Errorf("Schema of object type %s has types = %v, want %v", tc.objectType, got, tc.wantTypes)
		}
	}
}

func TestSeedIsFresh(t *testing.T) {
	t.Parallel()
	a := builtin.Seed()
	a.Records[0].Data["name"] = "changed"
	a.Records = a.Records[:1]
	b := builtin.Seed()
	if len(b.Records) < 2 || b.Records[0].Data["name"] == "changed" {
		t.Error("changing one Seed() result changed another")
	}
}
