package controllers

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// sharedFixtures are namespaces whose objects share one ClusterFtrackConnection to srv, as
// teams of one studio share its ftrack site.
func sharedFixtures(t *testing.T, srv *ftracktest.Server, n int) []*entityFixture {
	t.Helper()
	ctx := t.Context()
	secretNS := newNamespace(t, nil)
	createSecret(t, secretNS, "creds", credentialsData(ftracktest.DefaultUser, ftracktest.DefaultAPIKey))
	namespaces := make([]string, n)
	for i := range namespaces {
		namespaces[i] = newNamespace(t, nil)
	}
	c := &v1alpha1.ClusterFtrackConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "shared-" + secretNS},
		Spec: v1alpha1.ClusterFtrackConnectionSpec{
			ConnectionSettings: v1alpha1.ConnectionSettings{ServerURL: srv.URL},
			SecretRef:          v1alpha1.ClusterCredentialsSecretReference{Namespace: secretNS, Name: "creds"},
			AllowedNamespaces:  v1alpha1.AllowedNamespaces{Names: namespaces},
		},
	}
	if err := k8sClient.Create(ctx, c); err != nil {
		t.Fatalf("creating the ClusterFtrackConnection: %v", err)
	}
	t.Cleanup(func() { deleteConnection(t, c) })
	key := connection.Key{Kind: connection.KindClusterFtrackConnection, Name: c.Name}
	waitFor(t, 30*time.Second, "shared connection Ready", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	waitFor(t, 30*time.Second, "shared event hub connected", conditionIs(ctx, key, v1alpha1.ConditionEventHubConnected, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	out := make([]*entityFixture, n)
	for i, ns := range namespaces {
		t.Cleanup(func() { deleteAllEntities(t, ns) })
		out[i] = &entityFixture{t: t, ns: ns, server: srv, conn: c.Name, clusterConn: true}
	}
	return out
}

// shotsWithTasks declares a project, a sequence, a shot and two tasks in f's namespace.
func shotsWithTasks(f *entityFixture, project string) []*v1alpha1.FtrackEntity {
	return []*v1alpha1.FtrackEntity{
		f.entity("project", "Project", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": project, "full_name": project})
			e.Spec.References = map[string]v1alpha1.EntityReference{"project_schema": {ID: builtin.DefaultProjectSchemaID}}
		}),
		f.entity("sq010", "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "sq010"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "project"}}
		}),
		f.entity("sh010", "Shot", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "sh010", "description": "studio's shot"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sq010"}}
		}),
		f.entity("sh010-comp", "Task", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "comp"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sh010"}}
		}),
		f.entity("sh010-lighting", "Task", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "lighting"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sh010"}}
		}),
	}
}

// statusID returns the ftrack id of a Ready object.
func (f *entityFixture) statusID(name string) string {
	f.t.Helper()
	e, err := f.get(name)
	if err != nil || e.Status.ID == "" {
		f.t.Fatalf("reading the id of %s: %v (status %+v)", name, err, e.Status)
	}
	return e.Status.ID
}

// waitConditionMessage waits for the object's Ready condition to have reason and a message
// that contains every part.
func (f *entityFixture) waitConditionMessage(timeout time.Duration, name, reason string, parts ...string) *v1alpha1.FtrackEntity {
	f.t.Helper()
	var last *v1alpha1.FtrackEntity
	waitFor(f.t, timeout, fmt.Sprintf("%s %s %q", name, reason, parts), func() error {
		e, err := f.get(name)
		if err != nil {
			return err
		}
		last = e
		c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady)
		if c == nil || c.Reason != reason || c.ObservedGeneration != e.Generation {
			return fmt.Errorf("conditions:\n%s", conditionsText(e.Status.Conditions))
		}
		for _, p := range parts {
			if !strings.Contains(c.Message, p) {
				return fmt.Errorf("message %q lacks %q", c.Message, p)
			}
		}
		return nil
	})
	return last
}

// field returns attribute attr of entity typ/id in the emulator, or nil when it is gone.
func field(srv *ftracktest.Server, typ, id, attr string) any {
	r, ok := srv.Get(typ, id)
	if !ok {
		return nil
	}
	return r[attr]
}

// TestOwnershipTakeoverRefused is case 1 of the ownership rules: an object of another
// namespace that points at a shot through the id annotation, with deletionPolicy Delete,
// neither changes nor deletes it.
func TestOwnershipTakeoverRefused(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	fs := sharedFixtures(t, srv, 2)
	studio, teamB := fs[0], fs[1]
	studio.create(shotsWithTasks(studio, "takeover")...)
	studio.waitReady(time.Minute, "project", "sq010", "sh010", "sh010-comp", "sh010-lighting")
	shotID := studio.statusID("sh010")
	taskIDs := []string{studio.statusID("sh010-comp"), studio.statusID("sh010-lighting")}
	shot, _ := studio.get("sh010")
	writes := writeCount(srv)

	hostile := teamB.entity("grab", "Shot", func(e *v1alpha1.FtrackEntity) {
		e.Annotations = map[string]string{v1alpha1.AnnotationEntityID: shotID}
		e.Spec.Attributes = attrs(map[string]any{"name": "sh010", "description": "team-b was here"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: studio.statusID("sq010")}}
		e.Spec.DeletionPolicy = v1alpha1.DeletionPolicyDelete
	})
	teamB.create(hostile)
	got := teamB.waitConditionMessage(30*time.Second, "grab", v1alpha1.ReasonOwnershipConflict, studio.ns+"/sh010", "managed-by mark")
	if !meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.ConditionStalled) {
		t.Errorf("the conflict is not Stalled:\n%s", conditionsText(got.Status.Conditions))
	}
	if got.Status.Ownership != "" || got.Status.ID != "" {
		t.Errorf("the hostile object claims ownership %q of %q", got.Status.Ownership, got.Status.ID)
	}
	if d := field(srv, "Shot", shotID, "description"); d != "studio's shot" {
		t.Errorf("ftrack holds description %v, want studio's", d)
	}
	if w := writeCount(srv); w != writes {
		t.Errorf("%d writes reached ftrack after the hostile object appeared, want 0", w-writes)
	}
	if err := hasEvent(t.Context(), teamB.ns, "grab", v1alpha1.EventReasonInvalidSpec)(); err != nil {
		t.Errorf("no Event tells the hostile object's owner: %v", err)
	}

	teamB.deleteEntity("grab")
	for _, id := range append([]string{shotID}, taskIDs...) {
		if _, ok := srv.Get("Context", id); !ok {
			t.Errorf("entity %s was deleted by the other namespace's object", id)
		}
	}
	if w := writeCount(srv); w != writes {
		t.Errorf("%d writes reached ftrack after the hostile object was deleted, want 0", w-writes)
	}
	// The owner did not notice anything: still Ready, no drift.
	after, _ := studio.get("sh010")
	if after.Status.LastDrift != nil || !isReady(after) || after.Status.ID != shot.Status.ID {
		t.Errorf("the owner was disturbed: drift %+v, conditions:\n%s", after.Status.LastDrift, conditionsText(after.Status.Conditions))
	}
}

// TestOwnershipDeleteBlockedByDescendants is case 2: deleting a sequence whose object says
// Delete waits while its shot and task are kept by objects that say Orphan.
func TestOwnershipDeleteBlockedByDescendants(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason string
		// childPolicy is the deletionPolicy of the shot and the task.
		childPolicy v1alpha1.DeletionPolicy
		blocked     bool
	}{
		"OrphanChildren": {reason: "children that say Orphan block the cascade", childPolicy: v1alpha1.DeletionPolicyOrphan, blocked: true},
		"DeleteChildren": {reason: "children that say Delete agree to it", childPolicy: v1alpha1.DeletionPolicyDelete},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newEmulator(t)
			f := newEntityFixture(t, srv)
			objs := shotsWithTasks(f, "cascade-"+strings.ToLower(name))
			objs[1].Spec.DeletionPolicy = v1alpha1.DeletionPolicyDelete
			for _, o := range objs[2:] {
				o.Spec.DeletionPolicy = tc.childPolicy
			}
			f.create(objs...)
			f.waitReady(time.Minute, "project", "sq010", "sh010", "sh010-comp", "sh010-lighting")
			seqID, shotID, taskID := f.statusID("sq010"), f.statusID("sh010"), f.statusID("sh010-comp")
			seq, _ := f.get("sq010")
			if err := k8sClient.Delete(t.Context(), seq); err != nil {
				t.Fatal(err)
			}
			if !tc.blocked {
				waitFor(t, 30*time.Second, "sequence deleted in ftrack", func() error {
					if _, ok := srv.Get("Sequence", seqID); ok {
						return fmt.Errorf("%s: the sequence is still in ftrack", tc.reason)
					}
					return nil
				})
				return
			}
			got := f.waitConditionMessage(30*time.Second, "sq010", v1alpha1.ReasonDeleteBlocked, f.ns+"/sh010", f.ns+"/sh010-comp", f.ns+"/sh010-lighting")
			if got.DeletionTimestamp.IsZero() || !slices.Contains(got.Finalizers, v1alpha1.FinalizerEntityDelete) {
				t.Errorf("the finalizer went: %v", got.Finalizers)
			}
			waitFor(t, 10*time.Second, "DeleteBlocked Event", hasEvent(t.Context(), f.ns, "sq010", v1alpha1.EventReasonDeleteBlocked))
			for typ, id := range map[string]string{"Sequence": seqID, "Shot": shotID, "Task": taskID} {
				if _, ok := srv.Get(typ, id); !ok {
					t.Errorf("%s: %s %s was deleted", tc.reason, typ, id)
				}
			}
			if n := srv.RequestCount("delete"); n != 0 {
				t.Errorf("%d delete requests reached ftrack, want 0", n)
			}
			// Once the objects that keep the children are gone, the delete goes ahead.
			for _, n := range []string{"sh010-comp", "sh010-lighting", "sh010"} {
				f.deleteEntity(n)
			}
			waitFor(t, 30*time.Second, "sequence deleted in ftrack", func() error {
				if _, ok := srv.Get("Sequence", seqID); ok {
					return fmt.Errorf("the sequence is still in ftrack")
				}
				if _, err := f.get("sq010"); err == nil {
					return fmt.Errorf("the sequence object is still there")
				}
				return nil
			})
		})
	}
}

// TestOwnershipOneOwnerPerEntity is case 3: two objects that adopt one entity; one owns it,
// the other stalls, and after the owner deletes the entity the other does not claim to hold
// its spec.
func TestOwnershipOneOwnerPerEntity(t *testing.T) {
	t.Parallel()
	f := newLegacyFixture(t)
	adopt := func(name, description string) *v1alpha1.FtrackEntity {
		return f.entity(name, "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: legacySequenceID}
			e.Spec.Attributes = attrs(map[string]any{"name": "sq500", "description": description})
			e.Spec.DeletionPolicy = v1alpha1.DeletionPolicyDelete
		})
	}
	f.create(adopt("first", "first's"))
	f.waitReady(30*time.Second, "first")
	f.create(adopt("second", "second's"))
	f.waitConditionMessage(30*time.Second, "second", v1alpha1.ReasonOwnershipConflict, f.ns+"/first")
	if d := field(f.server, "Sequence", legacySequenceID, "description"); d != "first's" {
		t.Errorf("ftrack holds %v, want the owner's description", d)
	}
	if m := managedBy(f.server, legacySequenceID); m == "" {
		t.Errorf("no managed-by mark")
	} else if first, _ := f.get("first"); m != string(first.UID) {
		t.Errorf("the mark names %s, not the owner %s", m, first.UID)
	}

	f.deleteEntity("first")
	if _, ok := f.server.Get("Sequence", legacySequenceID); ok {
		t.Fatalf("the owner's deletion left the entity")
	}
	got := f.waitConditionMessage(30*time.Second, "second", v1alpha1.ReasonAdoptionFailed, legacySequenceID)
	if meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.ConditionSynced) {
		t.Errorf("the other object says it holds the spec of a deleted entity")
	}
}

// TestOwnershipBothAtOnce: two objects created together that adopt one entity agree on
// one owner, the older one, whatever order they are reconciled in.
func TestOwnershipBothAtOnce(t *testing.T) {
	t.Parallel()
	f := newLegacyFixture(t)
	objs := make([]*v1alpha1.FtrackEntity, 4)
	for i := range objs {
		objs[i] = f.entity(fmt.Sprintf("claim-%d", i), "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: legacySequenceID}
			e.Spec.Attributes = attrs(map[string]any{"name": "sq500", "description": fmt.Sprintf("claim %d", i)})
		})
	}
	f.create(objs...)
	var owner string
	waitFor(t, 30*time.Second, "one owner and three conflicts", func() error {
		ready, conflicts := []string{}, 0
		for _, o := range objs {
			e, err := f.get(o.Name)
			if err != nil {
				return err
			}
			if isReady(e) {
				ready = append(ready, e.Name)
			}
			if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady); c != nil && c.Reason == v1alpha1.ReasonOwnershipConflict {
				conflicts++
			}
		}
		if len(ready) != 1 || conflicts != 3 {
			return fmt.Errorf("Ready %v, %d conflicts", ready, conflicts)
		}
		owner = ready[0]
		return nil
	})
	o, _ := f.get(owner)
	if m := managedBy(f.server, legacySequenceID); m != string(o.UID) {
		t.Errorf("the mark names %s, not the owner %s (%s)", m, o.UID, owner)
	}
	want := fmt.Sprintf("claim %s", strings.TrimPrefix(owner, "claim-"))
	if d := field(f.server, "Sequence", legacySequenceID, "description"); d != want {
		t.Errorf("ftrack holds %v, want the owner's %q", d, want)
	}
}

// TestOwnershipAdoptWinsOverStaleAnnotation is case 5: an object applied again after its
// old object was deleted stalls on the duplicate name; adding adopt.id takes the old entity
// over, although the annotation names the id the object chose for itself.
func TestOwnershipAdoptWinsOverStaleAnnotation(t *testing.T) {
	t.Parallel()
	f := newLegacyFixture(t)
	shot := func() *v1alpha1.FtrackEntity {
		return f.entity("sh100", "Shot", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "sh100", "description": "again"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: legacySequenceID}}
		})
	}
	f.create(shot())
	f.waitReady(30*time.Second, "sh100")
	oldID := f.statusID("sh100")
	f.deleteEntity("sh100")
	f.create(shot())
	stalled := f.waitCondition(30*time.Second, "sh100", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonWriteRejected)
	stale := stalled.Annotations[v1alpha1.AnnotationEntityID]
	if stale == "" || stale == oldID {
		t.Fatalf("annotation %q: want the new object's own id", stale)
	}
	f.update("sh100", func(e *v1alpha1.FtrackEntity) { e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: oldID} })
	got := f.waitCondition(30*time.Second, "sh100", v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonSynced)
	if got.Annotations[v1alpha1.AnnotationEntityID] != oldID || got.Status.ID != oldID {
		t.Errorf("annotation %q, status.id %q: want %q", got.Annotations[v1alpha1.AnnotationEntityID], got.Status.ID, oldID)
	}
	if got.Status.Ownership != v1alpha1.OwnershipAdopted {
		t.Errorf("ownership %q, want Adopted", got.Status.Ownership)
	}
	if m := managedBy(f.server, oldID); m != string(got.UID) {
		t.Errorf("the mark names %s, not the new object %s", m, got.UID)
	}
	waitFor(t, 10*time.Second, "OwnerReplaced Event", hasEvent(t.Context(), f.ns, "sh100", v1alpha1.EventReasonOwnerReplaced))
	var shots []string
	for _, s := range f.server.All("Shot") {
		if s["parent_id"] == legacySequenceID {
			shots = append(shots, s["id"].(string))
		}
	}
	if diff := cmp.Diff([]string{oldID}, shots); diff != "" {
		t.Errorf("shots under the sequence (-want +got):\n%s", diff)
	}
}

// TestOwnershipAnnotationAndAdoptDisagree: an object that manages an entity which still
// exists cannot be pointed at another one through adopt.id.
func TestOwnershipAnnotationAndAdoptDisagree(t *testing.T) {
	t.Parallel()
	f := newLegacyFixture(t)
	f.create(f.entity("sq600", "Sequence", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = attrs(map[string]any{"name": "sq600"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: legacyProjectID}}
	}))
	f.waitReady(30*time.Second, "sq600")
	own := f.statusID("sq600")
	writes := writeCount(f.server)
	f.update("sq600", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: legacySequenceID}
		e.Spec.Attributes = attrs(map[string]any{"name": "sq500", "description": "moved"})
	})
	f.waitConditionMessage(30*time.Second, "sq600", v1alpha1.ReasonAdoptionFailed, own, legacySequenceID)
	if w := writeCount(f.server); w != writes {
		t.Errorf("%d writes reached ftrack", w-writes)
	}
	if d := field(f.server, "Sequence", legacySequenceID, "description"); d != "by hand" {
		t.Errorf("the legacy sequence was changed: %v", d)
	}
}

// TestOwnershipReferenceCycle: references by name that lead back to the object stall it.
func TestOwnershipReferenceCycle(t *testing.T) {
	t.Parallel()
	f := newLegacyFixture(t)
	seq := func(name, parent string) *v1alpha1.FtrackEntity {
		return f.entity(name, "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": name})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: parent}}
		})
	}
	f.create(seq("self", "self"), seq("a", "b"), seq("b", "c"), seq("c", "a"))
	tests := map[string]struct {
		reason string
		cycle  string
	}{
		"self": {reason: "an object that is its own parent", cycle: "self → self"},
		"a":    {reason: "three objects in a ring", cycle: "a → b → c → a"},
		"c":    {reason: "the same ring seen from another object", cycle: "c → a → b → c"},
	}
	for name, tc := range tests {
		got := f.waitConditionMessage(30*time.Second, name, v1alpha1.ReasonReferenceCycle, tc.cycle)
		if kstatusOf(t, got) != "Failed" {
			t.Errorf("%s: kstatus %s, want Failed", tc.reason, kstatusOf(t, got))
		}
	}
	if w := writeCount(f.server); w != 0 {
		t.Errorf("%d writes reached ftrack", w)
	}
}

// TestOwnershipPathFollowsRenameAndMove: status.path shows the new path at once after a
// rename or a move, and the children follow.
func TestOwnershipPathFollowsRenameAndMove(t *testing.T) {
	t.Parallel()
	f := newLegacyFixture(t)
	f.create(
		f.entity("sq700", "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "sq700"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: legacyProjectID}}
		}),
		f.entity("sh010", "Shot", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "sh010"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sq700"}}
		}),
		f.entity("sh010-comp", "Task", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "comp"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sh010"}}
		}),
	)
	f.waitReady(30*time.Second, "sq700", "sh010", "sh010-comp")
	paths := func(want map[string]string) func() error {
		return func() error {
			got := map[string]string{}
			for n := range want {
				e, err := f.get(n)
				if err != nil {
					return err
				}
				if !isReady(e) {
					return fmt.Errorf("%s not Ready", n)
				}
				got[n] = e.Status.Path
			}
			if diff := cmp.Diff(want, got); diff != "" {
				return fmt.Errorf("paths (-want +got):\n%s", diff)
			}
			return nil
		}
	}
	f.update("sh010", func(e *v1alpha1.FtrackEntity) { e.Spec.Attributes = attrs(map[string]any{"name": "sh011"}) })
	f.waitCondition(30*time.Second, "sh010", v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonSynced)
	if e, _ := f.get("sh010"); e.Status.Path != "legacy / sq700 / sh011" {
		t.Errorf("after the rename: path %q, want legacy / sq700 / sh011", e.Status.Path)
	}
	waitFor(t, 30*time.Second, "paths after the rename", paths(map[string]string{
		"sh010": "legacy / sq700 / sh011", "sh010-comp": "legacy / sq700 / sh011 / comp",
	}))
	f.update("sh010", func(e *v1alpha1.FtrackEntity) {
		e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: legacySequenceID}}
	})
	f.waitCondition(30*time.Second, "sh010", v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonSynced)
	if e, _ := f.get("sh010"); e.Status.Path != "legacy / sq500 / sh011" {
		t.Errorf("after the move: path %q, want legacy / sq500 / sh011", e.Status.Path)
	}
	waitFor(t, 30*time.Second, "paths after the move", paths(map[string]string{
		"sh010": "legacy / sq500 / sh011", "sh010-comp": "legacy / sq500 / sh011 / comp",
	}))
}

// TestOwnershipMarkRestored: a managed-by mark deleted in ftrack is put back at once.
func TestOwnershipMarkRestored(t *testing.T) {
	t.Parallel()
	f := newLegacyFixture(t)
	f.create(f.entity("sq800", "Sequence", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = attrs(map[string]any{"name": "sq800"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: legacyProjectID}}
	}))
	f.waitReady(30*time.Second, "sq800")
	id := f.statusID("sq800")
	obj, _ := f.get("sq800")
	s := f.session()
	if _, err := s.Call(t.Context(), []map[string]any{{"action": "delete", "entity_type": "Metadata", "entity_key": []any{id, v1alpha1.MetadataManagedBy}}}); err != nil {
		t.Fatalf("deleting the mark: %v", err)
	}
	if managedBy(f.server, id) != "" {
		t.Fatal("the mark is still there")
	}
	waitFor(t, 20*time.Second, "mark restored", func() error {
		if m := managedBy(f.server, id); m != string(obj.UID) {
			return fmt.Errorf("mark %q, want %s", m, obj.UID)
		}
		return nil
	})
}

// TestOwnershipRevokedKey is case 4: a key reset in ftrack (the Secret unchanged) makes the
// connection not Ready at the first refused request, gates its entities, and after the
// Secret is fixed nothing claims a drift that did not happen.
func TestOwnershipRevokedKey(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := newEmulator(t)
	f := newEntityFixture(t, srv)
	key := fcKey(f.ns, f.conn)
	f.create(f.entity("project", "Project", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = attrs(map[string]any{"name": "revoked", "full_name": "Revoked v1"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"project_schema": {ID: builtin.DefaultProjectSchemaID}}
	}))
	f.waitReady(30*time.Second, "project")
	id := f.statusID("project")

	// The key is reset in ftrack by someone else.
	s := f.session()
	var uid string
	for _, u := range srv.All("User") {
		if u["username"] == ftracktest.DefaultUser {
			uid, _ = u["id"].(string)
		}
	}
	if _, err := s.Call(ctx, []map[string]any{{"action": "reset_remote", "reset_type": "api_key", "entity_type": "User", "entity_key": uid}}); err != nil {
		t.Fatalf("reset_remote: %v", err)
	}
	newKey, _ := srv.APIKey(ftracktest.DefaultUser)
	rememberSecret(newKey)

	// A change of the spec makes the operator send a request, which ftrack refuses.
	f.update("project", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = attrs(map[string]any{"name": "revoked", "full_name": "Revoked v2"})
	})
	waitFor(t, 20*time.Second, "connection InvalidCredentials", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonInvalidCredentials))
	waitFor(t, 10*time.Second, "ConnectFailed Event", hasEvent(ctx, f.ns, f.conn, v1alpha1.EventReasonConnectFailed))
	f.waitCondition(20*time.Second, "project", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonConnectionNotReady)
	if d := field(srv, "Project", id, "full_name"); d != "Revoked v1" {
		t.Fatalf("ftrack holds %v while the key is refused", d)
	}

	// The Secret gets the new key.
	secret := &corev1.Secret{}
	if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: f.ns, Name: "creds"}, secret); err != nil {
		t.Fatal(err)
	}
	secret.StringData = credentialsData(ftracktest.DefaultUser, newKey)
	if err := k8sClient.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "connection Ready", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	got := f.waitCondition(30*time.Second, "project", v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonSynced)
	if d := field(srv, "Project", id, "full_name"); d != "Revoked v2" {
		t.Errorf("ftrack holds %v, want Revoked v2", d)
	}
	if got.Status.LastDrift != nil {
		t.Errorf("a drift is reported although nobody changed ftrack: %+v", got.Status.LastDrift)
	}
	reasons, err := eventReasons(ctx, f.ns, "project")
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(reasons, v1alpha1.EventReasonDriftCorrected) {
		t.Errorf("a DriftCorrected Event claims a change in ftrack: %v", reasons)
	}
}

// TestOwnershipSecretWhitespace: a key read from a file keeps its final newline; the
// operator trims it and says so, and a key that is simply wrong gets an Event.
func TestOwnershipSecretWhitespace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tests := map[string]struct {
		reason string
		data   map[string]string
		ready  bool
		event  string
	}{
		"TrailingNewline": {reason: "a key with a final newline works, with an Event", data: credentialsData(ftracktest.DefaultUser+"\n", ftracktest.DefaultAPIKey+"\n"), ready: true, event: v1alpha1.EventReasonCredentialsTrimmed},
		"WrongKey":        {reason: "a wrong key gets a Warning Event", data: credentialsData(ftracktest.DefaultUser, "not-the-key"), event: v1alpha1.EventReasonConnectFailed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t, nil)
			key := fcKey(ns, "studio")
			createSecret(t, ns, "creds", tc.data)
			createConnection(t, ns, key.Name, ftrackServer.URL, "creds")
			if tc.ready {
				waitFor(t, soon, "Ready", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonConnected))
			} else {
				waitFor(t, soon, "InvalidCredentials", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonInvalidCredentials))
			}
			waitFor(t, soon, tc.reason, hasEvent(ctx, ns, key.Name, tc.event))
		})
	}
}
