package controllers

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
)

// The condition helpers below keep an FtrackEntity's conditions readable by kstatus
// (sigs.k8s.io/cli-utils/pkg/kstatus, used by Flux and Argo CD): with status.observedGeneration
// equal to metadata.generation, an object is Current unless Reconciling is True
// (InProgress) or Stalled is True (Failed). Ready and Synced carry the details for people.

// markSynced records that ftrack holds what the spec declares (or, for observe-only
// objects, that the entity was read).
func markSynced(e *v1alpha1.FtrackEntity, reason, message string) {
	setCondition(e, v1alpha1.ConditionReady, metav1.ConditionTrue, reason, message)
	setCondition(e, v1alpha1.ConditionSynced, metav1.ConditionTrue, reason, message)
	removeCondition(e, v1alpha1.ConditionReconciling)
	removeCondition(e, v1alpha1.ConditionStalled)
}

// markProgressing records that the object is on its way to its spec: waiting for a
// connection or a reference, or retrying after a server error.
func markProgressing(e *v1alpha1.FtrackEntity, reason, message string) {
	setCondition(e, v1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
	setCondition(e, v1alpha1.ConditionSynced, metav1.ConditionFalse, reason, message)
	setCondition(e, v1alpha1.ConditionReconciling, metav1.ConditionTrue, reason, message)
	removeCondition(e, v1alpha1.ConditionStalled)
}

// markStalled records a terminal error: nothing changes until the spec does.
func markStalled(e *v1alpha1.FtrackEntity, reason, message string) {
	setCondition(e, v1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
	setCondition(e, v1alpha1.ConditionSynced, metav1.ConditionFalse, reason, message)
	setCondition(e, v1alpha1.ConditionStalled, metav1.ConditionTrue, reason, message)
	removeCondition(e, v1alpha1.ConditionReconciling)
}

// markNotSynced records a settled state in which ftrack differs from the spec on purpose
// (drift reported, object suspended): neither progressing nor failed. kstatus reads it as
// Current when ready is true, else as InProgress.
func markNotSynced(e *v1alpha1.FtrackEntity, ready bool, reason, message string) {
	status := metav1.ConditionFalse
	if ready {
		status = metav1.ConditionTrue
	}
	setCondition(e, v1alpha1.ConditionReady, status, reason, message)
	setCondition(e, v1alpha1.ConditionSynced, metav1.ConditionFalse, reason, message)
	removeCondition(e, v1alpha1.ConditionReconciling)
	removeCondition(e, v1alpha1.ConditionStalled)
}

// isReady reports whether the entity's Ready condition is True for its current generation.
func isReady(e *v1alpha1.FtrackEntity) bool {
	c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == e.Generation && e.Status.ID != ""
}
