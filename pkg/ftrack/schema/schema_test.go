package schema_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

func TestParseReference(t *testing.T) {
	t.Parallel()
	raw := readReference(t, "query_schemas.json")
	set, err := schema.Parse(raw)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, want := set.Len(), 116; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	if got, want := len(set.Types()), 116; got != want {
		t.Errorf("len(Types()) = %d, want %d", got, want)
	}
	if got, want := set.Types()[0].ID, "ListCustomAttributeLink"; got != want {
		t.Errorf("first type = %q, want %q (server order)", got, want)
	}
	if got, want := set.Hash(), referenceHash(t); got != want {
		t.Errorf("Hash() = %q, want %q", got, want)
	}
	if want := "23a1157b8b1730fd91c76f63dcd67a8f"; set.Hash() != want {
		t.Errorf("Hash() = %q, want documented %q", set.Hash(), want)
	}
	out, err := set.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, raw) {
		t.Error("MarshalJSON() differs from the parsed input")
	}
	if err := set.Validate(); err != nil {
		t.Errorf("Validate() of the reference: %v", err)
	}
}

func TestReferenceTypes(t *testing.T) {
	t.Parallel()
	set, err := schema.Parse(readReference(t, "query_schemas.json"))
	if err != nil {
		t.Fatal(err)
	}
	task, ok := set.Get("Task")
	if !ok {
		t.Fatal(`Get("Task") not found`)
	}
	if _, ok := set.Get("task"); ok {
		t.Error(`Get("task") found a type; Get must be case-sensitive`)
	}
	if got, ok := set.GetFold("task"); !ok || got != task {
		t.Errorf(`GetFold("task") = %v, %v; want Task`, got, ok)
	}
	if diff := cmp.Diff([]string{"id"}, task.PrimaryKey); diff != "" {
		t.Errorf("Task.PrimaryKey (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&schema.AliasFor{ID: "Task", Classifiers: map[string]string{"object_typeid": "11c137c0-ee7e-4f9c-91c5-8c77cec22b2c"}}, task.AliasFor); diff != "" {
		t.Errorf("Task.AliasFor (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"object_type_id": "11c137c0-ee7e-4f9c-91c5-8c77cec22b2c"}, task.Classifiers()); diff != "" {
		t.Errorf("Task.Classifiers() (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"project_id", "context_type", "object_type_id"}, task.SystemAttributes()); diff != "" {
		t.Errorf("Task.SystemAttributes() (-want +got):\n%s", diff)
	}
	if !task.IsImmutable("object_type_id") || task.IsImmutable("name") {
		t.Error("Task immutability of object_type_id / name is wrong")
	}
	if !task.IsRequired("status_id") || task.IsRequired("description") {
		t.Error("Task required status_id / description is wrong")
	}
	if !task.IsComputed("time_logged") || task.IsComputed("name") {
		t.Error("Task computed time_logged / name is wrong")
	}
	if !task.IsPrimaryKey("id") || task.IsPrimaryKey("name") {
		t.Error("Task primary key id / name is wrong")
	}
	if len(task.PropertyOrder) != len(task.Properties) {
		t.Errorf("Task: %d names in PropertyOrder, %d properties", len(task.PropertyOrder), len(task.Properties))
	}
	project, _ := set.Get("Project")
	if diff := cmp.Diff(&schema.AliasFor{ID: "Show"}, project.AliasFor); diff != "" {
		t.Errorf("Project.AliasFor (-want +got):\n%s", diff)
	}
	if p, ok := task.PropertyByAlias("showid"); !ok || p.Name != "project_id" {
		t.Errorf(`Task.PropertyByAlias("showid") = %v, %v; want project_id`, p, ok)
	}
	if p, ok := task.PropertyByAlias("name"); !ok || p.Name != "name" {
		t.Errorf(`Task.PropertyByAlias("name") = %v, %v; want name`, p, ok)
	}
	cacv, _ := set.Get("ContextCustomAttributeValue")
	if diff := cmp.Diff([]string{"entity_id", "key"}, cacv.SystemAttributes()); diff != "" {
		t.Errorf("ContextCustomAttributeValue.SystemAttributes() (-want +got):\n%s", diff)
	}
	tcl, _ := set.Get("TypedContextList")
	if diff := cmp.Diff(map[string]string{"system_type": "task"}, tcl.Classifiers()); diff != "" {
		t.Errorf("TypedContextList.Classifiers() (-want +got):\n%s", diff)
	}
}

func TestReferenceProperties(t *testing.T) {
	t.Parallel()
	set, err := schema.Parse(readReference(t, "query_schemas.json"))
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		kind       schema.Kind
		typ        string
		ref        string
		items      string
		format     string
		alias      string
		hasDefault bool
		dflt       any
		keyValue   *schema.KeyValue
		enum       []string
	}
	cases := map[string]struct {
		reason string
		typ    string
		prop   string
		want   want
	}{
		"TaskID": {
			reason: "the {uid} default of an id",
			typ:    "Task", prop: "id",
			want: want{kind: schema.KindScalar, typ: "string", hasDefault: true, dflt: "{uid}"},
		},
		"TaskStatus": {
			reason: "a scalar reference has no type",
			typ:    "Task", prop: "status",
			want: want{kind: schema.KindReference, ref: "Status"},
		},
		"TaskStatusID": {
			reason: "a foreign key column",
			typ:    "Task", prop: "status_id",
			want: want{kind: schema.KindScalar, typ: "string", format: "foreign_key", alias: "statusid"},
		},
		"TaskCreatedAt": {
			reason: "date-time strings become datetimes",
			typ:    "Task", prop: "created_at",
			want: want{kind: schema.KindDateTime, typ: "string", format: "date-time"},
		},
		"TaskPriorityID": {
			reason: "a fixed UUID default",
			typ:    "Task", prop: "priority_id",
			want: want{kind: schema.KindScalar, typ: "string", format: "foreign_key", alias: "priorityid", hasDefault: true, dflt: "9661b320-3a0c-11e2-81c1-0800200c9a66"},
		},
		"TaskMetadata": {
			reason: "metadata is a mapped collection",
			typ:    "Task", prop: "metadata",
			want: want{kind: schema.KindMapped, typ: "mapped_array", items: "Metadata", alias: "meta", keyValue: &schema.KeyValue{Key: "key", Value: "value"}},
		},
		"TaskCustomAttributes": {
			reason: "custom attributes are a mapped collection",
			typ:    "Task", prop: "custom_attributes",
			want: want{kind: schema.KindMapped, typ: "mapped_array", items: "ContextCustomAttributeValue", alias: "custom_attribute_values", keyValue: &schema.KeyValue{Key: "key", Value: "value"}},
		},
		"AssetLinks": {
			reason: "restricted projections are skipped by Python",
			typ:    "Asset", prop: "custom_attribute_links",
			want: want{kind: schema.KindUnknown, typ: "mapped_array", items: "CustomAttributeLink"},
		},
		"AssetVersions": {
			reason: "arrays are collections",
			typ:    "Asset", prop: "versions",
			want: want{kind: schema.KindCollection, typ: "array", items: "AssetVersion"},
		},
		"AssetVersionPublished": {
			reason: "a boolean default",
			typ:    "AssetVersion", prop: "is_published",
			want: want{kind: schema.KindScalar, typ: "boolean", alias: "ispublished", hasDefault: true, dflt: true},
		},
		"ComponentSize": {
			reason: "a numeric default decodes to float64",
			typ:    "Component", prop: "size",
			want: want{kind: schema.KindScalar, typ: "integer", hasDefault: true, dflt: float64(0)},
		},
		"JobStatus": {
			reason: "the only enum of the reference",
			typ:    "Job", prop: "status",
			want: want{kind: schema.KindScalar, typ: "string", hasDefault: true, dflt: "queued", enum: []string{"queued", "running", "done", "failed"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc, ok := set.Get(tc.typ)
			if !ok {
				t.Fatalf("type %q missing", tc.typ)
			}
			p, ok := sc.Property(tc.prop)
			if !ok {
				t.Fatalf("%s.%s missing", tc.typ, tc.prop)
			}
			got := want{kind: p.Kind(), typ: p.Type, ref: p.Ref, items: p.ItemsRef, format: p.Format, alias: p.AliasFor, hasDefault: p.HasDefault, dflt: p.Default, keyValue: p.KeyValue, enum: p.Enum}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s: %s.%s (-want +got):\n%s", tc.reason, tc.typ, tc.prop, diff)
			}
		})
	}
}

func TestSubtypes(t *testing.T) {
	t.Parallel()
	set, err := schema.Parse(readReference(t, "query_schemas.json"))
	if err != nil {
		t.Fatal(err)
	}
	typed := []string{"Milestone", "Task", "Shot", "Episode", "AssetBuild", "Folder", "Sequence"}
	cases := map[string]struct {
		reason   string
		base     string
		concrete []string
		abstract bool
	}{
		"TypedContext": {
			reason: "classified by alias_for object_typeid",
			base:   "TypedContext", concrete: typed, abstract: true,
		},
		"Context": {
			reason: "Project plus the TypedContext subtypes, by context_type",
			base:   "Context", concrete: []string{"Milestone", "Task", "Project", "Shot", "Episode", "AssetBuild", "Folder", "Sequence"}, abstract: true,
		},
		"Component": {
			reason: "discriminated by system_type, with rows of its own",
			base:   "Component", concrete: []string{"Component", "SequenceComponent", "ContainerComponent", "FileComponent"},
		},
		"ContainerComponent": {
			reason: "a SequenceComponent is a ContainerComponent",
			base:   "ContainerComponent", concrete: []string{"ContainerComponent", "SequenceComponent"},
		},
		"CustomAttributeValue": {
			reason: "the *CustomAttributeValue types by name",
			base:   "CustomAttributeValue", concrete: []string{"CustomAttributeValue", "ListCustomAttributeValue", "ContextCustomAttributeValue", "UserCustomAttributeValue", "AssetVersionCustomAttributeValue", "AssetCustomAttributeValue", "ListObjectCustomAttributeValue"},
		},
		"Resource": {
			reason: "discriminated by resource_type",
			base:   "Resource", concrete: []string{"Group", "User"}, abstract: true,
		},
		"List": {
			reason: "classified by alias_for entity",
			base:   "List", concrete: []string{"TypedContextList", "AssetVersionList"}, abstract: true,
		},
		"Shot": {
			reason: "a concrete type is its own only concrete type",
			base:   "Shot", concrete: []string{"Shot"},
		},
		"Unknown": {
			reason: "unknown types have no concrete types",
			base:   "Nope",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.concrete, set.ConcreteTypes(tc.base)); diff != "" {
				t.Errorf("%s: ConcreteTypes(%q) (-want +got):\n%s", tc.reason, tc.base, diff)
			}
			if got := set.IsAbstract(tc.base); got != tc.abstract {
				t.Errorf("%s: IsAbstract(%q) = %v, want %v", tc.reason, tc.base, got, tc.abstract)
			}
		})
	}
	if !set.IsA("Shot", "Context") || !set.IsA("Shot", "TypedContext") || set.IsA("Project", "TypedContext") || !set.IsA("User", "User") {
		t.Error("IsA relations are wrong")
	}
	if diff := cmp.Diff(append([]string{"TypedContext"}, typed...), sortLike(set.Subtypes("Context"), append([]string{"TypedContext"}, typed...))); diff != "" {
		t.Errorf("Subtypes(Context) without Project (-want +got):\n%s", diff)
	}
}

// sortLike returns the elements of got that occur in want, in want's order.
func sortLike(got, want []string) []string {
	var out []string
	for _, w := range want {
		for _, g := range got {
			if g == w {
				out = append(out, g)
			}
		}
	}
	return out
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		input  string
		want   string
	}{
		"NotArray": {
			reason: "the answer is an array",
			input:  `{"id": "Task"}`,
			want:   "want a JSON array",
		},
		"MissingID": {
			reason: "every schema needs an id",
			input:  `[{"properties": {}, "primary_key": ["id"]}]`,
			want:   `element 0: missing "id"`,
		},
		"Duplicate": {
			reason: "type names are unique",
			input:  `[{"id": "A", "properties": {"id": {"type": "string"}}, "primary_key": ["id"]}, {"id": "A", "properties": {"id": {"type": "string"}}, "primary_key": ["id"]}]`,
			want:   `element 1: type "A": defined twice`,
		},
		"BadPrimaryKey": {
			reason: "primary_key is a string list",
			input:  `[{"id": "A", "properties": {}, "primary_key": "id"}]`,
			want:   `type "A": "primary_key": cannot use JSON string`,
		},
		"PrimaryKeyNotProperty": {
			reason: "primary key attributes are properties",
			input:  `[{"id": "A", "properties": {"name": {"type": "string"}}, "primary_key": ["id"]}]`,
			want:   `type "A": primary key "id" is not a property`,
		},
		"EmptyPrimaryKey": {
			reason: "entities need an identity",
			input:  `[{"id": "A", "properties": {"id": {"type": "string"}}, "primary_key": []}]`,
			want:   `type "A": "primary_key" is empty`,
		},
		"BadProperty": {
			reason: "errors name the property",
			input:  `[{"id": "A", "properties": {"id": {"type": 3}}, "primary_key": ["id"]}]`,
			want:   `type "A": property "id": "type": cannot use JSON number`,
		},
		"ArrayWithoutItems": {
			reason: "collections name their item type",
			input:  `[{"id": "A", "properties": {"id": {"type": "string"}, "xs": {"type": "array"}}, "primary_key": ["id"]}]`,
			want:   `type "A": property "xs": type "array" without items.$ref`,
		},
		"BadAlias": {
			reason: "alias_for is a string or an object",
			input:  `[{"id": "A", "alias_for": 7, "properties": {"id": {"type": "string"}}, "primary_key": ["id"]}]`,
			want:   `type "A": "alias_for"`,
		},
		"MissingProperties": {
			reason: "properties are required",
			input:  `[{"id": "A", "primary_key": ["id"]}]`,
			want:   `type "A": missing "properties"`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := schema.Parse([]byte(tc.input))
			if err == nil {
				t.Fatalf("%s: Parse succeeded, want error containing %q", tc.reason, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: Parse error %q, want it to contain %q", tc.reason, err, tc.want)
			}
		})
	}
}

func TestValidateClosure(t *testing.T) {
	t.Parallel()
	set, err := schema.Parse([]byte(`[{"id": "A", "properties": {"id": {"type": "string"}, "b": {"$ref": "B"}, "cs": {"type": "array", "items": {"$ref": "C"}}}, "primary_key": ["id"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	err = set.Validate()
	if err == nil {
		t.Fatal("Validate succeeded on a set with dangling references")
	}
	for _, want := range []string{`property "b": refers to unknown type "B"`, `property "cs": refers to unknown type "C"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %q lacks %q", err, want)
		}
	}
}

func TestDefaultValue(t *testing.T) {
	t.Parallel()
	set, err := schema.Parse([]byte(`[{"id": "A", "primary_key": ["id"], "properties": {
		"id": {"type": "string", "default": "{uid}"},
		"n": {"type": "integer", "default": 0},
		"o": {"type": "object", "default": {"k": [1]}},
		"z": {"type": "variable", "default": null},
		"none": {"type": "string"}}}]`))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := set.Get("A")
	newUUID := func() string { return "00000000-0000-4000-8000-000000000001" }
	cases := map[string]struct {
		reason string
		prop   string
		want   any
		ok     bool
	}{
		"UID":     {reason: "{uid} asks for a new UUID", prop: "id", want: "00000000-0000-4000-8000-000000000001", ok: true},
		"Number":  {reason: "literal defaults are returned", prop: "n", want: float64(0), ok: true},
		"Object":  {reason: "structured defaults are copied", prop: "o", want: map[string]any{"k": []any{float64(1)}}, ok: true},
		"Null":    {reason: "a null default is still a default", prop: "z", want: nil, ok: true},
		"Missing": {reason: "no default", prop: "none", want: nil, ok: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, _ := a.Property(tc.prop)
			got, ok := p.DefaultValue(newUUID)
			if ok != tc.ok {
				t.Errorf("%s: ok = %v, want %v", tc.reason, ok, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
	o, _ := a.Property("o")
	v, _ := o.DefaultValue(newUUID)
	v.(map[string]any)["k"].([]any)[0] = "changed"
	if diff := cmp.Diff(map[string]any{"k": []any{float64(1)}}, o.Default); diff != "" {
		t.Errorf("changing a returned default changed the schema (-want +got):\n%s", diff)
	}
}

func BenchmarkParse(b *testing.B) {
	raw := readReference(b, "query_schemas.json")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := schema.Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	raw := readReference(b, "query_schemas.json")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := schema.HashJSON(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func TestUnmarshalJSON(t *testing.T) {
	t.Parallel()
	small := `[{"id": "A", "properties": {"id": {"type": "string"}}, "primary_key": ["id"]}]`
	var set schema.Set
	if err := json.Unmarshal([]byte(small), &set); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	first := set.Hash()
	if err := json.Unmarshal(readReference(t, "query_schemas.json"), &set); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	if got, want := set.Len(), 116; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	if got := set.Hash(); got == first || got != referenceHash(t) {
		t.Errorf("Hash() after a second UnmarshalJSON = %s, want %s", got, referenceHash(t))
	}
	if err := json.Unmarshal([]byte(`[{}]`), &set); err == nil {
		t.Error("json.Unmarshal accepted a schema without id")
	}
	out, err := json.Marshal(map[string]any{"schemas": &set})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"id":"Task"`)) && !bytes.Contains(out, []byte(`"id": "Task"`)) {
		t.Error("json.Marshal of a Set lost its content")
	}
}

func TestRawPreserved(t *testing.T) {
	t.Parallel()
	input := `[{"id": "A", "primary_key": ["id"], "properties": {"id" :  {"type": "string", "default": "{uid}"}, "n": {"type":"integer","x-extra":[1, 2]}}}]`
	set, err := schema.Parse([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := set.Get("A")
	cases := map[string]struct {
		reason string
		prop   string
		want   string
	}{
		"Spaced": {reason: "whitespace and colon before the fragment are not part of it", prop: "id", want: `{"type": "string", "default": "{uid}"}`},
		"Extra":  {reason: "unknown keys are kept", prop: "n", want: `{"type":"integer","x-extra":[1, 2]}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, _ := a.Property(tc.prop)
			if diff := cmp.Diff(tc.want, string(p.Raw)); diff != "" {
				t.Errorf("%s: Raw (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
	if diff := cmp.Diff(input[1:len(input)-1], string(a.Raw)); diff != "" {
		t.Errorf("schema Raw (-want +got):\n%s", diff)
	}
}
