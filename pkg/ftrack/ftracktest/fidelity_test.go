package ftracktest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The tests of this file hold the emulator to what ftrack answers where the official
// clients' own tests look (see docs/emulator.md for what it still does differently).

const fxScopeID = "5a000000-0000-4000-8000-000000000001"

func createOp(typ string, data map[string]any) map[string]any {
	return map[string]any{"action": "create", "entity_type": typ, "entity_data": data}
}

func updateOp(typ, id string, data map[string]any) map[string]any {
	return map[string]any{"action": "update", "entity_type": typ, "entity_key": []any{id}, "entity_data": data}
}

// sortedIDs returns the ids of a list of encoded entities.
func sortedIDs(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			id, _ := m["id"].(string)
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// refused reports whether a batch's answer is an error.
func refused(out any) bool {
	m, ok := out.(map[string]any)
	return ok && m["exception"] != nil
}

// answers posts ops and fails unless the batch succeeded; it returns the operations' answers.
func answers(t *testing.T, s *Server, ops ...map[string]any) []any {
	t.Helper()
	status, out := post(t, s, ops, nil)
	list, ok := out.([]any)
	if !ok {
		t.Fatalf("the batch was refused (%d): %v", status, out)
	}
	return list
}

// TestCollectionWritesAreStored: a collection the schema lets clients write (Task.scopes,
// which has no link type of its own in the schema) holds what was sent, replaced on each
// update, and reads back; the write's answer carries the collection it set.
func TestCollectionWritesAreStored(t *testing.T) {
	s := newFixtureServer(t)
	const scope2 = "5a000000-0000-4000-8000-000000000002"
	res := answers(t, s,
		createOp("Scope", map[string]any{"id": fxScopeID, "name": "compositing"}),
		createOp("Scope", map[string]any{"id": scope2, "name": "lighting"}),
		updateOp("Task", fxTaskID, map[string]any{"scopes": []any{ref("Scope", fxScopeID), ref("Scope", scope2)}}),
	)
	data, _ := res[2].(map[string]any)["data"].(map[string]any)
	if got := sortedIDs(data["scopes"]); !slices.Equal(got, []string{fxScopeID, scope2}) {
		t.Errorf("the update's answer carries scopes %v, want both scopes: %v", got, data)
	}
	read := func() []string {
		d := query(t, s, `select scopes from Task where id is "`+fxTaskID+`"`)["data"].([]any)
		return sortedIDs(d[0].(map[string]any)["scopes"])
	}
	if got := read(); !slices.Equal(got, []string{fxScopeID, scope2}) {
		t.Errorf("select scopes from Task = %v after the update, want both scopes", got)
	}
	// ftrack replaces the collection with the list sent.
	answers(t, s, updateOp("Task", fxTaskID, map[string]any{"scopes": []any{ref("Scope", scope2)}}))
	if got := read(); !slices.Equal(got, []string{scope2}) {
		t.Errorf("select scopes from Task = %v after replacing them, want [%s]", got, scope2)
	}
	// A create sets one too.
	const task2 = "7a000000-0000-4000-8000-000000000002"
	res = answers(t, s, createOp("Task", map[string]any{"id": task2, "name": "lighting", "parent_id": fxShotID, "scopes": []any{ref("Scope", fxScopeID)}}))
	if got := sortedIDs(res[0].(map[string]any)["data"].(map[string]any)["scopes"]); !slices.Equal(got, []string{fxScopeID}) {
		t.Errorf("the create's answer carries scopes %v, want [%s]", got, fxScopeID)
	}
	d := query(t, s, `select scopes from Task where id is "`+task2+`"`)["data"].([]any)
	if got := sortedIDs(d[0].(map[string]any)["scopes"]); !slices.Equal(got, []string{fxScopeID}) {
		t.Errorf("the created task's scopes read back as %v", got)
	}
	// A failed batch stores nothing of it.
	if _, out := post(t, s, []any{
		updateOp("Task", fxTaskID, map[string]any{"scopes": []any{ref("Scope", fxScopeID)}}),
		updateOp("Task", "7a000000-0000-4000-8000-0000000000ff", map[string]any{"name": "x"}),
	}, nil); !refused(out) {
		t.Fatalf("a batch with an update of a missing task succeeded: %v", out)
	}
	if got := read(); !slices.Equal(got, []string{scope2}) {
		t.Errorf("a rolled-back batch left scopes %v, want [%s]", got, scope2)
	}
}

// TestMetadataInTheWriteAnswer: `create Metadata …` then `update Project {metadata: [ref]}`
// in one batch; ftrack's answer to the update carries the metadata it wrote.
func TestMetadataInTheWriteAnswer(t *testing.T) {
	s := newFixtureServer(t)
	mref := map[string]any{"__entity_type__": "Metadata", "parent_id": fxProjectID, "key": "pipeline"}
	res := answers(t, s,
		createOp("Metadata", map[string]any{"parent_id": fxProjectID, "parent_type": "Project", "key": "pipeline", "value": "v2"}),
		updateOp("Project", fxProjectID, map[string]any{"metadata": []any{mref}}),
	)
	data, _ := res[1].(map[string]any)["data"].(map[string]any)
	list, _ := data["metadata"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["key"] != "pipeline" {
		t.Errorf("the update's answer carries metadata %v, want the pipeline key", data["metadata"])
	}
}

// TestRequiredAttributesAtTheEndOfTheBatch: ftrack runs a batch as one transaction and
// checks required attributes when it ends: an entity created without one and given it by a
// later operation of the same batch is accepted; one still without it is refused, and the
// whole batch with it.
func TestRequiredAttributesAtTheEndOfTheBatch(t *testing.T) {
	s := newFixtureServer(t)
	answers(t, s,
		createOp("Scope", map[string]any{"id": fxScopeID}),
		updateOp("Scope", fxScopeID, map[string]any{"name": "compositing"}),
	)
	if got := query(t, s, `select name from Scope where id is "`+fxScopeID+`"`)["data"].([]any); len(got) != 1 || got[0].(map[string]any)["name"] != "compositing" {
		t.Errorf("the scope reads back as %v", got)
	}
	const other = "5a000000-0000-4000-8000-000000000003"
	_, out := post(t, s, []any{
		createOp("Scope", map[string]any{"id": "5a000000-0000-4000-8000-000000000004", "name": "kept?"}),
		createOp("Scope", map[string]any{"id": other}),
	}, nil)
	if !refused(out) {
		t.Fatalf("a batch that leaves a Scope without its name succeeded: %v", out)
	}
	m, _ := out.(map[string]any)
	if m["exception"] != "ValidationError" {
		t.Errorf("the refusal is %v, want a ValidationError", out)
	}
	if n := len(query(t, s, `select id from Scope where name is "kept?"`)["data"].([]any)); n != 0 {
		t.Errorf("the refused batch left %d scopes behind", n)
	}
}

// TestServerDefaults: attributes ftrack fills when a create leaves them out are not
// refused as missing.
func TestServerDefaults(t *testing.T) {
	s := newFixtureServer(t)
	res := answers(t, s,
		createOp("User", map[string]any{"first_name": "Ann", "last_name": "Lee", "email": "ann.lee@example.com"}),
		createOp("User", map[string]any{"first_name": "Bo", "last_name": "Chen"}),
		createOp("Timer", map[string]any{"user_id": mustUserID(t, s), "context_id": fxTaskID}),
	)
	data := func(i int) map[string]any { return res[i].(map[string]any)["data"].(map[string]any) }
	if u := data(0)["username"]; u != "ann.lee@example.com" {
		t.Errorf("a user created with an email and no username is named %v", u)
	}
	if u := data(1)["username"]; u != "bo.chen" {
		t.Errorf("a user created with names only is named %v", u)
	}
	if st, _ := data(2)["start"].(map[string]any); st == nil || st["__type__"] != "datetime" {
		t.Errorf("a timer created without a start starts %v, want now", data(2)["start"])
	}
}

// TestDatetimeMicroseconds: a datetime keeps its microseconds in the create's answer and
// when read back.
func TestDatetimeMicroseconds(t *testing.T) {
	s := newFixtureServer(t)
	res := answers(t, s, createOp("Task", map[string]any{"name": "micro", "parent_id": fxShotID,
		"start_date": map[string]any{"__type__": "datetime", "value": "2024-05-06T07:08:09.123456"}}))
	want := map[string]any{"__type__": "datetime", "value": "2024-05-06T07:08:09.123456"}
	d := res[0].(map[string]any)["data"].(map[string]any)
	if got := d["start_date"]; !equalJSON(got, want) {
		t.Errorf("the create answers start_date %v, want %v", got, want)
	}
	read := query(t, s, `select start_date from Task where id is "`+d["id"].(string)+`"`)["data"].([]any)[0].(map[string]any)
	if got := read["start_date"]; !equalJSON(got, want) {
		t.Errorf("start_date reads back as %v, want %v", got, want)
	}
}

func equalJSON(a, b any) bool {
	am, _ := a.(map[string]any)
	bm, _ := b.(map[string]any)
	return am != nil && bm != nil && am["__type__"] == bm["__type__"] && am["value"] == bm["value"]
}

// TestBaseAndAliasedTypes: a query on a base type returns the rows of its subtypes
// (CustomAttributeValue), a type that is another's table under a second name reads the same
// rows (NoteLabel and NoteCategory), a plain Component is created, and a SequenceComponent
// is a ContainerComponent.
func TestBaseAndAliasedTypes(t *testing.T) {
	s := newFixtureServer(t)
	_, out := post(t, s, []any{map[string]any{"action": "update", "entity_type": "ContextCustomAttributeValue",
		"entity_key": []any{fxCAConfigID, fxShotID}, "entity_data": map[string]any{"value": 1010}}}, nil)
	if refused(out) {
		t.Fatalf("setting a custom attribute value: %v", out)
	}
	got := query(t, s, `select value, entity_id from CustomAttributeValue where configuration.key is "fstart"`)["data"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["entity_id"] != fxShotID || got[0].(map[string]any)["value"] != float64(1010) {
		t.Errorf("select … from CustomAttributeValue = %v, want the shot's value 1010", got)
	}

	res := answers(t, s, createOp("NoteCategory", map[string]any{"name": "client", "color": "#f00"}))
	id := res[0].(map[string]any)["data"].(map[string]any)["id"].(string)
	if got := query(t, s, `select id, name from NoteLabel`)["data"].([]any); len(got) != 1 || got[0].(map[string]any)["id"] != id {
		t.Errorf("select id, name from NoteLabel = %v, want the NoteCategory %s", got, id)
	}

	res = answers(t, s, createOp("Component", map[string]any{"name": "plain"}))
	if d := res[0].(map[string]any)["data"].(map[string]any); d["__entity_type__"] != "Component" {
		t.Errorf("create Component answered %v", d)
	}

	const seq = "c0000000-0000-4000-8000-000000000001"
	answers(t, s,
		createOp("SequenceComponent", map[string]any{"id": seq, "name": "plate", "padding": 4}),
		createOp("FileComponent", map[string]any{"name": "1001", "container": ref("SequenceComponent", seq)}),
	)
	if got := query(t, s, `select members from ContainerComponent where id is "`+seq+`"`)["data"].([]any); len(got) != 1 || len(got[0].(map[string]any)["members"].([]any)) != 1 {
		t.Errorf("the sequence, read as a ContainerComponent, has members %v", got)
	}
}

// TestAliasedForeignKeys: two references to the same type are told apart by the schema's
// alias_for, not guessed: ProjectSchema._task_workflow and _version_workflow read the
// workflows their foreign keys name.
func TestAliasedForeignKeys(t *testing.T) {
	s := newFixtureServer(t)
	const taskWF, versionWF = "e0000000-0000-4000-8000-000000000001", "e0000000-0000-4000-8000-000000000002"
	answers(t, s,
		createOp("WorkflowSchema", map[string]any{"id": taskWF, "name": "tasks"}),
		createOp("WorkflowSchema", map[string]any{"id": versionWF, "name": "versions"}),
		updateOp("ProjectSchema", fxSchemaID, map[string]any{"task_workflow_schema_id": taskWF, "asset_version_workflow_schema_id": versionWF}),
	)
	got := query(t, s, `select _task_workflow.name, _version_workflow.name, task_workflow_schema.name from ProjectSchema where id is "`+fxSchemaID+`"`)["data"].([]any)[0].(map[string]any)
	name := func(attr string) any {
		m, _ := got[attr].(map[string]any)
		return m["name"]
	}
	if name("_task_workflow") != "tasks" || name("task_workflow_schema") != "tasks" || name("_version_workflow") != "versions" {
		t.Errorf("the workflows of the project schema read %v", got)
	}
}

// TestLinkOfEveryType: `link` is the path from the project down for every type whose
// schema has it, asset versions included.
func TestLinkOfEveryType(t *testing.T) {
	s := newFixtureServer(t)
	const assetType, asset, version = "a1000000-0000-4000-8000-000000000001", "a2000000-0000-4000-8000-000000000001", "a3000000-0000-4000-8000-000000000001"
	answers(t, s,
		createOp("AssetType", map[string]any{"id": assetType, "name": "Plate", "short": "plate"}),
		createOp("Asset", map[string]any{"id": asset, "name": "bg", "parent": ref("Shot", fxShotID), "type_id": assetType}),
		createOp("AssetVersion", map[string]any{"id": version, "asset_id": asset, "version": 3}),
	)
	got := query(t, s, `select link from AssetVersion where id is "`+version+`"`)["data"].([]any)[0].(map[string]any)["link"]
	var types []string
	for _, e := range got.([]any) {
		types = append(types, e.(map[string]any)["type"].(string)+":"+fmt.Sprint(e.(map[string]any)["name"]))
	}
	want := []string{"Project:thrones", "Sequence:sq010", "Shot:sh010", "Asset:bg", "AssetVersion:v3"}
	if !slices.Equal(types, want) {
		t.Errorf("the version's link is %v, want %v", types, want)
	}
}

// TestUploadBeforeCommit: the Python client asks where to upload a new component's file
// before it commits the component; ftrack signs the upload, and the file belongs to the
// component once it is created.
func TestUploadBeforeCommit(t *testing.T) {
	s := newFixtureServer(t)
	const cid = "c1000000-0000-4000-8000-000000000001"
	res := answers(t, s, map[string]any{"action": "get_upload_metadata", "component_id": cid, "file_name": "plate.exr", "file_size": 5})
	url, _ := res[0].(map[string]any)["url"].(string)
	if url == "" {
		t.Fatalf("get_upload_metadata answered %v", res[0])
	}
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader("pixel"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the upload answered %d", resp.StatusCode)
	}
	answers(t, s, createOp("FileComponent", map[string]any{"id": cid, "name": "plate", "file_type": ".exr", "size": 5}))
	if data, ok := s.ComponentData(cid); !ok || string(data) != "pixel" {
		t.Errorf("the component's data is %q, %v", data, ok)
	}
}

// TestNotesTimersAndWidgets: the author of a note is one of its recipients; a user has one
// running timer at most; the URL get_widget_url answers is served.
func TestNotesTimersAndWidgets(t *testing.T) {
	s := newFixtureServer(t)
	user := mustUserID(t, s)
	res := answers(t, s, createOp("Note", map[string]any{"content": "more fire", "parent_id": fxShotID, "parent_type": "Shot", "user_id": user}))
	note := res[0].(map[string]any)["data"].(map[string]any)["id"].(string)
	got := query(t, s, `select resource_id from Recipient where note_id is "`+note+`"`)["data"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["resource_id"] != user {
		t.Errorf("the note's recipients are %v, want its author", got)
	}

	answers(t, s, createOp("Timer", map[string]any{"user_id": user, "context_id": fxTaskID, "comment": "first"}))
	_, out := post(t, s, []any{createOp("Timer", map[string]any{"user_id": user, "context_id": fxTaskID, "comment": "second"})}, nil)
	if m, _ := out.(map[string]any); m["exception"] != "DuplicateEntryError" {
		t.Errorf("a second running timer for the same user answered %v, want a DuplicateEntryError", out)
	}

	res = answers(t, s, map[string]any{"action": "get_widget_url", "name": "tasks", "theme": "light"})
	url, _ := res[0].(map[string]any)["widget_url"].(string)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s answered %d, want 200", url, resp.StatusCode)
	}
}
