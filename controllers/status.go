package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/plan"
)

// conditioned is an object of ours with conditions in its status.
type conditioned interface {
	client.Object
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
}

// maxConditionMessage bounds a condition's message.
const maxConditionMessage = 1024

// setCondition sets condition typ of obj, for obj's current generation.
func setCondition(obj conditioned, typ string, status metav1.ConditionStatus, reason, message string) {
	conds := obj.GetConditions()
	meta.SetStatusCondition(&conds, metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            plan.Truncate(message, maxConditionMessage),
		ObservedGeneration: obj.GetGeneration(),
	})
	obj.SetConditions(conds)
}

// removeCondition removes condition typ of obj.
func removeCondition(obj conditioned, typ string) {
	conds := obj.GetConditions()
	if meta.RemoveStatusCondition(&conds, typ) {
		obj.SetConditions(conds)
	}
}

// statusOf returns the status of one of our objects, for comparison.
func statusOf(obj client.Object) any {
	switch o := obj.(type) {
	case *v1alpha1.FtrackEntity:
		return o.Status
	case *v1alpha1.FtrackConnection:
		return o.Status
	case *v1alpha1.ClusterFtrackConnection:
		return o.Status
	}
	return obj
}

// patchOption changes how patchStatus writes.
type patchOption int

const (
	// withOptimisticLock makes the patch carry obj's resourceVersion: a cache that is behind
	// (another writer, a previous operator process) then gets a conflict and the object is
	// reconciled again, instead of a stale status overwriting a newer one.
	withOptimisticLock patchOption = iota + 1
)

// patchStatus is the one status write of a reconcile: a merge patch of obj's status from
// base, the object the reconcile began with. A status that did not change is not written:
// that would cost the API server a request and every watcher an event for nothing. With
// withOptimisticLock the lock is on obj's resourceVersion, the newest this reconcile knows
// (its own patches of annotations and finalizers moved it on from base's). An object gone
// meanwhile is not an error.
func patchStatus(ctx context.Context, w client.SubResourceWriter, base, obj client.Object, opts ...patchOption) error {
	if equality.Semantic.DeepEqual(statusOf(base), statusOf(obj)) {
		return nil
	}
	var mopts []client.MergeFromOption
	for _, o := range opts {
		if o == withOptimisticLock {
			base = base.DeepCopyObject().(client.Object)
			base.SetResourceVersion(obj.GetResourceVersion())
			mopts = append(mopts, client.MergeFromWithOptimisticLock{})
		}
	}
	return client.IgnoreNotFound(w.Patch(ctx, obj, client.MergeFromWithOptions(base, mopts...)))
}
