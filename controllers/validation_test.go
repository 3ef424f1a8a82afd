package controllers

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/badspecs"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

func TestEntityInvalidSpecsAreTerminalWithoutWrites(t *testing.T) {
	t.Parallel()
	f := newEntityFixture(t, newEmulator(t, ftracktest.WithSeed(badspecs.Seed()...)))
	f.server.ResetRequests()
	tests := badspecs.Cases()
	// The target of ReferenceWrongTypeByName: itself invalid, so that it never writes.
	f.create(f.entity(badspecs.TargetName, "Shot", badspecs.Target))
	for _, tc := range tests {
		f.create(f.entity(strings.ToLower(tc.Name), tc.Type, tc.Mutate))
	}
	t.Logf("%d kinds of invalid spec", len(tests))
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			sub := *f
			sub.t = t
			e := sub.waitCondition(30*time.Second, strings.ToLower(tc.Name), v1alpha1.ConditionStalled, metav1.ConditionTrue, tc.WantReason)
			c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady)
			if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, tc.WantMessage) {
				t.Errorf("%s: Ready = %+v, want False with a message containing %q", tc.Reason, c, tc.WantMessage)
			}
			if got := kstatusOf(t, e); got != status.FailedStatus {
				t.Errorf("%s: kstatus = %s, want Failed", tc.Reason, got)
			}
		})
	}
	if diff := cmp.Diff(0, writeCount(f.server)); diff != "" {
		t.Errorf("writes sent to ftrack for invalid specs (-want +got):\n%s", diff)
	}
	got := map[string]int{"Project": f.server.Count("Project"), "Shot": f.server.Count("Shot"), "Task": f.server.Count("Task"), "Metadata": f.server.Count("Metadata")}
	if diff := cmp.Diff(map[string]int{"Project": 1, "Shot": 0, "Task": 0, "Metadata": 0}, got); diff != "" {
		t.Errorf("entities in ftrack (-want +got):\n%s", diff)
	}
}

func TestEntityAdmissionRejectsWhatCELCatches(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	f := &entityFixture{t: t, ns: ns, conn: "studio"}
	tests := map[string]struct {
		reason      string
		mutate      func(*v1alpha1.FtrackEntity)
		wantMessage string
	}{
		"ReferenceNameAndID": {
			reason: "a reference names one entity", wantMessage: "set exactly one of name, id and query",
			mutate: func(e *v1alpha1.FtrackEntity) {
				e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "a", ID: "b"}}
			},
		},
		"ReferenceEmpty": {
			reason: "an empty reference names nothing", wantMessage: "set exactly one of name, id and query",
			mutate: func(e *v1alpha1.FtrackEntity) {
				e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {}}
			},
		},
		"DeletionPolicy": {
			reason: "deletionPolicy is Orphan or Delete", wantMessage: "Unsupported value",
			mutate: func(e *v1alpha1.FtrackEntity) { e.Spec.DeletionPolicy = "Destroy" },
		},
		"DriftPolicy": {
			reason: "driftPolicy is Correct or Report", wantMessage: "Unsupported value",
			mutate: func(e *v1alpha1.FtrackEntity) { e.Spec.DriftPolicy = "Ignore" },
		},
		"AdoptBoth": {
			reason: "adopt by id or by match, not both", wantMessage: "set exactly one of id and match",
			mutate: func(e *v1alpha1.FtrackEntity) {
				e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: "x", Match: map[string]string{"name": "y"}}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := f.entity(strings.ToLower(name), "Project", tc.mutate)
			err := k8sClient.Create(t.Context(), e)
			if err == nil || !strings.Contains(err.Error(), tc.wantMessage) {
				t.Errorf("%s: Create error = %v, want one containing %q", tc.reason, err, tc.wantMessage)
			}
		})
	}
	t.Run("Immutable", func(t *testing.T) {
		t.Parallel()
		e := f.entity("immutable", "Project", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: "x"}
			e.Spec.Suspend = true
		})
		if err := k8sClient.Create(t.Context(), e); err != nil {
			t.Fatalf("Create: %v", err)
		}
		changes := map[string]struct {
			mutate      func(*v1alpha1.FtrackEntity)
			wantMessage string
		}{
			"entityType": {func(e *v1alpha1.FtrackEntity) { e.Spec.EntityType = "Shot" }, "entityType cannot be changed"},
			"adopt":      {func(e *v1alpha1.FtrackEntity) { e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: "y"} }, "adopt cannot be changed once set"},
		}
		for what, c := range changes {
			var err error
			// The reconciler writes status meanwhile: retry on conflicts.
			for attempt := 0; attempt < 10; attempt++ {
				var cur v1alpha1.FtrackEntity
				if err = k8sClient.Get(t.Context(), client.ObjectKeyFromObject(e), &cur); err != nil {
					t.Fatalf("Get: %v", err)
				}
				c.mutate(&cur)
				if err = k8sClient.Update(t.Context(), &cur); !apierrors.IsConflict(err) {
					break
				}
			}
			if err == nil || !strings.Contains(err.Error(), c.wantMessage) {
				t.Errorf("changing %s: Update error = %v, want one containing %q", what, err, c.wantMessage)
			}
		}
		_ = k8sClient.Delete(t.Context(), e)
	})
}
