package ftrack_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

func TestMetadataView(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	p := newProject(t, s, "meta")
	task := must(s.Create("Task", map[string]any{"name": "t", "parent": p}))
	mustOK(t, s.Commit(t.Context()))
	md := task.Metadata()
	mustOK(t, md.Set(t.Context(), "colour", "red"))
	ops := s.Operations()
	if len(ops) != 2 || ops[0].Kind != ftrack.OpCreate || ops[0].EntityType != "Metadata" || ops[1].Kind != ftrack.OpUpdate || ops[1].Attribute != "metadata" {
		t.Errorf("new key: operations = %+v, want create Metadata then update of metadata", ops)
	}
	mustOK(t, s.Commit(t.Context()))

	reader := newSession(t, srv)
	got := must(reader.Get(t.Context(), "Task", task.ID()))
	if v, err := got.Metadata().Get(t.Context(), "colour"); err != nil || v != "red" {
		t.Errorf("metadata colour = %v, %v", v, err)
	}
	mustOK(t, got.Metadata().Set(t.Context(), "colour", "blue"))
	ops = reader.Operations()
	if len(ops) != 1 || ops[0].EntityType != "Metadata" || ops[0].Attribute != "value" {
		t.Errorf("changed key: operations = %+v, want one update of the Metadata value", ops)
	}
	wantKey := []ftrack.KeyValue{{Name: "parent_id", Value: task.ID()}, {Name: "key", Value: "colour"}}
	if diff := cmp.Diff(wantKey, ops[0].EntityKey); diff != "" {
		t.Errorf("Metadata key (-want +got):\n%s", diff)
	}
	mustOK(t, got.Metadata().Set(t.Context(), "size", "L"))
	mustOK(t, reader.Commit(t.Context()))
	keys := must(got.Metadata().Keys(t.Context()))
	slices.Sort(keys)
	if diff := cmp.Diff([]string{"colour", "size"}, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	mustOK(t, got.Metadata().Delete(t.Context(), "size"))
	if ops := reader.Operations(); len(ops) != 1 || ops[0].Kind != ftrack.OpDelete {
		t.Errorf("delete: operations = %+v", ops)
	}
	mustOK(t, reader.Commit(t.Context()))
	third := newSession(t, srv)
	keys = must(must(third.Get(t.Context(), "Task", task.ID())).Metadata().Keys(t.Context()))
	if diff := cmp.Diff([]string{"colour"}, keys); diff != "" {
		t.Errorf("keys on the server after delete (-want +got):\n%s", diff)
	}
	if _, err := got.Metadata().Get(t.Context(), "nope"); !errors.Is(err, ftrack.ErrNotFound) {
		t.Errorf("missing key: got %v", err)
	}
}

func TestCustomAttributesView(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	must(s.Create("CustomAttributeConfiguration", map[string]any{
		"key": "fstart", "label": "Frame start", "config": `{"isdecimal": false}`, "core": false,
		"entity_type": "task", "object_type_id": builtin.TaskObjectTypeID, "type_id": builtin.NumberCustomAttributeTypeID, "default": 1001.0,
	}))
	mustOK(t, s.Commit(t.Context()))
	p := newProject(t, s, "custom")

	// A new entity: the value item is made locally and only updated.
	task := must(s.Create("Task", map[string]any{"name": "t", "parent": p}))
	mustOK(t, task.CustomAttributes().Set(t.Context(), "fstart", 1010.0))
	var caOps []ftrack.Operation
	for _, op := range s.Operations() {
		if op.EntityType == "ContextCustomAttributeValue" {
			caOps = append(caOps, op)
		}
	}
	if len(caOps) != 1 || caOps[0].Kind != ftrack.OpUpdate || caOps[0].Attribute != "value" {
		t.Errorf("custom attribute operations = %+v, want one update", caOps)
	}
	mustOK(t, s.Commit(t.Context()))

	reader := newSession(t, srv)
	got := must(reader.Get(t.Context(), "Task", task.ID()))
	if v, err := got.CustomAttributes().Get(t.Context(), "fstart"); err != nil || v != 1010.0 {
		t.Errorf("fstart = %v, %v; want 1010", v, err)
	}
	mustOK(t, got.CustomAttributes().Set(t.Context(), "fstart", 1020.0))
	mustOK(t, reader.Commit(t.Context()))
	again := newSession(t, srv)
	if v, _ := must(again.Get(t.Context(), "Task", task.ID())).CustomAttributes().Get(t.Context(), "fstart"); v != 1020.0 {
		t.Errorf("fstart after update = %v", v)
	}
	if err := got.CustomAttributes().Set(t.Context(), "unknown", 1.0); !errors.Is(err, ftrack.ErrNotFound) {
		t.Errorf("unknown key on a persisted entity: got %v", err)
	}
	if err := got.CustomAttributes().Delete(t.Context(), "fstart"); err == nil {
		t.Error("deleting a custom attribute was accepted")
	}
}
