package ftracktest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func op(action, typ string, kv ...any) map[string]any {
	m := map[string]any{"action": action, "entity_type": typ}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// errorOf returns the exception and content of an error answer, or "" when
// the answer is a result array.
func errorOf(out any) (string, string) {
	m, ok := out.(map[string]any)
	if !ok {
		return "", ""
	}
	exc, _ := m["exception"].(string)
	content, _ := m["content"].(string)
	return exc, content
}

func TestWriteValidation(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason      string
		ops         []any
		wantExc     string
		wantContent []string
	}{
		"UnknownType": {"an unknown type is refused",
			[]any{op("create", "Nope", "entity_data", map[string]any{"name": "x"})},
			"ValidationError", []string{`"Nope"`}},
		"UnknownAttribute": {"an unknown attribute is refused and named",
			[]any{op("create", "Shot", "entity_data", map[string]any{"name": "x", "parent_id": fxSeqID, "colour": "red"})},
			"ValidationError", []string{"Shot", `"colour"`}},
		"MissingRequired": {"a missing required attribute is named",
			[]any{op("create", "Project", "entity_data", map[string]any{"name": "newproj"})},
			"ValidationError", []string{"project_schema", "Project"}},
		"EmptyContextName": {"contexts need a name",
			[]any{op("create", "Shot", "entity_data", map[string]any{"parent_id": fxSeqID})},
			"ValidationError", []string{"Shot.name"}},
		"ContextWithoutParent": {"a context below a project sits under a parent, which gives it its project",
			[]any{op("create", "Shot", "entity_data", map[string]any{"name": "sh030"})},
			"ValidationError", []string{"Shot needs a parent", "project_id"}},
		"WrongString": {"a number for a string attribute is refused",
			[]any{op("create", "Shot", "entity_data", map[string]any{"name": "sh030", "parent_id": fxSeqID, "description": 12})},
			"ValidationError", []string{"Shot.description", "a string", "12"}},
		"WrongNumber": {"a string for a number attribute is refused",
			[]any{op("create", "Shot", "entity_data", map[string]any{"name": "sh030", "parent_id": fxSeqID, "bid": "ten"})},
			"ValidationError", []string{"Shot.bid", "a number", `"ten"`}},
		"WrongInteger": {"a fraction for an integer attribute is refused",
			[]any{op("create", "Status", "entity_data", map[string]any{"name": "s", "is_active": true, "sort": 1.5})},
			"ValidationError", []string{"Status.sort", "an integer"}},
		"WrongBoolean": {"a string for a boolean attribute is refused",
			[]any{op("create", "Status", "entity_data", map[string]any{"name": "s", "is_active": "yes"})},
			"ValidationError", []string{"Status.is_active", "a boolean"}},
		"WrongDatetime": {"an unparseable datetime is refused",
			[]any{op("create", "Shot", "entity_data", map[string]any{"name": "sh030", "parent_id": fxSeqID, "start_date": map[string]any{"__type__": "datetime", "value": "soon"}})},
			"ValidationError", []string{"Shot.start_date", "datetime"}},
		"MissingReference": {"a reference to a missing entity is refused",
			[]any{op("create", "Shot", "entity_data", map[string]any{"name": "sh030", "parent": ref("Sequence", "00000000-0000-0000-0000-00000000dead")})},
			"ValidationError", []string{"Shot.parent", "does not exist"}},
		"MissingForeignKey": {"a foreign key to a missing entity is refused",
			[]any{op("create", "Shot", "entity_data", map[string]any{"name": "sh030", "parent_id": fxSeqID, "status_id": "00000000-0000-0000-0000-00000000dead"})},
			"ValidationError", []string{"Shot.status_id", "Status", "does not exist"}},
		"WrongReferenceType": {"a reference of the wrong type is refused",
			[]any{op("create", "Shot", "entity_data", map[string]any{"name": "sh030", "parent_id": fxSeqID, "status": ref("Type", fxTypeID)})},
			"ValidationError", []string{"Shot.status", "Status"}},
		"DuplicateID": {"a duplicate id is a DuplicateEntryError",
			[]any{op("create", "Shot", "entity_data", map[string]any{"id": fxShotID, "name": "sh099", "parent_id": fxSeqID})},
			"DuplicateEntryError", []string{"DuplicateEntryError", fxShotID}},
		"DuplicateIDAcrossFamily": {"a Task cannot reuse a Shot id",
			[]any{op("create", "Task", "entity_data", map[string]any{"id": fxShotID, "name": "x", "parent_id": fxSeqID})},
			"DuplicateEntryError", []string{"DuplicateEntryError"}},
		"DuplicateProjectName": {"project names are unique",
			[]any{op("create", "Project", "entity_data", map[string]any{"name": "thrones", "full_name": "x", "project_schema_id": fxSchemaID})},
			"DuplicateEntryError", []string{"thrones"}},
		"DuplicateSibling": {"sibling names are unique",
			[]any{op("create", "Shot", "entity_data", map[string]any{"name": "sh010", "parent_id": fxSeqID})},
			"DuplicateEntryError", []string{"sh010"}},
		"DuplicateUsername": {"usernames are unique",
			[]any{op("create", "User", "entity_data", map[string]any{"username": DefaultUser, "is_active": true})},
			"DuplicateEntryError", []string{DefaultUser}},
		"Immutable": {"an immutable attribute cannot change",
			[]any{op("update", "Task", "entity_key", []any{fxTaskID}, "entity_data", map[string]any{"object_type_id": shotOTID})},
			"ValidationError", []string{"Task.object_type_id", "immutable"}},
		"ImmutableSetOnce": {"an immutable attribute with a value cannot change",
			[]any{
				op("update", "Shot", "entity_key", []any{fxShotID}, "entity_data", map[string]any{"start_date": "2024-01-01T00:00:00Z"}),
				op("update", "Shot", "entity_key", []any{fxShotID}, "entity_data", map[string]any{"start_date": "2024-02-01T00:00:00Z"}),
			},
			"ValidationError", []string{"Shot.start_date", "immutable"}},
		"RenameToSibling": {"renaming onto a sibling's name is refused",
			[]any{op("update", "Shot", "entity_key", fxShot2ID, "entity_data", map[string]any{"name": "sh010"})},
			"DuplicateEntryError", []string{"sh010"}},
		"UpdateMissing": {"updating a missing entity is refused",
			[]any{op("update", "Shot", "entity_key", []any{"00000000-0000-0000-0000-00000000dead"}, "entity_data", map[string]any{"name": "x"})},
			"NoResultFoundError", []string{"Shot", "does not exist"}},
		"DeleteMissing": {"deleting a missing entity is refused",
			[]any{op("delete", "Shot", "entity_key", []any{"00000000-0000-0000-0000-00000000dead"})},
			"NoResultFoundError", []string{"does not exist"}},
		"DeleteReferencedStatus": {"a status in use cannot be deleted",
			[]any{op("delete", "Status", "entity_key", []any{fxStatus2ID})},
			"ValidationError", []string{"Status", "status_id"}},
		"AbstractType": {"abstract types cannot be created",
			[]any{op("create", "TypedContext", "entity_data", map[string]any{"name": "x", "parent_id": fxSeqID})},
			"ValidationError", []string{"abstract"}},
		"UnknownAction": {"unknown actions use the wording the Python client recognises",
			[]any{map[string]any{"action": "frobnicate"}},
			"ServerError", []string{"Invalid action u'frobnicate'"}},
		"CustomAttributeType": {"custom attribute values are type-checked",
			[]any{op("update", "ContextCustomAttributeValue", "entity_key", []any{fxCAConfigID, fxShotID}, "entity_data", map[string]any{"value": "x"})},
			"ValidationError", []string{`"fstart"`, "number"}},
		"CustomAttributeWrongEntity": {"a configuration for shots does not apply to tasks",
			[]any{op("update", "ContextCustomAttributeValue", "entity_key", []any{fxCAConfigID, fxTaskID}, "entity_data", map[string]any{"value": 1})},
			"ValidationError", []string{"does not apply"}},
		"DuplicateMetadata": {"metadata keys are unique per parent",
			[]any{
				op("create", "Metadata", "entity_data", map[string]any{"parent_id": fxShotID, "parent_type": "Shot", "key": "k", "value": "1"}),
				op("create", "Metadata", "entity_data", map[string]any{"parent_id": fxShotID, "parent_type": "Shot", "key": "k", "value": "2"}),
			},
			"DuplicateEntryError", []string{"Metadata"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newFixtureServer(t)
			before := s.Count("Context")
			status, out := post(t, s, tc.ops, nil)
			exc, content := errorOf(out)
			if status != 200 {
				t.Errorf("%s: non-strict status = %d, want 200", tc.reason, status)
			}
			if exc != tc.wantExc {
				t.Fatalf("%s: exception = %q (%s), want %q", tc.reason, exc, content, tc.wantExc)
			}
			for _, want := range tc.wantContent {
				if !strings.Contains(content, want) {
					t.Errorf("%s: content %q does not mention %q", tc.reason, content, want)
				}
			}
			if got := s.Count("Context"); got != before {
				t.Errorf("%s: contexts = %d after a failed batch, want %d", tc.reason, got, before)
			}
		})
	}
}

func TestCreateUpdateDelete(t *testing.T) {
	t.Parallel()
	clock := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s := newFixtureServer(t, WithClock(func() time.Time { return clock }))
	newID := "00000000-0000-0000-0000-000000000999"
	_, out := post(t, s, []any{
		op("create", "Shot", "entity_data", map[string]any{"__entity_type__": "Shot", "id": newID, "name": "sh030", "parent": ref("Sequence", fxSeqID),
			"start_date": map[string]any{"__type__": "datetime", "value": "2025-01-02T03:04:05.678-02:00"}}),
		op("update", "Shot", "entity_key", newID, "entity_data", map[string]any{"description": "hero"}),
		op("create", "Metadata", "entity_data", map[string]any{"parent_id": newID, "parent_type": "Shot", "key": "lens", "value": "35mm"}),
		op("update", "ContextCustomAttributeValue", "entity_key", []any{fxCAConfigID, newID}, "entity_data", map[string]any{"value": 1010}),
	}, nil)
	list, ok := out.([]any)
	if !ok {
		t.Fatalf("batch failed: %v", out)
	}
	created := list[0].(map[string]any)["data"].(map[string]any)
	wantCreated := map[string]any{
		"__entity_type__": "Shot", "id": newID, "name": "sh030", "parent_id": fxSeqID, "project_id": fxProjectID,
		"context_type": "task", "object_type_id": shotOTID, "status_id": fxStatusID, "type_id": fxTypeID,
		"priority_id": fxPriorityID, "bid": float64(0), "sort": float64(0),
		"start_date":    map[string]any{"__type__": "datetime", "value": "2025-01-02T05:04:05.678000"},
		"created_at":    map[string]any{"__type__": "datetime", "value": "2025-06-01T12:00:00"},
		"created_by_id": mustUserID(t, s),
	}
	for k, v := range wantCreated {
		if diff := cmp.Diff(v, created[k]); diff != "" {
			t.Errorf("created %s (-want +got):\n%s", k, diff)
		}
	}
	res := query(t, s, `select description, metadata, custom_attributes from Shot where id is "`+newID+`"`)["data"].([]any)[0].(map[string]any)
	if diff := cmp.Diff("hero", res["description"]); diff != "" {
		t.Errorf("description (-want +got):\n%s", diff)
	}
	wantMeta := []any{map[string]any{"__entity_type__": "Metadata", "parent_id": newID, "key": "lens", "value": "35mm", "parent_type": "Shot"}}
	if diff := cmp.Diff(wantMeta, res["metadata"]); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
	ca := res["custom_attributes"].([]any)[0].(map[string]any)["value"]
	if diff := cmp.Diff(float64(1010), ca); diff != "" {
		t.Errorf("custom attribute (-want +got):\n%s", diff)
	}
	// A task below the new shot, then delete the shot: task, metadata and
	// custom attribute value go with it.
	_, out = post(t, s, []any{op("create", "Task", "entity_data", map[string]any{"name": "anim", "parent_id": newID})}, nil)
	if exc, content := errorOf(out); exc != "" {
		t.Fatalf("create task: %s %s", exc, content)
	}
	_, out = post(t, s, []any{op("delete", "Shot", "entity_key", []any{newID})}, nil)
	if diff := cmp.Diff([]any{map[string]any{"action": "delete", "data": true}}, out); diff != "" {
		t.Fatalf("delete (-want +got):\n%s", diff)
	}
	checks := map[string]int{
		"Shot": 2, "Task": 1, "Metadata": 0, "ContextCustomAttributeValue": 0,
	}
	for typ, want := range checks {
		if got := s.Count(typ); got != want {
			t.Errorf("Count(%s) = %d after cascading delete, want %d", typ, got, want)
		}
	}
}

func TestBatchAtomicity(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	_, out := post(t, s, []any{
		op("create", "Shot", "entity_data", map[string]any{"name": "sh040", "parent_id": fxSeqID}),
		op("update", "Shot", "entity_key", []any{fxShotID}, "entity_data", map[string]any{"name": "renamed"}),
		op("delete", "Task", "entity_key", []any{fxTaskID}),
		op("create", "Shot", "entity_data", map[string]any{"name": "sh050", "parent_id": fxSeqID, "bid": "bad"}),
	}, nil)
	if exc, _ := errorOf(out); exc != "ValidationError" {
		t.Fatalf("want the batch to fail with ValidationError, got %v", out)
	}
	if got := s.Count("Shot"); got != 2 {
		t.Errorf("Count(Shot) = %d after rollback, want 2", got)
	}
	if shot, _ := s.Get("Shot", fxShotID); shot["name"] != "sh010" {
		t.Errorf("shot name = %v after rollback, want sh010", shot["name"])
	}
	if _, ok := s.Get("Task", fxTaskID); !ok {
		t.Error("task deleted despite rollback")
	}
	// The indexes were rolled back too.
	if got := ids(query(t, s, "Task where parent_id is "+fxShotID)); !cmp.Equal(got, []string{fxTaskID}) {
		t.Errorf("parent index after rollback = %v", got)
	}
	if got := ids(query(t, s, `Shot where name is "renamed"`)); len(got) != 0 {
		t.Errorf("renamed shot still found: %v", got)
	}
}

func TestAuthAndStrict(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, WithUser("jane", "secret"))
	cases := map[string]struct {
		reason     string
		headers    map[string]string
		ops        []any
		wantStatus int
		wantExc    string
	}{
		"BadKey":           {"a wrong key is 401", map[string]string{"ftrack-user": "jane", "ftrack-api-key": "nope"}, []any{}, 401, "InvalidCredentialsError"},
		"UnknownUser":      {"an unknown user is 401", map[string]string{"ftrack-user": "bob", "ftrack-api-key": "secret"}, []any{}, 401, "InvalidCredentialsError"},
		"DefaultReplaced":  {"WithUser replaces the default user", map[string]string{"ftrack-user": DefaultUser, "ftrack-api-key": DefaultAPIKey}, []any{}, 401, "InvalidCredentialsError"},
		"Good":             {"the right key works", map[string]string{"ftrack-user": "jane", "ftrack-api-key": "secret"}, []any{}, 200, ""},
		"NonStrictError":   {"errors are 200 without strict", map[string]string{"ftrack-user": "jane", "ftrack-api-key": "secret"}, []any{op("create", "Nope")}, 200, "ValidationError"},
		"StrictValidation": {"validation errors are 400 in strict mode", map[string]string{"ftrack-user": "jane", "ftrack-api-key": "secret", "ftrack-strict-api": "true"}, []any{op("create", "Nope")}, 400, "ValidationError"},
		"StrictNotFound":   {"missing entities are 404 in strict mode", map[string]string{"ftrack-user": "jane", "ftrack-api-key": "secret", "ftrack-strict-api": "true"}, []any{op("delete", "Shot", "entity_key", "x")}, 404, "NoResultFoundError"},
		"StrictFalse":      {"strict false is non-strict", map[string]string{"ftrack-user": "jane", "ftrack-api-key": "secret", "ftrack-strict-api": "false"}, []any{op("delete", "Shot", "entity_key", "x")}, 200, "NoResultFoundError"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			status, out := post(t, s, tc.ops, tc.headers)
			exc, content := errorOf(out)
			if status != tc.wantStatus || exc != tc.wantExc {
				t.Errorf("%s: got %d %q (%s), want %d %q", tc.reason, status, exc, content, tc.wantStatus, tc.wantExc)
			}
			if strings.Contains(content, "secret") {
				t.Errorf("%s: the API key leaked into the error: %s", tc.reason, content)
			}
		})
	}
}

func TestFaultInjection(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	s.RateLimitNext(1, 1500*time.Millisecond)
	s.FailNext(1, 503, "ServiceUnavailable")
	status, out := post(t, s, []any{}, nil)
	if exc, _ := errorOf(out); status != 429 || exc != "RateLimitError" {
		t.Errorf("first request: %d %v, want 429 RateLimitError", status, out)
	}
	status, out = post(t, s, []any{}, nil)
	if exc, _ := errorOf(out); status != 503 || exc != "ServiceUnavailable" {
		t.Errorf("second request: %d %v, want 503", status, out)
	}
	status, _ = post(t, s, []any{map[string]any{"action": "query_server_information"}}, map[string]string{"ftrack-Clienttoken": "tok"})
	if status != 200 {
		t.Errorf("third request: %d, want 200", status)
	}
	reqs := s.Requests()
	if len(reqs) != 3 {
		t.Fatalf("Requests() has %d entries, want 3", len(reqs))
	}
	last := reqs[2]
	if diff := cmp.Diff(RequestInfo{Time: last.Time, User: DefaultUser, Actions: []string{"query_server_information"}, ClientToken: "tok", Status: 200}, last); diff != "" {
		t.Errorf("last request (-want +got):\n%s", diff)
	}
	if got := s.RequestCount("query_server_information"); got != 1 {
		t.Errorf("RequestCount = %d, want 1", got)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	s.RateLimitNext(1, 1500*time.Millisecond)
	req, err := newAPIRequest(s, "[]")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2 (rounded up)", got)
	}
}
