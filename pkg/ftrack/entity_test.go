package ftrack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

func TestCommitWithExternalCaller(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	p := newProject(t, s, "coalesced")
	task := must(s.Create("Task", map[string]any{"name": "via-caller", "parent": p}))
	var sent []map[string]any
	// A caller like the operator's coalescer: it posts the batch itself and
	// hands back plain decoded JSON.
	caller := func(ctx context.Context, batch []map[string]any) ([]any, error) {
		sent = batch
		body, _ := json.Marshal(batch)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api", bytes.NewReader(body))
		req.Header.Set("ftrack-user", ftracktest.DefaultUser)
		req.Header.Set("ftrack-api-key", ftracktest.DefaultAPIKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var out []any
		return out, json.NewDecoder(resp.Body).Decode(&out)
	}
	if err := s.CommitWith(t.Context(), caller); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 || sent[0]["action"] != "create" {
		t.Fatalf("caller got %v, want one create", sent)
	}
	if n := len(s.Operations()); n != 0 {
		t.Errorf("%d operations after CommitWith", n)
	}
	if _, ok := srv.Get("Task", task.ID()); !ok {
		t.Error("task not created through the caller")
	}
	if task.State() != ftrack.StateNone {
		t.Errorf("state = %v after CommitWith", task.State())
	}
	if got := task.MustGet("name"); got != "via-caller" {
		t.Errorf("name merged from the caller's answer = %v", got)
	}
}

func TestCallEncodesValues(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	p := newProject(t, s, "encode")
	start := time.Date(2024, 6, 1, 8, 30, 0, 0, time.UTC)
	res, err := s.Call(t.Context(), []map[string]any{{
		"action": "create", "entity_type": "Task",
		"entity_data": map[string]any{"__entity_type__": "Task", "name": "raw", "parent": p, "start_date": start},
	}})
	if err != nil {
		t.Fatal(err)
	}
	created, ok := res[0].(map[string]any)["data"].(*ftrack.Entity)
	if !ok {
		t.Fatalf("create result data = %T, want *Entity", res[0].(map[string]any)["data"])
	}
	if got := created.MustGet("start_date"); got != start {
		t.Errorf("start_date = %v, want %v", got, start)
	}
	parent, _ := created.MustGet("parent").(*ftrack.Entity)
	if parent != p {
		t.Errorf("parent = %v, want the cached project instance", parent)
	}
}

func TestCollections(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	p := newProject(t, s, "collections")
	a := must(s.Create("Task", map[string]any{"name": "a", "parent": p}))
	b := must(s.Create("Task", map[string]any{"name": "b", "parent": p}))
	mustOK(t, s.Commit(t.Context()))
	reader := newSession(t, srv)
	proj := must(reader.Get(t.Context(), "Project", p.ID()))
	children := proj.MustGet("children").(*ftrack.Collection)
	ids := map[string]bool{}
	for _, c := range children.Entities() {
		ids[c.ID()] = true
	}
	if diff := cmp.Diff(map[string]bool{a.ID(): true, b.ID(): true}, ids); diff != "" {
		t.Errorf("children (-want +got):\n%s", diff)
	}

	// Appending records an update with the whole membership.
	link := must(reader.Create("Task", map[string]any{"name": "c", "parent": proj}))
	mustOK(t, reader.Commit(t.Context()))
	task := must(reader.Get(t.Context(), "Task", a.ID()))
	col, ok := task.MustGet("children").(*ftrack.Collection)
	if !ok {
		t.Fatalf("children = %T", task.MustGet("children"))
	}
	mustOK(t, col.Append(link))
	mustOK(t, col.Append(link)) // a member is not added twice
	ops := reader.Operations()
	if len(ops) != 1 || ops[0].Attribute != "children" {
		t.Fatalf("operations = %+v", ops)
	}
	if got := ops[0].NewValue.([]*ftrack.Entity); len(got) != col.Len() || got[len(got)-1] != link {
		t.Errorf("recorded membership = %v", got)
	}
	mustOK(t, col.Remove(link))
	if col.Contains(link) {
		t.Error("removed entity still a member")
	}
	reader.Rollback()
}

func TestMergeFromAnotherSession(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	other := newSession(t, srv, ftrack.WithCacheKeyMaker(ftrack.ObjectKeyMaker{}))
	p := newProject(t, s, "merged")
	got, err := other.Merge(p)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := got.(*ftrack.Entity)
	if !ok || e == p || e.Session() != other {
		t.Fatalf("Merge returned %v, want an entity of the other session", got)
	}
	if e.MustGet("name") != "merged" {
		t.Errorf("merged name = %v", e.MustGet("name"))
	}
	if n := len(other.Operations()); n != 0 {
		t.Errorf("Merge recorded %d operations", n)
	}
	before := srv.RequestCount("query")
	again, err := other.Get(t.Context(), "Project", p.ID())
	if err != nil || again != e {
		t.Errorf("Get after Merge = %v, %v; want the merged instance", again, err)
	}
	if n := srv.RequestCount("query") - before; n != 0 {
		t.Errorf("Get after Merge made %d queries", n)
	}
}
