package schema_test

import (
	"fmt"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

func ExampleParse() {
	set, err := schema.Parse([]byte(`[
		{"id": "TypedContext", "alias_for": "Task", "primary_key": ["id"],
		 "properties": {"id": {"type": "string", "default": "{uid}"}}},
		{"id": "Shot", "alias_for": {"id": "Task", "classifiers": {"object_typeid": "bad911de-3bd6-47b9-8b46-3476e237cb36"}},
		 "primary_key": ["id"], "immutable": ["id"],
		 "properties": {
			"id": {"type": "string", "default": "{uid}"},
			"object_type_id": {"type": "string", "format": "foreign_key", "alias_for": "object_typeid"},
			"status": {"$ref": "Status"}}}
	]`))
	if err != nil {
		fmt.Println(err)
		return
	}
	shot, _ := set.Get("Shot")
	status, _ := shot.Property("status")
	fmt.Println(set.Len(), shot.IsImmutable("id"), status.Kind(), status.Ref)
	fmt.Println(shot.Classifiers())
	fmt.Println(set.ConcreteTypes("TypedContext"))
	// Output:
	// 2 true reference Status
	// map[object_type_id:bad911de-3bd6-47b9-8b46-3476e237cb36]
	// [Shot]
}

func ExampleHashJSON() {
	// The schema cache of the Python client is written with indentation;
	// the hash does not depend on formatting or key order.
	a, _ := schema.HashJSON([]byte(`[{"b": 1.0, "a": "é"}]`))
	b, _ := schema.HashJSON([]byte("[\n    {\n        \"a\": \"\\u00e9\",\n        \"b\": 1.0\n    }\n]"))
	fmt.Println(a == b)
	out, _ := schema.PythonJSONRaw([]byte(`[{"b": 1.0, "a": "é"}]`))
	fmt.Println(string(out))
	// Output:
	// true
	// [{"a": "\u00e9", "b": 1.0}]
}
