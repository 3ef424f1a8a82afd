package controllers

import (
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// projectEntity declares a project called name.
func projectEntity(f *entityFixture, name string, mutate ...func(*v1alpha1.FtrackEntity)) *v1alpha1.FtrackEntity {
	return f.entity(name, "Project", append([]func(*v1alpha1.FtrackEntity){func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = attrs(map[string]any{"name": name, "full_name": "Project " + name})
		e.Spec.References = map[string]v1alpha1.EntityReference{"project_schema": {ID: builtin.DefaultProjectSchemaID}}
	}}, mutate...)...)
}

// changeOutOfBand sets attribute name of the entity through a session of its own, as a
// person in the ftrack web UI would.
func changeOutOfBand(t *testing.T, f *entityFixture, typ, id, name string, value any) {
	t.Helper()
	s := f.session()
	e, err := s.Get(t.Context(), typ, id)
	if err != nil {
		t.Fatalf("reading %s %s: %v", typ, id, err)
	}
	if err := e.Set(name, value); err != nil {
		t.Fatalf("setting %s: %v", name, err)
	}
	if err := s.Commit(t.Context()); err != nil {
		t.Fatalf("committing the out-of-band change: %v", err)
	}
}

func TestEntityDrift(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason string
		policy v1alpha1.DriftPolicy
	}{
		"Correct": {reason: "an out-of-band change is undone within 2 seconds", policy: v1alpha1.DriftPolicyCorrect},
		"Report":  {reason: "an out-of-band change is reported in status and left in ftrack", policy: v1alpha1.DriftPolicyReport},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newEntityFixture(t, newEmulator(t))
			f.create(projectEntity(f, "drift", func(e *v1alpha1.FtrackEntity) { e.Spec.DriftPolicy = tc.policy }))
			f.waitReady(30*time.Second, "drift")
			obj, _ := f.get("drift")
			id := obj.Status.ID

			changeOutOfBand(t, f, "Project", id, "full_name", "Changed in ftrack")
			changed := time.Now()
			switch tc.policy {
			case v1alpha1.DriftPolicyCorrect:
				waitFor(t, 2*time.Second, tc.reason, func() error {
					p, _ := f.server.Get("Project", id)
					if p["full_name"] != "Project drift" {
						return fmt.Errorf("full_name = %v", p["full_name"])
					}
					return nil
				})
				t.Logf("drift corrected %s after the change", time.Since(changed).Round(time.Millisecond))
				waitFor(t, 5*time.Second, "corrected drift in status", func() error {
					e, err := f.get("drift")
					if err != nil {
						return err
					}
					if d := e.Status.LastDrift; d == nil || !d.Corrected || len(d.Attributes) != 1 || d.Attributes[0].Name != "attributes.full_name" {
						return fmt.Errorf("lastDrift = %+v", d)
					}
					return nil
				})
				f.waitCondition(5*time.Second, "drift", v1alpha1.ConditionSynced, metav1.ConditionTrue, v1alpha1.ReasonSynced)
			case v1alpha1.DriftPolicyReport:
				e := f.waitCondition(5*time.Second, "drift", v1alpha1.ConditionSynced, metav1.ConditionFalse, v1alpha1.ReasonDriftReported)
				want := &v1alpha1.DriftReport{Attributes: []v1alpha1.AttributeDrift{{Name: "attributes.full_name", Expected: `"Project drift"`, Actual: `"Changed in ftrack"`}}}
				if diff := cmp.Diff(want.Attributes, e.Status.LastDrift.Attributes); diff != "" {
					t.Errorf("lastDrift (-want +got):\n%s", diff)
				}
				if got := kstatusOf(t, e); got != status.CurrentStatus {
					t.Errorf("kstatus of a reported drift = %s, want Current", got)
				}
				p, _ := f.server.Get("Project", id)
				if p["full_name"] != "Changed in ftrack" {
					t.Errorf("full_name = %v, want the out-of-band value kept", p["full_name"])
				}
			}
		})
	}
}

func TestEntityOutOfBandDeletion(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason string
		policy v1alpha1.DriftPolicy
	}{
		"Correct": {reason: "a deleted entity is recreated with its id", policy: v1alpha1.DriftPolicyCorrect},
		"Report":  {reason: "a deleted entity is reported and not recreated", policy: v1alpha1.DriftPolicyReport},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newEntityFixture(t, newEmulator(t))
			f.create(projectEntity(f, "gone", func(e *v1alpha1.FtrackEntity) { e.Spec.DriftPolicy = tc.policy }))
			f.waitReady(30*time.Second, "gone")
			obj, _ := f.get("gone")
			id := obj.Status.ID

			s := f.session()
			e, err := s.Get(t.Context(), "Project", id)
			if err != nil {
				t.Fatalf("reading the project: %v", err)
			}
			if err := s.Delete(e); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if err := s.Commit(t.Context()); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			waitFor(t, 15*time.Second, "deletion handled", func() error {
				o, err := f.get("gone")
				if err != nil {
					return err
				}
				if d := o.Status.LastDrift; d == nil || !d.Deleted || d.Corrected != (tc.policy == v1alpha1.DriftPolicyCorrect) {
					return fmt.Errorf("lastDrift = %+v", d)
				}
				return nil
			})
			_, exists := f.server.Get("Project", id)
			want := tc.policy == v1alpha1.DriftPolicyCorrect
			wantCount := 0
			if want {
				wantCount = 1
			}
			if exists != want || f.server.Count("Project") != wantCount {
				t.Errorf("%s: project exists = %v (%d projects), want %v", tc.reason, exists, f.server.Count("Project"), want)
			}
			if tc.policy == v1alpha1.DriftPolicyReport {
				o := f.waitCondition(5*time.Second, "gone", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonNotFoundInFtrack)
				if got := kstatusOf(t, o); got != status.FailedStatus {
					t.Errorf("kstatus of a reported deletion = %s, want Failed", got)
				}
			}
		})
	}
}

// TestEntityRecreatedShotKeepsItsTasksInTheProject: a shot deleted in ftrack (its tasks go
// with it) is created again by its object, and so are its tasks, under it and in its
// project. The shot's object is paused first, so that its tasks meet the parent's absence
// for certain: ftrack refuses their create, which makes them wait (not stall), and the
// shot's recreate wakes them.
func TestEntityRecreatedShotKeepsItsTasksInTheProject(t *testing.T) {
	t.Parallel()
	f := newEntityFixture(t, newEmulator(t))
	child := func(name, typ, parent string, extra map[string]any) *v1alpha1.FtrackEntity {
		return f.entity(name, typ, func(e *v1alpha1.FtrackEntity) {
			a := map[string]any{"name": name}
			maps.Copy(a, extra)
			e.Spec.Attributes = attrs(a)
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: parent}}
		})
	}
	tasks := []string{"layout", "anim", "comp"}
	objs := []*v1alpha1.FtrackEntity{projectEntity(f, "reshow"), child("sq010", "Sequence", "reshow", nil), child("sh010", "Shot", "sq010", nil)}
	for _, n := range tasks {
		objs = append(objs, child(n, "Task", "sh010", map[string]any{"description": "task " + n}))
	}
	f.create(objs...)
	f.waitReady(30*time.Second, "reshow", "sq010", "sh010", "layout", "anim", "comp")
	project, _ := f.get("reshow")
	shot, _ := f.get("sh010")

	f.update("sh010", func(e *v1alpha1.FtrackEntity) { e.Annotations[v1alpha1.AnnotationPaused] = "true" })
	f.waitCondition(30*time.Second, "sh010", v1alpha1.ConditionSynced, metav1.ConditionFalse, v1alpha1.ReasonSuspended)
	s := f.session()
	e, err := s.Get(t.Context(), "Shot", shot.Status.ID)
	if err != nil {
		t.Fatalf("reading the shot: %v", err)
	}
	if err := s.Delete(e); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, n := range tasks {
		o := f.waitConditionMessage(30*time.Second, n, v1alpha1.ReasonReferenceNotFound, "references.parent", shot.Status.ID, "not in ftrack")
		if meta.IsStatusConditionTrue(o.Status.Conditions, v1alpha1.ConditionStalled) {
			t.Errorf("task %s stalled while its parent is being recreated:\n%s", n, conditionsText(o.Status.Conditions))
		}
	}

	// The tasks look again on their own only after referenceGoneRequeue; within less, only
	// the shot's recreate can have woken them.
	f.update("sh010", func(e *v1alpha1.FtrackEntity) { delete(e.Annotations, v1alpha1.AnnotationPaused) })
	waitFor(t, referenceGoneRequeue*2/3, "the shot and its tasks recreated in the project", func() error {
		if _, ok := f.server.Get("Shot", shot.Status.ID); !ok {
			return errors.New("the shot is not back")
		}
		for _, n := range tasks {
			o, err := f.get(n)
			if err != nil {
				return err
			}
			r, ok := f.server.Get("Task", o.Status.ID)
			if !ok {
				return fmt.Errorf("task %s is not back", n)
			}
			if r["project_id"] != project.Status.ID || r["parent_id"] != shot.Status.ID {
				return fmt.Errorf("task %s has project_id %v and parent_id %v, want %s and %s", n, r["project_id"], r["parent_id"], project.Status.ID, shot.Status.ID)
			}
		}
		return nil
	})
	f.waitReady(30*time.Second, tasks...)
	res, err := s.Query(`select id from Task where project.name is "reshow"`)
	if err != nil {
		t.Fatal(err)
	}
	all, err := res.All(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(tasks) {
		t.Errorf("Task where project.name is \"reshow\" finds %d tasks, want %d", len(all), len(tasks))
	}
}
