package ftracktest

import (
	"testing"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// TestCreatePipelineTypes creates one entity of each pipeline type on the
// built-in schema and seed with only the attributes a client would give:
// the server fills discriminators, classifiers, default statuses and types
// and false flags.
func TestCreatePipelineTypes(t *testing.T) {
	t.Parallel()
	s, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	uid := mustUserID(t, s)
	steps := []map[string]any{
		op("create", "Project", "entity_data", map[string]any{"id": "p1", "name": "demo", "full_name": "Demo", "project_schema_id": builtin.DefaultProjectSchemaID}),
		op("create", "Shot", "entity_data", map[string]any{"id": "s1", "name": "sh010", "parent_id": "p1"}),
		op("create", "Task", "entity_data", map[string]any{"id": "t1", "name": "comp", "parent_id": "s1"}),
		op("create", "AssetBuild", "entity_data", map[string]any{"id": "ab1", "name": "hero", "parent_id": "p1"}),
		op("create", "Folder", "entity_data", map[string]any{"id": "f1", "name": "fold", "parent_id": "p1"}),
		op("create", "Episode", "entity_data", map[string]any{"id": "e1", "name": "ep1", "parent_id": "p1"}),
		op("create", "Milestone", "entity_data", map[string]any{"id": "m1", "name": "ms", "parent_id": "p1"}),
		op("create", "Asset", "entity_data", map[string]any{"id": "a1", "name": "plate", "parent": ref("Shot", "s1"), "type_id": nil}),
		op("create", "AssetVersion", "entity_data", map[string]any{"id": "v1", "asset_id": "a1", "task_id": "t1"}),
		op("create", "Note", "entity_data", map[string]any{"id": "n1", "content": "hi", "user_id": uid, "parent_id": "t1", "parent_type": "Task"}),
		op("create", "Timelog", "entity_data", map[string]any{"id": "tl1", "user_id": uid, "context_id": "t1", "start": "2024-01-01T10:00:00", "duration": 60}),
		op("create", "Appointment", "entity_data", map[string]any{"id": "ap1", "context_id": "t1", "resource_id": uid, "type": "assignment"}),
		op("create", "Group", "entity_data", map[string]any{"id": "g1", "name": "comp"}),
		op("create", "Membership", "entity_data", map[string]any{"id": "mb1", "group_id": "g1", "user_id": uid}),
		op("create", "User", "entity_data", map[string]any{"username": "bob"}),
		op("create", "TypedContextList", "entity_data", map[string]any{"id": "l1", "name": "dailies", "project_id": "p1", "category_id": builtin.DailiesListCategoryID}),
		op("create", "FileComponent", "entity_data", map[string]any{"id": "c1", "name": "main", "version_id": "v1"}),
		op("create", "ComponentLocation", "entity_data", map[string]any{"component_id": "c1", "location_id": "3a372bde-05bc-11e4-8908-20c9d081909b", "resource_identifier": "c1"}),
		op("create", "Job", "entity_data", map[string]any{"type": "api_job", "status": "queued", "user_id": uid}),
		op("create", "Metadata", "entity_data", map[string]any{"parent_id": "t1", "parent_type": "Task", "key": "k", "value": "v"}),
		op("create", "AssetType", "entity_data", map[string]any{"name": "Geo", "short": "geo"}),
	}
	// One by one, in order: each may refer to the ones before.
	for _, o := range steps {
		_, out := post(t, s, []any{o}, nil)
		if exc, content := errorOf(out); exc != "" {
			t.Errorf("create %s: %s %s", o["entity_type"], exc, content)
		}
	}
	wantCounts := map[string]int{"TypedContext": 6, "AssetVersion": 1, "FileComponent": 1, "ComponentLocation": 1, "Membership": 1, "TypedContextList": 1}
	for typ, want := range wantCounts {
		if got := s.Count(typ); got != want {
			t.Errorf("Count(%s) = %d, want %d", typ, got, want)
		}
	}
	got := query(t, s, `select asset.parent.name, status.name, components.name, components.component_locations.location.name from AssetVersion where id is v1`)["data"].([]any)[0].(map[string]any)
	comp := got["components"].([]any)[0].(map[string]any)
	loc := comp["component_locations"].([]any)[0].(map[string]any)["location"].(map[string]any)["name"]
	if got["asset"].(map[string]any)["parent"].(map[string]any)["name"] != "sh010" || comp["name"] != "main" || loc != "ftrack.server" {
		t.Errorf("AssetVersion relations: %v", got)
	}
}
