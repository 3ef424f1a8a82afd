package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/internal/plan"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
)

// waitError says that the reconcile cannot go on now and when to look again; it is not a
// failure of the operator.
type waitError struct {
	reason  string
	message string
	after   time.Duration
	// quiet leaves status unwritten (see quietWait).
	quiet bool
}

// waitGrace is how long a new object whose referenced FtrackEntity is on its way to Ready
// waits before it says so in its status.
const waitGrace = time.Minute

// quietWait decides whether obj, which waits for target to be Ready, may wait without
// writing its status: when obj is new (no reconcile has written its status, and it is
// younger than waitGrace). Under a bulk change almost every child meets its parent on the
// way to Ready, and the parent becoming Ready wakes it (see referrers); a status saying
// "waiting" would cost the API server one write per child for a minute's worth of
// information, and under a slow API server those writes slow everything further. Until its
// first status, the object reads as InProgress to kstatus all the same: its status
// defaults to an observedGeneration of 0. It returns how long to wait before looking again
// regardless. A target that is Stalled is not waited for quietly (see resolveNamedReferences).
func (r *EntityReconciler) quietWait(obj *v1alpha1.FtrackEntity) (time.Duration, bool) {
	if len(obj.Status.Conditions) > 0 {
		return 0, false
	}
	age := r.now().Sub(obj.CreationTimestamp.Time)
	if age >= waitGrace {
		return 0, false
	}
	return waitGrace - max(age, 0), true
}

// waitsForReference reports whether obj names an FtrackEntity of its namespace under
// references that is not Ready (or does not exist yet): its first reconcile can wait for
// that object's Ready (see entityEnqueue).
func (r *EntityReconciler) waitsForReference(ctx context.Context, o client.Object) bool {
	obj, ok := o.(*v1alpha1.FtrackEntity)
	if !ok || len(obj.Status.Conditions) > 0 || !obj.DeletionTimestamp.IsZero() {
		return false
	}
	for _, ref := range obj.Spec.References {
		if ref.Name == "" || ref.Name == obj.Name {
			continue
		}
		var target v1alpha1.FtrackEntity
		if err := r.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: ref.Name}, &target); err != nil || !isReady(&target) {
			if meta.IsStatusConditionTrue(target.Status.Conditions, v1alpha1.ConditionStalled) {
				// A stuck reference is reported at once.
				return false
			}
			return true
		}
	}
	return false
}

func (e *waitError) Error() string { return e.message }

// resolveNamedReferences resolves references to other FtrackEntity objects, and takes the
// parent's path from its status when the parent is one.
func (r *EntityReconciler) resolveNamedReferences(ctx context.Context, obj *v1alpha1.FtrackEntity, want *plan.Desired) error {
	for _, rel := range slices.Sorted(maps.Keys(obj.Spec.References)) {
		ref := obj.Spec.References[rel]
		if ref.Name == "" {
			continue
		}
		if cycle, err := r.referenceCycle(ctx, obj, ref.Name); err != nil {
			return err
		} else if cycle != "" {
			return plan.Errorf(v1alpha1.ReasonReferenceCycle, "references.%s: the references by name form a cycle (%s); an entity cannot be its own ancestor", rel, cycle)
		}
		var target v1alpha1.FtrackEntity
		if err := r.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: ref.Name}, &target); err != nil {
			if apierrors.IsNotFound(err) {
				w := &waitError{reason: v1alpha1.ReasonReferenceNotReady, message: fmt.Sprintf("references.%s: FtrackEntity %q does not exist yet", rel, ref.Name)}
				w.after, w.quiet = r.quietWait(obj)
				return w
			}
			return err
		}
		if err := want.Type.CheckReferenceType(rel, target.Spec.EntityType, fmt.Sprintf("FtrackEntity %q", ref.Name)); err != nil {
			return err
		}
		if meta.IsStatusConditionTrue(target.Status.Conditions, v1alpha1.ConditionStalled) && target.Status.ObservedGeneration == target.Generation {
			// The reference cannot become Ready until its own spec changes; so cannot this
			// object. Its change (or its Ready) wakes this one.
			c := meta.FindStatusCondition(target.Status.Conditions, v1alpha1.ConditionStalled)
			return plan.Errorf(v1alpha1.ReasonReferenceNotReady, "references.%s: FtrackEntity %q cannot become Ready until its spec changes (%s: %s)", rel, ref.Name, c.Reason, c.Message)
		}
		if !isReady(&target) {
			w := &waitError{reason: v1alpha1.ReasonReferenceNotReady, message: fmt.Sprintf("references.%s: waiting for FtrackEntity %q to be Ready", rel, ref.Name)}
			w.after, w.quiet = r.quietWait(obj)
			return w
		}
		if connection.KeyFor(target.Namespace, target.Spec.ConnectionRef) != connection.KeyFor(obj.Namespace, obj.Spec.ConnectionRef) {
			return plan.Errorf(v1alpha1.ReasonInvalidReference, "references.%s: FtrackEntity %q uses another connection", rel, ref.Name)
		}
		want.Refs[rel] = plan.Ref{ID: target.Status.ID, Type: target.Spec.EntityType}
		if rel == "parent" {
			want.ParentPath = target.Status.Path
		}
	}
	return nil
}

// maxReferenceDepth bounds how far referenceCycle follows references by name.
const maxReferenceDepth = 64

// referenceCycle follows the references by name from the object named next (obj's
// reference) and returns the cycle as "a → b → a" when it leads back to obj; "" when it
// does not (or leaves the objects that exist).
func (r *EntityReconciler) referenceCycle(ctx context.Context, obj *v1alpha1.FtrackEntity, next string) (string, error) {
	seen := map[string]bool{}
	var walk func(name string, path []string) (string, error)
	walk = func(name string, path []string) (string, error) {
		path = append(path, name)
		if name == obj.Name {
			return strings.Join(path, " → "), nil
		}
		if seen[name] || len(path) > maxReferenceDepth {
			return "", nil
		}
		seen[name] = true
		var o v1alpha1.FtrackEntity
		if err := r.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: name}, &o); err != nil {
			return "", client.IgnoreNotFound(err)
		}
		for _, rel := range slices.Sorted(maps.Keys(o.Spec.References)) {
			if n := o.Spec.References[rel].Name; n != "" {
				if cycle, err := walk(n, path); cycle != "" || err != nil {
					return cycle, err
				}
			}
		}
		return "", nil
	}
	return walk(next, []string{obj.Name})
}

// Back-off of an object that waits for a custom attribute configuration: the Ready
// configuration's FtrackEntity wakes it at once, so the requeue is only for configurations
// made in ftrack by other means.
const (
	customAttributeWaitMin = 30 * time.Second
	customAttributeWaitMax = 10 * time.Minute
)

// resolveCustomAttributes checks the custom attributes against the configurations that
// apply to the entity type (see connection.Entities.ResolveCustomAttributes). The wait for
// a configuration ends when an FtrackEntity of the same connection that declares it becomes
// Ready (see customAttributeWaiters), or after a growing requeue (customAttributeBackoff).
func (r *EntityReconciler) resolveCustomAttributes(ctx context.Context, ec *connection.Entities, obj *v1alpha1.FtrackEntity, want *plan.Desired) error {
	return ec.ResolveCustomAttributes(ctx, want, obj.Spec.CustomAttributes, func() (map[string]string, error) {
		return connection.DeclaredConfigurations(ctx, r, obj.Namespace, obj.Spec.ConnectionRef)
	})
}

// customAttributeBackoff is how long an object that waits for a custom attribute
// configuration waits before looking again: as long as it has waited so far, within
// customAttributeWaitMin and customAttributeWaitMax.
func customAttributeBackoff(obj *v1alpha1.FtrackEntity, now time.Time) time.Duration {
	c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReconciling)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != v1alpha1.ReasonCustomAttributeNotFound {
		return customAttributeWaitMin
	}
	return min(max(now.Sub(c.LastTransitionTime.Time), customAttributeWaitMin), customAttributeWaitMax)
}

// reconcileIdentity decides the ftrack id of the entity and writes it into the annotation
// before anything is created, so that a retried or repeated create finds the entity.
//
// It reports whether the id is fresh: chosen now and never written down before, so that no
// create can have been sent with it and observing the entity can be skipped.
func (r *EntityReconciler) reconcileIdentity(ctx context.Context, ec *connection.Entities, obj *v1alpha1.FtrackEntity, want *plan.Desired) (fresh bool, err error) {
	id := obj.Annotations[v1alpha1.AnnotationEntityID]
	if id == "" {
		id = obj.Status.ID
	}
	if a := obj.Spec.Adopt; id != "" && a != nil && a.ID != "" && a.ID != id {
		// The annotation and adopt.id disagree (an object applied again after its entity
		// went, then told to adopt): adopt wins over an id whose entity no longer exists.
		probe := &plan.Desired{Type: want.Type, ID: id, Attrs: map[string]any{}, Refs: map[string]plan.Ref{}, Metadata: map[string]string{}}
		have, err := ec.Observe(ctx, probe)
		if err != nil {
			return false, err
		}
		if have != nil {
			return false, plan.Errorf(v1alpha1.ReasonAdoptionFailed,
				"adopt.id: this object already manages %s %s (its %s annotation), which exists in ftrack; an object manages one entity, so create another FtrackEntity to adopt %s",
				want.Type.Name(), id, v1alpha1.AnnotationEntityID, a.ID)
		}
		id = a.ID
	}
	if id == "" {
		switch a := obj.Spec.Adopt; {
		case a != nil && a.ID != "":
			id = a.ID
		case a != nil && len(a.Match) > 0:
			ids, err := ec.Find(ctx, want.Type, a.Match)
			if err != nil {
				if ftrack.IsRefused(err) {
					return false, plan.Errorf(v1alpha1.ReasonAdoptionFailed, "adopt.match: ftrack refused the query: %s", err.Error())
				}
				return false, err
			}
			switch {
			case len(ids) > 1:
				return false, plan.Errorf(v1alpha1.ReasonAdoptionFailed, "adopt.match: more than one %s matches %s; add attributes until one does", want.Type.Name(), describeMatch(a.Match))
			case len(ids) == 1:
				id = ids[0]
			case obj.Spec.Management == v1alpha1.ManagementObserve:
				return false, &waitError{reason: v1alpha1.ReasonNotFoundInFtrack, message: fmt.Sprintf("adopt.match: no %s matches %s", want.Type.Name(), describeMatch(a.Match)), after: waitRequeue}
			}
		}
	}
	if id == "" {
		id = plan.EntityIDFor(obj.UID)
		fresh = obj.Spec.Adopt == nil
	}
	want.ID = id
	if obj.Annotations[v1alpha1.AnnotationEntityID] == id {
		return false, nil
	}
	patch := client.MergeFrom(obj.DeepCopy())
	if obj.Annotations == nil {
		obj.Annotations = map[string]string{}
	}
	obj.Annotations[v1alpha1.AnnotationEntityID] = id
	if err := r.Patch(ctx, obj, patch); err != nil {
		return false, err
	}
	return fresh, nil
}

func describeMatch(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
