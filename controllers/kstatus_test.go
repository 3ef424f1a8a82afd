package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
)

func TestKstatusReadsEntityConditions(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason   string
		mark     func(*v1alpha1.FtrackEntity)
		observed int64
		want     status.Status
	}{
		"Synced": {
			reason: "a synced object is Current", observed: 3, want: status.CurrentStatus,
			mark: func(e *v1alpha1.FtrackEntity) { markSynced(e, v1alpha1.ReasonSynced, "ok") },
		},
		"Progressing": {
			reason: "an object waiting for a reference is InProgress", observed: 3, want: status.InProgressStatus,
			mark: func(e *v1alpha1.FtrackEntity) { markProgressing(e, v1alpha1.ReasonReferenceNotReady, "waiting") },
		},
		"Stalled": {
			reason: "a terminal spec error is Failed", observed: 3, want: status.FailedStatus,
			mark: func(e *v1alpha1.FtrackEntity) { markStalled(e, v1alpha1.ReasonInvalidAttribute, "bad") },
		},
		"StalledThenSynced": {
			reason: "a fixed spec clears Stalled", observed: 3, want: status.CurrentStatus,
			mark: func(e *v1alpha1.FtrackEntity) {
				markStalled(e, v1alpha1.ReasonInvalidAttribute, "bad")
				markSynced(e, v1alpha1.ReasonSynced, "ok")
			},
		},
		"OldGeneration": {
			reason: "a synced status of an older generation is InProgress", observed: 2, want: status.InProgressStatus,
			mark: func(e *v1alpha1.FtrackEntity) { markSynced(e, v1alpha1.ReasonSynced, "ok") },
		},
		"PausedBeforeReady": {
			reason: "an object paused before it was ever Ready is still in progress", observed: 3, want: status.InProgressStatus,
			mark: func(e *v1alpha1.FtrackEntity) { markNotSynced(e, false, v1alpha1.ReasonSuspended, "paused") },
		},
		"DriftReported": {
			reason: "a reported drift is settled, not failing", observed: 3, want: status.CurrentStatus,
			mark: func(e *v1alpha1.FtrackEntity) { markNotSynced(e, true, v1alpha1.ReasonDriftReported, "differs") },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := &v1alpha1.FtrackEntity{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "ns", Generation: 3}}
			tc.mark(e)
			e.Status.ObservedGeneration = tc.observed
			if got := kstatusOf(t, e); got != tc.want {
				t.Errorf("%s: kstatus = %s, want %s", tc.reason, got, tc.want)
			}
		})
	}
}
