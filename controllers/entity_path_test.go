package controllers

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// TestEntityPathComesFromFtrack checks that status.path is ftrack's own path of the entity,
// also where the parents are not FtrackEntity objects, and that reading it costs no request
// of its own.
func TestEntityPathComesFromFtrack(t *testing.T) {
	t.Parallel()
	f := newEntityFixture(t, newEmulator(t))
	const (
		projectID  = "00000000-0000-4000-8000-0000000000d1"
		sequenceID = "00000000-0000-4000-8000-0000000000d2"
		shotID     = "00000000-0000-4000-8000-0000000000d3"
	)
	if err := f.server.Seed(
		ftracktest.Record{Type: "Project", Data: map[string]any{"id": projectID, "name": "legacy", "full_name": "Legacy", "project_schema_id": builtin.DefaultProjectSchemaID}},
		ftracktest.Record{Type: "Sequence", Data: map[string]any{"id": sequenceID, "name": "sq010", "parent_id": projectID, "project_id": projectID}},
		ftracktest.Record{Type: "Shot", Data: map[string]any{"id": shotID, "name": "sh010", "parent_id": sequenceID, "project_id": projectID}},
	); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	f.create(
		// Parent given by id: its path comes with the lookup that resolves it.
		f.entity("sh020", "Shot", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "sh020"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: sequenceID}}
		}),
		// An existing entity: its path comes with the read that observes it.
		f.entity("sh010", "Shot", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "sh010"})
			e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: shotID}
		}),
		// A task under an FtrackEntity parent.
		f.entity("sh020-comp", "Task", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "comp"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sh020"}}
		}),
		// A type without a link shows its name.
		f.entity("waiting", "Status", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "Waiting"})
		}),
	)
	f.waitReady(30*time.Second, "sh020", "sh010", "sh020-comp", "waiting")
	got := map[string]string{}
	for _, name := range []string{"sh020", "sh010", "sh020-comp", "waiting"} {
		e, err := f.get(name)
		if err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		got[name] = e.Status.Path
	}
	want := map[string]string{
		"sh020":      "legacy / sq010 / sh020",
		"sh010":      "legacy / sq010 / sh010",
		"sh020-comp": "legacy / sq010 / sh020 / comp",
		"waiting":    "Waiting",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status.path (-want +got):\n%s", diff)
	}

	// A reconcile of an adopted entity reads it once, with its link: one query, no more.
	f.server.ResetRequests()
	const requested = "2026-01-01T00:00:00Z"
	f.update("sh010", func(e *v1alpha1.FtrackEntity) {
		if e.Annotations == nil {
			e.Annotations = map[string]string{}
		}
		e.Annotations[v1alpha1.AnnotationReconcileRequestedAt] = requested
	})
	waitFor(t, 30*time.Second, "the requested reconcile", func() error {
		e, err := f.get("sh010")
		if err != nil {
			return err
		}
		if e.Status.LastHandledReconcileAt != requested {
			return fmt.Errorf("lastHandledReconcileAt = %q", e.Status.LastHandledReconcileAt)
		}
		return nil
	})
	if diff := cmp.Diff(map[string]int{"query": 1, "writes": 0}, map[string]int{"query": f.server.RequestCount("query"), "writes": writeCount(f.server)}); diff != "" {
		t.Errorf("requests of one reconcile of an adopted shot (-want +got):\n%s", diff)
	}
}
