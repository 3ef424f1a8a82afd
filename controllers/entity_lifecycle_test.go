package controllers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// Entities seeded into the lifecycle tests' emulators, as if made in ftrack by hand.
const (
	legacyProjectID  = "00000000-0000-4000-8000-0000000000c1"
	legacySequenceID = "00000000-0000-4000-8000-0000000000c2"
)

// newLegacyFixture is a fixture whose emulator holds a project and a sequence the operator
// did not create.
func newLegacyFixture(t *testing.T) *entityFixture {
	t.Helper()
	srv := newEmulator(t, ftracktest.WithSeed(
		ftracktest.Record{Type: "Project", Data: map[string]any{"id": legacyProjectID, "name": "legacy", "full_name": "Legacy", "project_schema_id": builtin.DefaultProjectSchemaID}},
		ftracktest.Record{Type: "Sequence", Data: map[string]any{"id": legacySequenceID, "name": "sq500", "parent_id": legacyProjectID, "description": "by hand"}},
	))
	return newEntityFixture(t, srv)
}

// managedBy returns the managed-by metadata value of entity id, or "".
func managedBy(srv *ftracktest.Server, id string) string {
	for _, m := range srv.All("Metadata") {
		if m["parent_id"] == id && m["key"] == v1alpha1.MetadataManagedBy {
			return m["value"].(string)
		}
	}
	return ""
}

// deleteEntity deletes an FtrackEntity and waits until it is gone.
func (f *entityFixture) deleteEntity(name string) {
	f.t.Helper()
	e, err := f.get(name)
	if err != nil {
		f.t.Fatalf("reading %s: %v", name, err)
	}
	if err := k8sClient.Delete(f.t.Context(), e); err != nil {
		f.t.Fatalf("deleting %s: %v", name, err)
	}
	waitFor(f.t, 20*time.Second, name+" deleted", func() error {
		if _, err := f.get(name); err == nil {
			return fmt.Errorf("%s still exists", name)
		}
		return nil
	})
}

func TestEntityAdoption(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason string
		typ    string
		id     string
		mutate func(*v1alpha1.FtrackEntity)
		check  func(t *testing.T, f *entityFixture)
	}{
		"ByID": {
			reason: "an existing project named by id is taken over and updated",
			typ:    "Project", id: legacyProjectID,
			mutate: func(e *v1alpha1.FtrackEntity) {
				e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: legacyProjectID}
				e.Spec.Attributes = attrs(map[string]any{"name": "legacy", "full_name": "Legacy, managed"})
			},
			check: func(t *testing.T, f *entityFixture) {
				p, _ := f.server.Get("Project", legacyProjectID)
				if p["full_name"] != "Legacy, managed" || f.server.Count("Project") != 1 {
					t.Errorf("project %v, %d projects; want the one project updated", p["full_name"], f.server.Count("Project"))
				}
			},
		},
		"ByAttributes": {
			reason: "an existing sequence found by name and parent is taken over",
			typ:    "Sequence", id: legacySequenceID,
			mutate: func(e *v1alpha1.FtrackEntity) {
				e.Spec.Adopt = &v1alpha1.AdoptSpec{Match: map[string]string{"name": "sq500", "parent_id": legacyProjectID}}
				e.Spec.Attributes = attrs(map[string]any{"name": "sq500", "description": "managed now"})
				e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: legacyProjectID}}
			},
			check: func(t *testing.T, f *entityFixture) {
				s, _ := f.server.Get("Sequence", legacySequenceID)
				if s["description"] != "managed now" || f.server.Count("Sequence") != 1 {
					t.Errorf("sequence %v, %d sequences; want the one sequence updated", s["description"], f.server.Count("Sequence"))
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newLegacyFixture(t)
			f.create(f.entity("adopted", tc.typ, tc.mutate))
			e := f.waitCondition(30*time.Second, "adopted", v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonSynced)
			if diff := cmp.Diff([]string{tc.id, string(v1alpha1.OwnershipAdopted)}, []string{e.Status.ID, string(e.Status.Ownership)}); diff != "" {
				t.Errorf("%s: id and ownership (-want +got):\n%s", tc.reason, diff)
			}
			if got := managedBy(f.server, tc.id); got != string(e.UID) {
				t.Errorf("%s: managed-by metadata = %q, want the object's UID", tc.reason, got)
			}
			tc.check(t, f)
		})
	}
}

func TestEntityObserveOnly(t *testing.T) {
	t.Parallel()
	f := newLegacyFixture(t)
	f.server.ResetRequests()
	f.create(f.entity("watched", "Project", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Management = v1alpha1.ManagementObserve
		e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: legacyProjectID}
		e.Spec.Attributes = attrs(map[string]any{"full_name": "Not what ftrack says"})
		e.Spec.DeletionPolicy = v1alpha1.DeletionPolicyDelete
	}))
	e := f.waitCondition(30*time.Second, "watched", v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonObserved)
	if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady); !strings.Contains(c.Message, "differs from the spec in attributes.full_name") {
		t.Errorf("Ready message = %q, want the difference named", c.Message)
	}
	if e.Status.Ownership != v1alpha1.OwnershipObserved || e.Status.Path != "legacy" {
		t.Errorf("ownership %q path %q, want Observed and legacy", e.Status.Ownership, e.Status.Path)
	}
	if controllerutil.ContainsFinalizer(e, v1alpha1.FinalizerEntityDelete) {
		t.Errorf("an observe-only object has the delete finalizer")
	}
	f.deleteEntity("watched")
	if _, ok := f.server.Get("Project", legacyProjectID); !ok {
		t.Errorf("deleting an observe-only object deleted the project")
	}
	if got := writeCount(f.server); got != 0 {
		t.Errorf("observe-only sent %d writes", got)
	}
}

func TestEntityDeletionPolicies(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason        string
		policy        v1alpha1.DeletionPolicy
		goneBefore    bool
		wantFinalizer bool
		wantExists    bool
	}{
		"Orphan":            {reason: "the default leaves ftrack alone", policy: v1alpha1.DeletionPolicyOrphan, wantExists: true},
		"Delete":            {reason: "Delete removes the entity", policy: v1alpha1.DeletionPolicyDelete, wantFinalizer: true},
		"DeleteAlreadyGone": {reason: "an entity already gone counts as deleted", policy: v1alpha1.DeletionPolicyDelete, goneBefore: true, wantFinalizer: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newEntityFixture(t, newEmulator(t))
			f.create(projectEntity(f, "doomed", func(e *v1alpha1.FtrackEntity) { e.Spec.DeletionPolicy = tc.policy }))
			f.waitReady(30*time.Second, "doomed")
			e, _ := f.get("doomed")
			if got := controllerutil.ContainsFinalizer(e, v1alpha1.FinalizerEntityDelete); got != tc.wantFinalizer {
				t.Errorf("%s: finalizer present = %v, want %v", tc.reason, got, tc.wantFinalizer)
			}
			id := e.Status.ID
			if tc.goneBefore {
				f.update("doomed", func(e *v1alpha1.FtrackEntity) { e.Spec.Suspend = true })
				f.waitCondition(20*time.Second, "doomed", v1alpha1.ConditionSynced, metav1.ConditionFalse, v1alpha1.ReasonSuspended)
				s := f.session()
				p, err := s.Get(t.Context(), "Project", id)
				if err != nil {
					t.Fatalf("reading the project: %v", err)
				}
				if err := s.Delete(p); err != nil {
					t.Fatalf("Delete: %v", err)
				}
				if err := s.Commit(t.Context()); err != nil {
					t.Fatalf("Commit: %v", err)
				}
			}
			f.deleteEntity("doomed")
			if _, ok := f.server.Get("Project", id); ok != tc.wantExists {
				t.Errorf("%s: project exists after deletion = %v, want %v", tc.reason, ok, tc.wantExists)
			}
		})
	}
}

func TestEntityRefusesToDeleteWhatItDidNotCreate(t *testing.T) {
	t.Parallel()
	f := newLegacyFixture(t)
	// Pointing the id annotation at someone else's project does not make it ours.
	f.create(projectEntity(f, "hijack", func(e *v1alpha1.FtrackEntity) {
		e.Annotations = map[string]string{v1alpha1.AnnotationEntityID: legacyProjectID}
		e.Spec.Attributes = attrs(map[string]any{"name": "legacy", "full_name": "Hijacked"})
		e.Spec.DeletionPolicy = v1alpha1.DeletionPolicyDelete
	}))
	e := f.waitCondition(30*time.Second, "hijack", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonOwnershipConflict)
	if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady); !strings.Contains(c.Message, "spec.adopt.id") {
		t.Errorf("Ready message = %q, want a pointer to spec.adopt.id", c.Message)
	}
	f.deleteEntity("hijack")
	p, ok := f.server.Get("Project", legacyProjectID)
	if !ok || p["full_name"] != "Legacy" {
		t.Errorf("the project was changed or deleted: %v, exists %v", p["full_name"], ok)
	}
	if got := writeCount(f.server); got != 0 {
		t.Errorf("%d writes for an entity the operator does not own", got)
	}
}

func TestEntityPause(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason string
		pause  func(*v1alpha1.FtrackEntity, bool)
	}{
		"Annotation": {reason: "the paused annotation", pause: func(e *v1alpha1.FtrackEntity, on bool) {
			if on {
				e.Annotations[v1alpha1.AnnotationPaused] = "true"
			} else {
				delete(e.Annotations, v1alpha1.AnnotationPaused)
			}
		}},
		"Suspend": {reason: "spec.suspend", pause: func(e *v1alpha1.FtrackEntity, on bool) { e.Spec.Suspend = on }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newEntityFixture(t, newEmulator(t))
			f.create(projectEntity(f, "paused"))
			f.waitReady(30*time.Second, "paused")
			e, _ := f.get("paused")
			f.update("paused", func(e *v1alpha1.FtrackEntity) {
				tc.pause(e, true)
				e.Spec.Attributes["full_name"] = js("While paused")
			})
			f.waitCondition(20*time.Second, "paused", v1alpha1.ConditionSynced, metav1.ConditionFalse, v1alpha1.ReasonSuspended)
			if p, _ := f.server.Get("Project", e.Status.ID); p["full_name"] != "Project paused" {
				t.Errorf("%s: a paused object changed ftrack: full_name %v", tc.reason, p["full_name"])
			}
			paused, _ := f.get("paused")
			if got := kstatusOf(t, paused); got != status.CurrentStatus {
				t.Errorf("%s: kstatus of a paused object = %s, want Current", tc.reason, got)
			}
			f.update("paused", func(e *v1alpha1.FtrackEntity) { tc.pause(e, false) })
			waitFor(t, 20*time.Second, "applied after unpausing", func() error {
				if p, _ := f.server.Get("Project", e.Status.ID); p["full_name"] != "While paused" {
					return fmt.Errorf("full_name = %v", p["full_name"])
				}
				return nil
			})
		})
	}
}

func TestEntityImmutableAttributeAndProgress(t *testing.T) {
	t.Parallel()
	f := newLegacyFixture(t)
	// A shot whose parent does not exist yet is in progress, without a request to ftrack.
	f.create(f.entity("sh010", "Shot", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = attrs(map[string]any{"name": "sh010", "start_date": "2026-03-01T00:00:00Z"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sq010"}}
	}))
	// A new object waits for its parent quietly (no status write for up to waitGrace), and
	// reads as in progress all the same.
	if got := liveKstatus(t, f.ns, "sh010"); got != status.InProgressStatus {
		t.Errorf("kstatus of an object waiting for a reference = %s, want InProgress", got)
	}
	f.server.ResetRequests()
	f.create(f.entity("sq010", "Sequence", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = attrs(map[string]any{"name": "sq010"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: legacyProjectID}}
	}))
	// The parent becoming Ready wakes the shot.
	f.waitReady(30*time.Second, "sq010", "sh010")

	before := writeCount(f.server)
	f.update("sh010", func(e *v1alpha1.FtrackEntity) { e.Spec.Attributes["start_date"] = js("2026-04-01T00:00:00Z") })
	e := f.waitCondition(30*time.Second, "sh010", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonInvalidAttribute)
	if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady); !strings.Contains(c.Message, "cannot be changed after creation") {
		t.Errorf("Ready message = %q", c.Message)
	}
	if got := writeCount(f.server) - before; got != 0 {
		t.Errorf("changing an immutable attribute sent %d writes", got)
	}
}

// TestEntityStuckReference: a child of an object that cannot become Ready (its spec is
// refused) is Stalled too — kstatus reads it as Failed at once, not InProgress forever —
// and goes on by itself once the parent's spec is fixed.
func TestEntityStuckReference(t *testing.T) {
	t.Parallel()
	f := newLegacyFixture(t)
	f.create(
		f.entity("sq010", "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "sq010", "no_such_attribute": "x"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: legacyProjectID}}
		}),
		f.entity("sh010", "Shot", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "sh010"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sq010"}}
		}),
	)
	f.waitCondition(30*time.Second, "sq010", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonInvalidAttribute)
	child := f.waitCondition(30*time.Second, "sh010", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonReferenceNotReady)
	if c := meta.FindStatusCondition(child.Status.Conditions, v1alpha1.ConditionReady); !strings.Contains(c.Message, "no_such_attribute") {
		t.Errorf("the child's message does not say why the parent is stuck: %q", c.Message)
	}
	if got := liveKstatus(t, f.ns, "sh010"); got != status.FailedStatus {
		t.Errorf("kstatus of a child of a stuck parent = %s, want Failed", got)
	}
	f.update("sq010", func(e *v1alpha1.FtrackEntity) { delete(e.Spec.Attributes, "no_such_attribute") })
	f.waitReady(30*time.Second, "sq010", "sh010")
}
