package ftracktest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestServesReferenceSchema loads the recorded 116-type schema of a real
// server, serves it verbatim and reports the real server's schema_hash.
func TestServesReferenceSchema(t *testing.T) {
	t.Parallel()
	raw := referenceSchema(t)
	infoRaw, err := os.ReadFile(filepath.Join(referenceDir(t), "query_server_information.json"))
	if err != nil {
		t.Fatal(err)
	}
	var wantInfo map[string]any
	if err := json.Unmarshal(infoRaw, &wantInfo); err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(WithSchema(raw), WithServerVersion("dev"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	_, out := post(t, s, []any{map[string]any{"action": "query_server_information"}, map[string]any{"action": "query_schemas"}}, nil)
	list, ok := out.([]any)
	if !ok || len(list) != 2 {
		t.Fatalf("want two results, got %v", out)
	}
	if diff := cmp.Diff(wantInfo, list[0]); diff != "" {
		t.Errorf("query_server_information (-want +got):\n%s", diff)
	}
	var wantSchemas any
	if err := json.Unmarshal(raw, &wantSchemas); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantSchemas, list[1]); diff != "" {
		t.Errorf("query_schemas differs from the file (-want +got):\n%s", diff)
	}
	if got := len(list[1].([]any)); got != 116 {
		t.Errorf("query_schemas has %d types, want 116", got)
	}
}

// TestReferenceQueryShapes checks answers against the shapes of recorded
// real answers: system projections, nested references and paging.
func TestReferenceQueryShapes(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	// A second task, so that "limit 1" leaves more rows as in the recordings.
	if err := s.Seed(Record{"Task", map[string]any{"name": "comp", "parent_id": fxShot2ID, "status_id": fxStatusID, "type_id": fxTypeID}}); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		reason string
		file   string
		expr   string
	}{
		"Name": {"a plain projection carries the Task system projections",
			"query_select_name_from_task_limit_1.json", "select name from Task limit 1"},
		"NestedState": {"status.state.short nests State in Status in Task",
			"query_select_status.state.short_from_task_where_status.state.short_is_not_started_limit_1.json",
			`select status.state.short from Task where status.state.short is "NOT_STARTED" limit 1`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(filepath.Join(referenceDir(t), tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			got := query(t, s, tc.expr)
			if diff := cmp.Diff(keyShape(want), keyShape(got)); diff != "" {
				t.Errorf("%s: key shape (-recorded +emulator):\n%s", tc.reason, diff)
			}
		})
	}
}

// keyShape replaces every leaf value by its JSON type, so that answers of
// different data can be compared by structure.
func keyShape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = keyShape(e)
		}
		return out
	case []any:
		if len(x) == 0 {
			return []any{}
		}
		return []any{keyShape(x[0])}
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return "?"
}
