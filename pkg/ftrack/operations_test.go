package ftrack_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// batchShape reduces a batch to action, type and data keys for comparison.
func batchShape(batch []map[string]any) []string {
	var out []string
	for _, p := range batch {
		s := p["action"].(string) + " " + p["entity_type"].(string)
		if d, ok := p["entity_data"].(map[string]any); ok {
			for _, k := range []string{"name", "description", "bid", "parent"} {
				if v, ok := d[k]; ok {
					if _, isRef := v.(map[string]any); isRef {
						v = "<ref>"
					}
					s += " " + k + "=" + toString(v)
				}
			}
		}
		out = append(out, s)
	}
	return out
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return "num"
	case nil:
		return "null"
	}
	return "?"
}

func TestCommitMergeRules(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	p := newProject(t, s, "merge-rules")
	existing, err := s.Create("Task", map[string]any{"name": "existing", "parent": p})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		reason string
		do     func(t *testing.T)
		want   []string
	}{
		"create then delete": {
			reason: "an entity created and deleted in one batch is not sent at all",
			do: func(t *testing.T) {
				e := must(s.Create("Task", map[string]any{"name": "temp", "parent": p}))
				mustOK(t, e.Set("description", "x"))
				mustOK(t, s.Delete(e))
			},
			want: nil,
		},
		"repeated updates": {
			reason: "only the last update of an attribute is kept",
			do: func(t *testing.T) {
				mustOK(t, existing.Set("name", "a"))
				mustOK(t, existing.Set("name", "b"))
				mustOK(t, existing.Set("name", "c"))
			},
			want: []string{"update Task name=c"},
		},
		"updates fold into create": {
			reason: "updates right after a create fold into its payload",
			do: func(t *testing.T) {
				e := must(s.Create("Task", map[string]any{"name": "new", "parent": p}))
				mustOK(t, e.Set("description", "d"))
				mustOK(t, e.Set("name", "renamed"))
			},
			want: []string{"create Task name=renamed description=d parent=<ref>"},
		},
		"interleaved": {
			reason: "updates of different entities are not folded together; consecutive updates of one entity are",
			do: func(t *testing.T) {
				mustOK(t, existing.Set("description", "one"))
				mustOK(t, existing.Set("bid", 2.5))
				e := must(s.Create("Task", map[string]any{"name": "other", "parent": p}))
				mustOK(t, existing.Set("name", "again"))
				_ = e
			},
			want: []string{"update Task description=one bid=num", "create Task name=other parent=<ref>", "update Task name=again"},
		},
		"delete existing": {
			reason: "a delete of a committed entity is sent",
			do: func(t *testing.T) {
				e := must(s.Create("Task", map[string]any{"name": "doomed", "parent": p}))
				mustOK(t, s.Commit(t.Context()))
				mustOK(t, s.Delete(e))
			},
			want: []string{"delete Task"},
		},
	}
	for _, name := range []string{"create then delete", "repeated updates", "updates fold into create", "interleaved", "delete existing"} {
		tc := cases[name]
		t.Run(name, func(t *testing.T) {
			tc.do(t)
			if diff := cmp.Diff(tc.want, batchShape(s.PendingBatch())); diff != "" {
				t.Errorf("%s: batch (-want +got):\n%s", tc.reason, diff)
			}
			before := srv.RequestCount("")
			_ = before
			if err := s.Commit(t.Context()); err != nil {
				t.Fatalf("%s: commit: %v", tc.reason, err)
			}
			if n := len(s.Operations()); n != 0 {
				t.Errorf("%d operations left after commit", n)
			}
		})
	}
	got, _ := srv.Get("Task", existing.ID())
	if got == nil || got["name"] != "again" || got["description"] != "one" {
		t.Errorf("server state of the existing task = %v", got)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestCreateCommitAndState(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	p := newProject(t, s, "state")
	task, err := s.Create("Task", map[string]any{"name": "lighting", "parent": p, "type_id": builtin.LightingTypeID})
	if err != nil {
		t.Fatal(err)
	}
	if task.State() != ftrack.StateCreated {
		t.Errorf("state after create = %v", task.State())
	}
	if id := task.ID(); len(id) != 36 {
		t.Errorf("default id %q is not a UUID", id)
	}
	ops := s.Operations()
	if len(ops) != 2 || ops[0].Kind != ftrack.OpCreate || ops[1].Kind != ftrack.OpUpdate || ops[1].Attribute != "parent" {
		t.Errorf("operations = %+v, want create then update of parent", ops)
	}
	if err := s.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if task.State() != ftrack.StateNone {
		t.Errorf("state after commit = %v", task.State())
	}
	if _, ok := srv.Get("Task", task.ID()); !ok {
		t.Error("task not on the server")
	}
	mustOK(t, task.Set("name", "lighting2"))
	if task.State() != ftrack.StateModified {
		t.Errorf("state after set = %v", task.State())
	}
	if got := s.Modified(); len(got) != 1 || got[0] != task {
		t.Errorf("Modified() = %v", got)
	}
	mustOK(t, s.Delete(task))
	if task.State() != ftrack.StateDeleted {
		t.Errorf("state after delete = %v", task.State())
	}
	mustOK(t, s.Commit(t.Context()))
	if _, ok := srv.Get("Task", task.ID()); ok {
		t.Error("task still on the server after delete")
	}
}

func TestRollback(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	p := newProject(t, s, "rollback")
	task := must(s.Create("Task", map[string]any{"name": "keep", "parent": p}))
	mustOK(t, s.Commit(t.Context()))
	mustOK(t, task.Set("name", "changed"))
	created := must(s.Create("Task", map[string]any{"name": "dropped", "parent": p}))
	s.Rollback()
	if n := len(s.Operations()); n != 0 {
		t.Errorf("%d operations after rollback", n)
	}
	if got := task.MustGet("name"); got != "keep" {
		t.Errorf("name after rollback = %v, want the remote value keep", got)
	}
	if _, err := s.Get(t.Context(), "Task", created.ID()); !errors.Is(err, ftrack.ErrNotFound) {
		t.Errorf("rolled-back entity: Get = %v, want ErrNotFound (left the identity map)", err)
	}
	// A failed commit keeps the operations for a retry or a rollback.
	mustOK(t, task.Set("name", "again"))
	srv.FailNext(1, 500, "ServerError")
	if err := s.Commit(t.Context()); err == nil {
		t.Fatal("commit succeeded despite the injected fault")
	}
	if n := len(s.Operations()); n != 1 {
		t.Errorf("%d operations after a failed commit, want 1", n)
	}
	mustOK(t, s.Commit(t.Context()))
	if got, _ := srv.Get("Task", task.ID()); got["name"] != "again" {
		t.Errorf("server name = %v after the retried commit", got["name"])
	}
}

func TestRecordingSwitch(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	loc := must(must(s.Query("Location where name is \"ftrack.server\"")).One(t.Context()))
	mustOK(t, s.WithoutRecording(func() error { return loc.Set("label", "local only") }))
	if n := len(s.Operations()); n != 0 {
		t.Errorf("WithoutRecording recorded %d operations", n)
	}
	if !s.RecordOperations() {
		t.Error("recording not restored after WithoutRecording")
	}
	s.SetRecordOperations(false)
	mustOK(t, loc.Set("label", "still local"))
	s.SetRecordOperations(true)
	if n := len(s.Operations()); n != 0 {
		t.Errorf("SetRecordOperations(false) recorded %d operations", n)
	}
	mustOK(t, loc.Set("label", "recorded"))
	if n := len(s.Operations()); n != 1 {
		t.Errorf("%d operations, want 1", n)
	}
}

func TestImmutableAndValidation(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	p := newProject(t, s, "immutable")
	task := must(s.Create("Task", map[string]any{"name": "t", "parent": p}))
	err := task.Set("id", "another-id")
	if !errors.Is(err, ftrack.ErrImmutableAttribute) {
		t.Errorf("changing the id: got %v, want ErrImmutableAttribute", err)
	}
	if err := task.Set("no_such_attribute", 1); !errors.Is(err, ftrack.ErrUnknownAttribute) {
		t.Errorf("unknown attribute: got %v, want ErrUnknownAttribute", err)
	}
	if err := task.Set("name", 42); !errors.Is(err, ftrack.ErrValidation) {
		t.Errorf("wrong type: got %v, want ErrValidation", err)
	}
	if _, err := s.Create("NoSuchType", nil); !errors.Is(err, ftrack.ErrUnknownEntityType) {
		t.Errorf("unknown type: got %v, want ErrUnknownEntityType", err)
	}
}
