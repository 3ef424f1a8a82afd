package ftrack_test

import (
	"testing"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

func TestSmoke(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	p := newProject(t, s, "smoke")
	task, err := s.Create("Task", map[string]any{"name": "comp", "parent": p, "type_id": builtin.CompositingTypeID, "status_id": builtin.ReadyToStartStatusID})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	r, err := s.Query("Task where name is comp")
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.One(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got != task {
		t.Errorf("query returned a different instance")
	}
	st, err := got.Get("status")
	t.Logf("%v %v", st, err)
}
