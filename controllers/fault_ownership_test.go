package controllers

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
)

// TestFaultHostileNamespace: 1,000 objects in three namespaces share one
// ClusterFtrackConnection; the third namespace points 100 objects at entities of the other
// two (the id annotation, other attributes, deletionPolicy Delete). None of them changes or
// deletes anything in ftrack, and every one of them says whose entity it is.
func TestFaultHostileNamespace(t *testing.T) {
	t.Parallel()
	const perTeam, hostile = 450, 100
	srv := newEmulator(t)
	seedScaleProject(t, srv)
	fs := sharedFixtures(t, srv, 3)
	teams, intruder := fs[:2], fs[2]
	for i, f := range teams {
		objs := describedSequences(f, perTeam)
		for _, o := range objs {
			// The teams' sequences share the project: their names must differ.
			name := fmt.Sprintf("t%d-%s", i, o.Name)
			o.Spec.Attributes = attrs(map[string]any{"name": name, "description": sequenceDescription(name)})
		}
		f.create(objs...)
	}
	for _, f := range teams {
		waitAllReady(t, f, perTeam, 5*time.Minute)
	}
	before := map[string]map[string]any{}
	var victims []string
	for _, f := range teams {
		for name, id := range sequenceIDs(t, f) {
			rec, ok := srv.Get("Sequence", id)
			if !ok {
				t.Fatalf("%s/%s: no entity %s", f.ns, name, id)
			}
			before[id] = rec
			if len(victims) < hostile {
				victims = append(victims, id)
			}
		}
	}
	writes := writeCount(srv)

	objs := make([]*v1alpha1.FtrackEntity, len(victims))
	for i, id := range victims {
		objs[i] = intruder.entity(fmt.Sprintf("grab-%03d", i), "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Annotations = map[string]string{v1alpha1.AnnotationEntityID: id}
			e.Spec.Attributes = attrs(map[string]any{"name": fmt.Sprintf("grabbed-%03d", i), "description": "taken over"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: scaleProjectID}}
			e.Spec.DeletionPolicy = v1alpha1.DeletionPolicyDelete
		})
	}
	intruder.create(objs...)
	waitFor(t, 3*time.Minute, "every intruding object in OwnershipConflict", func() error {
		var list v1alpha1.FtrackEntityList
		if err := k8sClient.List(t.Context(), &list, client.InNamespace(intruder.ns)); err != nil {
			return err
		}
		n := 0
		for i := range list.Items {
			c := meta.FindStatusCondition(list.Items[i].Status.Conditions, v1alpha1.ConditionReady)
			if c != nil && c.Reason == v1alpha1.ReasonOwnershipConflict && c.ObservedGeneration == list.Items[i].Generation {
				n++
			}
		}
		if n != hostile {
			return fmt.Errorf("%d of %d in OwnershipConflict", n, hostile)
		}
		return nil
	})
	deleteAllEntities(t, intruder.ns)
	if w := writeCount(srv); w != writes {
		t.Errorf("%d writes reached ftrack while the intruding objects existed, want 0", w-writes)
	}
	changed, deleted := 0, 0
	for id, rec := range before {
		now, ok := srv.Get("Sequence", id)
		switch {
		case !ok:
			deleted++
		case now["name"] != rec["name"] || now["description"] != rec["description"]:
			changed++
		}
	}
	if changed != 0 || deleted != 0 {
		t.Errorf("the intruding namespace changed %d and deleted %d of %d entities, want 0", changed, deleted, len(before))
	}
}
