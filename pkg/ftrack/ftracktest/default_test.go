package ftracktest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// TestDefaultServer creates a project hierarchy on a server with the
// built-in schema and seed, the way a client with no seeding of its own does.
func TestDefaultServer(t *testing.T) {
	t.Parallel()
	s, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if got := s.Count("Location"); got < 5 {
		t.Errorf("Count(Location) = %d, want the five built-in locations", got)
	}
	_, out := post(t, s, []any{
		op("create", "Project", "entity_data", map[string]any{"id": "p1", "name": "demo", "full_name": "Demo", "project_schema_id": builtin.DefaultProjectSchemaID}),
		op("create", "Sequence", "entity_data", map[string]any{"id": "q1", "name": "sq010", "parent": ref("Project", "p1")}),
		op("create", "Shot", "entity_data", map[string]any{"id": "s1", "name": "sh010", "parent": ref("Sequence", "q1")}),
		op("create", "Task", "entity_data", map[string]any{"id": "t1", "name": "comp", "parent": ref("Shot", "s1")}),
	}, nil)
	if exc, content := errorOf(out); exc != "" {
		t.Fatalf("creating a hierarchy: %s: %s", exc, content)
	}
	res := query(t, s, `select name, status.name, type.name, project.name from Task where id is t1`)
	got := res["data"].([]any)[0].(map[string]any)
	if diff := cmp.Diff("demo", got["project"].(map[string]any)["name"]); diff != "" {
		t.Errorf("project name (-want +got):\n%s", diff)
	}
	if got["status"] == nil || got["type"] == nil {
		t.Errorf("task status/type not filled by the server: %v", got)
	}
	loc := query(t, s, `select id from Location where name is "ftrack.server"`)
	if diff := cmp.Diff([]string{"3a372bde-05bc-11e4-8908-20c9d081909b"}, ids(loc)); diff != "" {
		t.Errorf("ftrack.server location (-want +got):\n%s", diff)
	}
}
