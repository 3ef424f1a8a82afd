package controllers

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/plan"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// Custom attribute configurations seeded into the emulators of the entity tests.
const (
	fstartConfigID = "00000000-0000-4000-8000-00000000f001"
	notesConfigID  = "00000000-0000-4000-8000-00000000f002"
)

// showSeed are the custom attribute configurations of the show tests.
func showSeed() ftracktest.Option {
	return ftracktest.WithSeed(
		ftracktest.Record{Type: "CustomAttributeConfiguration", Data: map[string]any{"id": fstartConfigID, "key": "fstart", "label": "Frame start", "entity_type": "task", "object_type_id": builtin.ShotObjectTypeID, "type_id": builtin.NumberCustomAttributeTypeID, "default": 1001, "config": "{}", "core": false}},
		ftracktest.Record{Type: "CustomAttributeConfiguration", Data: map[string]any{"id": notesConfigID, "key": "brief", "label": "Brief", "entity_type": "show", "type_id": builtin.TextCustomAttributeTypeID, "default": "", "config": "{}", "core": false}},
	)
}

// showObjects declares a show: a project, two sequences with two shots each, and a
// compositing task per shot whose status and type are found by query.
func showObjects(f *entityFixture) []*v1alpha1.FtrackEntity {
	objs := []*v1alpha1.FtrackEntity{
		f.entity("show", "Project", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "show", "full_name": "The Show", "start_date": "2026-01-05T09:00:00+01:00"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"project_schema": {ID: builtin.DefaultProjectSchemaID}}
			e.Spec.CustomAttributes = attrs(map[string]any{"brief": "a show about shows"})
			e.Spec.Metadata = map[string]string{"client": "acme"}
		}),
	}
	for s := 1; s <= 2; s++ {
		seq := fmt.Sprintf("sq%03d", s*10)
		objs = append(objs, f.entity(seq, "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": seq, "description": "sequence " + seq})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "show"}}
		}))
		for h := 1; h <= 2; h++ {
			shot := fmt.Sprintf("%s-sh%03d", seq, h*10)
			objs = append(objs, f.entity(shot, "Shot", func(e *v1alpha1.FtrackEntity) {
				e.Spec.Attributes = attrs(map[string]any{"name": shot, "description": "shot " + shot})
				e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: seq}}
				e.Spec.CustomAttributes = attrs(map[string]any{"fstart": 1001 + h})
				e.Spec.Metadata = map[string]string{"lens": "35mm"}
			}))
			objs = append(objs, f.entity(shot+"-comp", "Task", func(e *v1alpha1.FtrackEntity) {
				e.Spec.Attributes = attrs(map[string]any{"name": "comp"})
				e.Spec.References = map[string]v1alpha1.EntityReference{
					"parent": {Name: shot},
					"status": {Query: `Status where name is "In progress"`},
					"type":   {Query: `Type where name is "Compositing"`},
				}
			}))
		}
	}
	return objs
}

func TestEntityAppliesAWholeShow(t *testing.T) {
	t.Parallel()
	f := newEntityFixture(t, newEmulator(t, showSeed()))
	objs := showObjects(f)
	// Children first: they wait for their parents without calling ftrack.
	for i := len(objs) - 1; i >= 0; i-- {
		f.create(objs[i])
	}
	for _, o := range objs {
		f.waitReady(60*time.Second, o.Name)
	}

	if diff := cmp.Diff(map[string]int{"Project": 1, "Sequence": 2, "Shot": 4, "Task": 4},
		map[string]int{"Project": f.server.Count("Project"), "Sequence": f.server.Count("Sequence"), "Shot": f.server.Count("Shot"), "Task": f.server.Count("Task")}); diff != "" {
		t.Errorf("entities in ftrack (-want +got):\n%s", diff)
	}
	show, _ := f.get("show")
	p, ok := f.server.Get("Project", show.Status.ID)
	if !ok {
		t.Fatalf("project %s is not in ftrack", show.Status.ID)
	}
	if diff := cmp.Diff(map[string]any{"name": "show", "full_name": "The Show", "start_date": time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)},
		map[string]any{"name": p["name"], "full_name": p["full_name"], "start_date": p["start_date"]}); diff != "" {
		t.Errorf("project attributes (-want +got):\n%s", diff)
	}
	if show.Status.ID != plan.EntityIDFor(show.UID) || show.Annotations[v1alpha1.AnnotationEntityID] != show.Status.ID {
		t.Errorf("project id %q, annotation %q, want both %q", show.Status.ID, show.Annotations[v1alpha1.AnnotationEntityID], plan.EntityIDFor(show.UID))
	}
	shot, _ := f.get("sq010-sh020")
	seq, _ := f.get("sq010")
	s, _ := f.server.Get("Shot", shot.Status.ID)
	if s["parent_id"] != seq.Status.ID {
		t.Errorf("shot parent_id = %v, want the sequence %s", s["parent_id"], seq.Status.ID)
	}
	if want := "show / sq010 / sq010-sh020"; shot.Status.Path != want {
		t.Errorf("shot path = %q, want %q", shot.Status.Path, want)
	}
	task, _ := f.get("sq010-sh020-comp")
	tk, _ := f.server.Get("Task", task.Status.ID)
	if diff := cmp.Diff(map[string]any{"status_id": builtin.InProgressStatusID, "type_id": builtin.CompositingTypeID, "parent_id": shot.Status.ID},
		map[string]any{"status_id": tk["status_id"], "type_id": tk["type_id"], "parent_id": tk["parent_id"]}); diff != "" {
		t.Errorf("task relations (-want +got):\n%s", diff)
	}
	metadata := map[string]string{}
	for _, m := range f.server.All("Metadata") {
		if m["parent_id"] == shot.Status.ID {
			metadata[m["key"].(string)] = m["value"].(string)
		}
	}
	if diff := cmp.Diff(map[string]string{"lens": "35mm", v1alpha1.MetadataManagedBy: string(shot.UID)}, metadata); diff != "" {
		t.Errorf("shot metadata (-want +got):\n%s", diff)
	}
	var fstart any
	for _, v := range f.server.All("ContextCustomAttributeValue") {
		if v["entity_id"] == shot.Status.ID && v["configuration_id"] == fstartConfigID {
			fstart = v["value"]
		}
	}
	if fstart != float64(1003) {
		t.Errorf("shot fstart = %v, want 1003", fstart)
	}
	if got := kstatusOf(t, shot); got != status.CurrentStatus {
		t.Errorf("kstatus of a synced entity = %s, want Current", got)
	}

	// Nothing to change: another reconcile sends no write.
	before := writeCount(f.server)
	f.update("sq010-sh020", func(e *v1alpha1.FtrackEntity) {
		e.Annotations[v1alpha1.AnnotationReconcileRequestedAt] = "now-1"
	})
	waitFor(t, 20*time.Second, "reconcile-requested-at handled", func() error {
		e, err := f.get("sq010-sh020")
		if err != nil {
			return err
		}
		if e.Status.LastHandledReconcileAt != "now-1" {
			return fmt.Errorf("lastHandledReconcileAt = %q", e.Status.LastHandledReconcileAt)
		}
		return nil
	})
	if got := writeCount(f.server); got != before {
		t.Errorf("a reconcile with nothing to change sent %d writes", got-before)
	}

	// A spec change updates only what differs.
	f.update("sq010-sh020", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes["description"] = js("changed")
	})
	waitFor(t, 20*time.Second, "description updated", func() error {
		s, _ := f.server.Get("Shot", shot.Status.ID)
		if s["description"] != "changed" {
			return fmt.Errorf("description = %v", s["description"])
		}
		return nil
	})
	f.waitCondition(20*time.Second, "sq010-sh020", v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonSynced)
	if got := f.server.Count("Shot"); got != 4 {
		t.Errorf("shots after the update = %d, want 4", got)
	}
	// A show this size is within the connection's Event budget: every object has its own
	// Events, and nothing is summarised on the connection.
	waitFor(t, 20*time.Second, "a Created and an Updated Event on the shot", func() error {
		if err := hasEvent(t.Context(), f.ns, "sq010-sh020", v1alpha1.EventReasonCreated)(); err != nil {
			return err
		}
		return hasEvent(t.Context(), f.ns, "sq010-sh020", v1alpha1.EventReasonUpdated)()
	})
	for _, name := range []string{"show", "sq010", "sq010-sh020-comp"} {
		waitFor(t, 20*time.Second, "a Created Event on "+name, hasEvent(t.Context(), f.ns, name, v1alpha1.EventReasonCreated))
	}
	if reasons, err := eventReasons(t.Context(), f.ns, f.conn); err != nil || slices.Contains(reasons, v1alpha1.EventReasonEntityEventsSummarized) {
		t.Errorf("Events on the connection = %v (%v): want no summary within the budget", reasons, err)
	}
}
