package controllers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/internal/plan"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
)

// IndexFtrackEntityByReference indexes FtrackEntity objects by the names of the FtrackEntity
// objects their references point at, so that a referenced object becoming Ready wakes its
// referrers.
const IndexFtrackEntityByReference = "ftrack-operator.dev/referenced-name"

// IndexFtrackEntityByCustomAttributeConnection indexes FtrackEntity objects that set custom
// attributes by the key of their connection, so that a custom attribute configuration
// becoming Ready wakes the objects of that connection that wait for it.
const IndexFtrackEntityByCustomAttributeConnection = "ftrack-operator.dev/custom-attribute-connection"

// Requeue intervals of the entity reconciler.
const (
	// waitRequeue is how long an entity waits before looking again at something that no
	// event announces (a query reference that matched nothing, a missing connection).
	waitRequeue = time.Minute
	// referenceGoneRequeue is how soon an object whose create was refused because an entity
	// it refers to is gone from ftrack looks again when nothing wakes it sooner.
	referenceGoneRequeue = 30 * time.Second
)

// EntityReconciler keeps each FtrackEntity's ftrack entity equal to its spec: it validates
// the spec against the connection's schema, resolves references, observes the entity by id,
// creates it with an id of its own choosing or updates what differs, and writes status once
// per reconcile.
type EntityReconciler struct {
	client.Client
	// Pool lends the connections' sessions.
	Pool *connection.Pool
	// Bridge turns ftrack events into reconcile triggers; nil disables them.
	Bridge *connection.EventBridge
	// Recorder records Events on FtrackEntity objects.
	Recorder events.EventRecorder
	// Filter, when set, limits the objects this reconciler handles (for sharding, or to
	// run two managers side by side).
	Filter func(client.Object) bool
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MaxConcurrentReconciles bounds the reconciles running at once; 0 means the manager's
	// default. Concurrent reconciles of one connection share its batches.
	MaxConcurrentReconciles int

	states entityStates
	// events holds back Normal Events of single objects above a budget per connection; nil
	// records every Event.
	events *entityEvents
	// writes are this process's writes the cache may not show yet.
	writes ownWrites
	// synced remembers the generation each object was last synced at: the cache may not
	// show the last status yet when an ftrack event arrives right after a sync.
	synced sync.Map // types.NamespacedName → int64
	// blocked are the deletions that wait for other objects (DeleteBlocked).
	blocked blockedDeletes
	// marks are the ownership-mark writes under way; nil writes marks while the reconcile
	// waits (a reconciler not set up with a manager).
	marks *markWrites
}

// SetupEntities registers the FtrackEntity reconciler with mgr, borrowing the pool and the
// event bridge of conns.
func SetupEntities(mgr ctrl.Manager, conns *Connections) error {
	r := &EntityReconciler{
		Client:   mgr.GetClient(),
		Pool:     conns.Pool,
		Bridge:   conns.Bridge,
		Recorder: mgr.GetEventRecorder("ftrack-operator"),
	}
	return r.SetupWithManager(mgr)
}

// +kubebuilder:rbac:groups=ftrack-operator.dev,resources=ftrackentities,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=ftrack-operator.dev,resources=ftrackentities/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=ftrack-operator.dev,resources=ftrackentities/finalizers,verbs=update

// SetupWithManager registers the reconciler, its reference index and its triggers.
func (r *EntityReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.FtrackEntity{}, IndexFtrackEntityByReference, referencedNames); err != nil {
		return fmt.Errorf("indexing FtrackEntity by reference: %w", err)
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.FtrackEntity{}, IndexFtrackEntityByCustomAttributeConnection, customAttributeConnection); err != nil {
		return fmt.Errorf("indexing FtrackEntity by custom attribute connection: %w", err)
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.FtrackEntity{}, IndexFtrackEntityByUID, uidIndexValues); err != nil {
		return fmt.Errorf("indexing FtrackEntity by UID: %w", err)
	}
	r.events = newEntityEvents(r.Recorder, mgr.GetClient())
	if err := mgr.Add(r.events); err != nil {
		return fmt.Errorf("adding the Event summariser: %w", err)
	}
	filter := predicate.NewPredicateFuncs(func(o client.Object) bool { return r.Filter == nil || r.Filter(o) })
	b := ctrl.NewControllerManagedBy(mgr).
		Named("ftrackentity").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Watches(&v1alpha1.FtrackEntity{}, entityEnqueue{waits: r.waitsForReference}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, controlAnnotationsChanged{}, deletionPredicate{}),
			filter)).
		Watches(&v1alpha1.FtrackEntity{}, enqueueWithPriority{fn: r.referrers, priority: wakePriority}, builder.WithPredicates(readinessChanged{})).
		Watches(&v1alpha1.FtrackEntity{}, enqueueWithPriority{fn: r.customAttributeWaiters, priority: wakePriority}, builder.WithPredicates(readinessChanged{})).
		// An owner that goes lets the next object that points at its entity take it.
		Watches(&v1alpha1.FtrackEntity{}, enqueueWithPriority{fn: r.claimantsOfDeleted, priority: wakePriority}, builder.WithPredicates(goneOrGoing{})).
		// A blocker of a deletion that goes or changes lets the deletion look again.
		Watches(&v1alpha1.FtrackEntity{}, enqueueWithPriority{fn: r.blocked.waiters, priority: wakePriority}, builder.WithPredicates(predicate.Or(goneOrGoing{}, predicate.GenerationChangedPredicate{})))
	stop := make(chan struct{})
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		close(stop)
		return nil
	})); err != nil {
		return fmt.Errorf("adding the mark writes' stop: %w", err)
	}
	r.marks = newMarkWrites(stop)
	b = b.WatchesRawSource(source.Channel(r.marks.done, &handler.EnqueueRequestForObject{}))
	if r.Bridge != nil {
		b = b.WatchesRawSource(r.Bridge.Source(handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			if r.Filter != nil && !r.Filter(o) {
				return nil
			}
			return []reconcile.Request{{NamespacedName: client.ObjectKeyFromObject(o)}}
		})))
	}
	return b.Complete(r)
}

// deletionPredicate passes updates that set the deletion timestamp.
type deletionPredicate struct{ predicate.Funcs }

// Update implements predicate.Predicate.
func (deletionPredicate) Update(e event.UpdateEvent) bool {
	return e.ObjectNew.GetDeletionTimestamp() != nil && e.ObjectOld.GetDeletionTimestamp() == nil
}

// goneOrGoing passes deletions, and updates that start one.
type goneOrGoing struct{ predicate.Funcs }

// Create implements predicate.Predicate.
func (goneOrGoing) Create(event.CreateEvent) bool { return false }

// Generic implements predicate.Predicate.
func (goneOrGoing) Generic(event.GenericEvent) bool { return false }

// Delete implements predicate.Predicate.
func (goneOrGoing) Delete(event.DeleteEvent) bool { return true }

// Update implements predicate.Predicate.
func (goneOrGoing) Update(e event.UpdateEvent) bool {
	return e.ObjectNew.GetDeletionTimestamp() != nil && e.ObjectOld.GetDeletionTimestamp() == nil
}

// controlAnnotationsChanged passes updates that change the paused or the
// reconcile-requested-at annotation; the entity-id annotation is the reconciler's own.
type controlAnnotationsChanged struct{ predicate.Funcs }

// Update implements predicate.Predicate.
func (controlAnnotationsChanged) Update(e event.UpdateEvent) bool {
	o, n := e.ObjectOld.GetAnnotations(), e.ObjectNew.GetAnnotations()
	return o[v1alpha1.AnnotationPaused] != n[v1alpha1.AnnotationPaused] ||
		o[v1alpha1.AnnotationReconcileRequestedAt] != n[v1alpha1.AnnotationReconcileRequestedAt]
}

// readinessChanged passes updates that change whether an FtrackEntity is Ready or Stalled,
// its id or its path.
type readinessChanged struct{ predicate.Funcs }

// Update implements predicate.Predicate.
func (readinessChanged) Update(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*v1alpha1.FtrackEntity)
	n, ok2 := e.ObjectNew.(*v1alpha1.FtrackEntity)
	if !ok1 || !ok2 {
		return false
	}
	// A referenced object that stalls tells its referrers too: their wait may be over for
	// good (a reference cycle, a parent that will not come).
	return isReady(o) != isReady(n) || o.Status.ID != n.Status.ID || o.Status.Path != n.Status.Path ||
		recreatedAt(o) != recreatedAt(n) ||
		meta.IsStatusConditionTrue(o.Status.Conditions, v1alpha1.ConditionStalled) != meta.IsStatusConditionTrue(n.Status.Conditions, v1alpha1.ConditionStalled)
}

// recreatedAt is when obj last created its entity again after it was deleted in ftrack
// (zero when it never did): objects refused a create under the deleted entity wait for it
// (see refusedCreate).
func recreatedAt(obj *v1alpha1.FtrackEntity) time.Time {
	if d := obj.Status.LastDrift; d != nil && d.Deleted && d.Corrected {
		return d.Time.Time
	}
	return time.Time{}
}

// Create implements predicate.Predicate: an object created Ready (restored) wakes referrers.
func (readinessChanged) Create(event.CreateEvent) bool { return true }

// referencedNames are the IndexFtrackEntityByReference values of an object.
func referencedNames(o client.Object) []string {
	e, ok := o.(*v1alpha1.FtrackEntity)
	if !ok {
		return nil
	}
	var out []string
	for _, ref := range e.Spec.References {
		if ref.Name != "" {
			out = append(out, ref.Name)
		}
	}
	return out
}

// referrers maps an FtrackEntity to the objects whose references name it.
func (r *EntityReconciler) referrers(ctx context.Context, o client.Object) []reconcile.Request {
	var list v1alpha1.FtrackEntityList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{IndexFtrackEntityByReference: o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing the referrers of an FtrackEntity", "name", o.GetName())
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		if r.Filter != nil && !r.Filter(&list.Items[i]) {
			continue
		}
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}

// customAttributeConnection is the IndexFtrackEntityByCustomAttributeConnection value of
// an object: its connection's key when it sets custom attributes.
func customAttributeConnection(o client.Object) []string {
	e, ok := o.(*v1alpha1.FtrackEntity)
	if !ok || len(e.Spec.CustomAttributes) == 0 {
		return nil
	}
	return []string{connection.KeyFor(e.Namespace, e.Spec.ConnectionRef).String()}
}

// customAttributeWaiters maps a custom attribute configuration that is Ready to the objects
// of its connection that set custom attributes and are not Ready, and drops the connection's cached
// configurations so that they see the new one at once.
func (r *EntityReconciler) customAttributeWaiters(ctx context.Context, o client.Object) []reconcile.Request {
	e, ok := o.(*v1alpha1.FtrackEntity)
	if !ok || e.Spec.EntityType != plan.CustomAttributeConfigurationType || !isReady(e) {
		return nil
	}
	key := connection.KeyFor(e.Namespace, e.Spec.ConnectionRef)
	if r.Pool != nil {
		if conn, ok := r.Pool.Get(key); ok {
			conn.InvalidateConfigurations()
		}
	}
	var list v1alpha1.FtrackEntityList
	if err := r.List(ctx, &list, client.MatchingFields{IndexFtrackEntityByCustomAttributeConnection: key.String()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing the FtrackEntity objects that wait for a custom attribute", "connection", key.String())
		return nil
	}
	var out []reconcile.Request
	for i := range list.Items {
		w := &list.Items[i]
		// Every object that is not Ready is woken, not only those whose status already says
		// CustomAttributeNotFound: a reconcile that found the key missing may not have
		// written its status yet, and a did-you-mean may be answered by the new key.
		if isReady(w) {
			continue
		}
		if r.Filter != nil && !r.Filter(w) {
			continue
		}
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(w)})
	}
	return out
}

func (r *EntityReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile makes one FtrackEntity's ftrack entity equal to its spec.
func (r *EntityReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	obj := &v1alpha1.FtrackEntity{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			r.states.forget(req.NamespacedName)
			r.synced.Delete(req.NamespacedName)
			r.writes.forget(req.NamespacedName)
			r.blocked.forget(req.NamespacedName)
			r.marks.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if r.writes.behind(obj, time.Now()) {
		// The cache shows a version this process has written over: working from it would
		// take the id for fresh and send a second create, or write a status that conflicts.
		// Wait for the newer version.
		return ctrl.Result{RequeueAfter: cacheLagRetryDelay}, nil
	}
	base := obj.DeepCopy()
	defer func() {
		if !obj.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(obj, v1alpha1.FinalizerEntityDelete) {
			r.states.forget(req.NamespacedName)
			return
		}
		// The versions the reconcile started from and wrote over itself (annotation,
		// finalizer), before the status patch.
		overwritten := []string{base.ResourceVersion}
		if rv := obj.ResourceVersion; rv != base.ResourceVersion {
			overwritten = append(overwritten, rv)
		}
		r.states.set(req.NamespacedName, conditionStatus(obj, v1alpha1.ConditionReady), conditionStatus(obj, v1alpha1.ConditionSynced))
		if err := patchStatus(ctx, r.Status(), base, obj, withOptimisticLock); err != nil {
			if apierrors.IsConflict(err) {
				// The object changed meanwhile; look again with the new version.
				result, retErr = ctrl.Result{RequeueAfter: conflictRetryDelay}, nil
				return
			}
			retErr = kerrors.NewAggregate([]error{retErr, err})
			return
		}
		// A status patch that changed nothing leaves the version as the annotation patch
		// left it: that one is current, not written over.
		overwritten = slices.DeleteFunc(overwritten, func(rv string) bool { return rv == obj.ResourceVersion })
		r.writes.record(obj, overwritten, time.Now())
	}()

	if !obj.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, obj)
	}
	if obj.Spec.Suspend || obj.Annotations[v1alpha1.AnnotationPaused] == "true" {
		isReadyNow := meta.IsStatusConditionTrue(obj.Status.Conditions, v1alpha1.ConditionReady)
		markNotSynced(obj, isReadyNow, v1alpha1.ReasonSuspended, "reconciling is paused: ftrack is left as it is")
		obj.Status.ObservedGeneration = obj.Generation
		return ctrl.Result{}, nil
	}
	if v, ok := obj.Annotations[v1alpha1.AnnotationReconcileRequestedAt]; ok {
		obj.Status.LastHandledReconcileAt = v
	}
	result, err := r.reconcileNormal(ctx, obj)
	return r.outcome(ctx, obj, result, err)
}

func conditionStatus(obj *v1alpha1.FtrackEntity, typ string) string {
	if c := meta.FindStatusCondition(obj.Status.Conditions, typ); c != nil {
		return string(c.Status)
	}
	return string(metav1.ConditionUnknown)
}

// outcome maps the result of a reconcile to conditions and to what controller-runtime does
// next: spec errors are terminal, waits requeue (or wait for a trigger), server errors back
// off or follow Retry-After.
func (r *EntityReconciler) outcome(ctx context.Context, obj *v1alpha1.FtrackEntity, result ctrl.Result, err error) (ctrl.Result, error) {
	if w := (*waitError)(nil); errors.As(err, &w) && w.quiet {
		return ctrl.Result{RequeueAfter: w.after}, nil
	}
	obj.Status.ObservedGeneration = obj.Generation
	if err == nil {
		return result, nil
	}
	var specErr *plan.SpecError
	var wait *waitError
	var planWait *plan.Wait
	switch {
	case errors.As(err, &specErr):
		// A reference that cannot become Ready is said by the condition; the referenced
		// object has the Event.
		if !meta.IsStatusConditionTrue(obj.Status.Conditions, v1alpha1.ConditionStalled) && specErr.Reason != v1alpha1.ReasonReferenceNotReady {
			r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, v1alpha1.EventReasonInvalidSpec, "Validate", "%s", specErr.Message)
		}
		markStalled(obj, specErr.Reason, specErr.Message)
		// The spec (or the schema) has to change; a terminal error is not retried.
		return ctrl.Result{}, reconcile.TerminalError(err)
	case errors.As(err, &wait):
		markProgressing(obj, wait.reason, wait.message)
		return ctrl.Result{RequeueAfter: wait.after}, nil
	case errors.As(err, &planWait):
		after := waitRequeue
		if planWait.Reason == v1alpha1.ReasonCustomAttributeNotFound {
			after = customAttributeBackoff(obj, r.now())
		}
		markProgressing(obj, planWait.Reason, planWait.Message)
		return ctrl.Result{RequeueAfter: after}, nil
	case errors.Is(err, ftrack.ErrRateLimited):
		markProgressing(obj, v1alpha1.ReasonRateLimited, "ftrack asked to slow down; retrying")
		if after, ok := ftrack.RetryAfter(err); ok {
			return ctrl.Result{RequeueAfter: after}, nil
		}
		return ctrl.Result{}, err
	case apierrors.IsConflict(err):
		// Someone else changed the object; the watch brings the new version.
		return ctrl.Result{RequeueAfter: conflictRetryDelay}, nil
	case ftrack.IsRefused(err) && !errors.Is(err, ftrack.ErrNotFound), errors.Is(err, ftrack.ErrValidation), errors.Is(err, ftrack.ErrPermissionDenied):
		msg := fmt.Sprintf("ftrack refused the change: %s", err.Error())
		r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, v1alpha1.EventReasonInvalidSpec, "Write", "%s", plan.Truncate(msg, 512))
		markStalled(obj, v1alpha1.ReasonWriteRejected, msg)
		return ctrl.Result{}, reconcile.TerminalError(err)
	case errors.Is(err, context.Canceled):
		return ctrl.Result{}, err
	case errors.Is(err, ftrack.ErrInvalidCredentials):
		// The connection stopped being Ready with this answer (see connection.Pool); it
		// wakes its entities when it is Ready again.
		markProgressing(obj, v1alpha1.ReasonConnectionNotReady, "ftrack refused the connection's credentials; waiting for the connection to be Ready again")
		return ctrl.Result{RequeueAfter: waitRequeue}, nil
	default:
		markProgressing(obj, v1alpha1.ReasonServerUnreachable, fmt.Sprintf("reaching ftrack failed, retrying: %s", err.Error()))
		return ctrl.Result{}, err
	}
}

// reconcileNormal is the path of an object that is not being deleted: it checks the spec,
// resolves what it refers to and the entity's id, observes the entity, asks the planner
// what to do and carries the plan out.
func (r *EntityReconciler) reconcileNormal(ctx context.Context, obj *v1alpha1.FtrackEntity) (ctrl.Result, error) {
	if err := r.reconcileFinalizer(ctx, obj); err != nil {
		return ctrl.Result{}, err
	}
	conn, err := r.Pool.Acquire(ctx, r.Client, obj.Namespace, obj.Spec.ConnectionRef)
	if err != nil {
		return ctrl.Result{}, connectionWait(err)
	}
	want, err := plan.Validate(conn.Schemas(), &obj.Spec)
	if err != nil {
		return ctrl.Result{}, err
	}
	// References naming other FtrackEntity objects are resolved first: waiting for them
	// costs no request to ftrack.
	if err := r.resolveNamedReferences(ctx, obj, want); err != nil {
		return ctrl.Result{}, err
	}
	ec := conn.Entities()
	if err := ec.ResolveReferences(ctx, want, obj.Spec.References); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.resolveCustomAttributes(ctx, ec, obj, want); err != nil {
		return ctrl.Result{}, err
	}
	fresh, err := r.reconcileIdentity(ctx, ec, obj, want)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.reconcileEntity(ctx, conn, obj, want, fresh); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: conn.ResyncAfter()}, nil
}

// connectionWait maps an Acquire error to a wait: the pool announces when a connection
// becomes Ready, and the bridge then enqueues its entities.
func connectionWait(err error) error {
	var ae *connection.AcquireError
	if !errors.As(err, &ae) {
		return err
	}
	switch {
	case errors.Is(err, connection.ErrNotFound):
		return &waitError{reason: v1alpha1.ReasonConnectionNotFound, message: ae.Message, after: waitRequeue}
	case errors.Is(err, connection.ErrNamespaceNotAllowed):
		return &waitError{reason: v1alpha1.ReasonNamespaceNotAllowed, message: ae.Message, after: waitRequeue}
	}
	// A connection whose session is being opened (the manager just started, or the
	// connection was just created) is on its way: its Ready enqueues every entity of it, so
	// waiting for it costs no status write — at a restart that would be one per object.
	transient := ae.Reason == connection.ReasonPending || ae.Reason == v1alpha1.ReasonConnecting
	return &waitError{reason: v1alpha1.ReasonConnectionNotReady, message: ae.Message, after: waitRequeue, quiet: transient}
}

// reconcileFinalizer keeps the finalizer exactly when deletion has work to do.
func (r *EntityReconciler) reconcileFinalizer(ctx context.Context, obj *v1alpha1.FtrackEntity) error {
	want := obj.Spec.DeletionPolicy == v1alpha1.DeletionPolicyDelete && obj.Spec.Management != v1alpha1.ManagementObserve
	has := controllerutil.ContainsFinalizer(obj, v1alpha1.FinalizerEntityDelete)
	if want == has {
		return nil
	}
	patch := client.MergeFrom(obj.DeepCopy())
	if want {
		controllerutil.AddFinalizer(obj, v1alpha1.FinalizerEntityDelete)
	} else {
		controllerutil.RemoveFinalizer(obj, v1alpha1.FinalizerEntityDelete)
	}
	return r.Patch(ctx, obj, patch)
}

// reconcileEntity observes the entity, asks the planner what to do, and carries it out.
//
// A fresh id (see reconcileIdentity) is not observed: nothing can exist with it, and ftrack
// refuses a second entity with the same id anyway, which the create then treats as found.
func (r *EntityReconciler) reconcileEntity(ctx context.Context, conn *connection.Connection, obj *v1alpha1.FtrackEntity, want *plan.Desired, fresh bool) error {
	observe := obj.Spec.Management == v1alpha1.ManagementObserve
	key := client.ObjectKeyFromObject(obj)
	gen, remembered := r.synced.Load(key)
	sc := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionSynced)
	in := plan.Input{
		Object:  obj,
		Desired: want,
		SyncedBefore: (remembered && gen.(int64) == obj.Generation) ||
			(sc != nil && sc.Status == metav1.ConditionTrue && sc.ObservedGeneration == obj.Generation),
		Owned: obj.Status.Ownership == v1alpha1.OwnershipCreated || obj.Status.Ownership == v1alpha1.OwnershipAdopted || (remembered && !observe),
	}
	defer func() {
		// Only a Synced condition of this generation counts: a reconcile that failed still
		// carries the previous generation's, and remembering that would take the spec's own
		// change for a change made in ftrack at the next reconcile.
		if c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionSynced); c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == obj.Generation {
			r.synced.Store(key, obj.Generation)
		}
	}()
	if !observe && want.Type.HasMetadata() {
		maps.Copy(want.Metadata, plan.ManagedByMarker(obj.UID))
	}
	ec := conn.Entities()
	switch w, pending := r.marks.take(key); {
	case pending:
		// Its answer enqueues the object again.
		return &waitError{quiet: true, after: markWriteTimeout}
	case w == nil:
	case w.err != nil:
		return w.err
	case w.generation == obj.Generation && w.id == want.ID:
		return r.carryOut(ctx, conn, obj, want, w.plan, true)
	}
	if !fresh {
		var err error
		if in.Observed, err = ec.Observe(ctx, want); err != nil {
			return err
		}
	}
	if err := r.ownershipFacts(ctx, &in); err != nil {
		return err
	}
	p, err := plan.Decide(in)
	if err != nil {
		return err
	}
	if p.Action == plan.ActionCreate || p.Action == plan.ActionRecreate {
		if err := ec.Create(ctx, want); err != nil {
			if !ftrack.IsRefused(err) {
				return err
			}
			// The entity may exist already (an earlier create whose answer was lost): a
			// create is tolerant of "already exists".
			existing, oerr := ec.Observe(ctx, want)
			if oerr != nil {
				// Whether the create was refused for good is not known until ftrack can be
				// read again: retry rather than report the refusal as terminal.
				return fmt.Errorf("reading %s %s after ftrack refused to create it: %w", want.Type.Name(), want.ID, oerr)
			}
			if existing == nil {
				return r.refusedCreate(ctx, ec, want, err)
			}
			in.Observed = existing
			if err := r.ownershipFacts(ctx, &in); err != nil {
				return err
			}
			if p, err = plan.Decide(in); err != nil {
				return err
			}
		}
	}
	if r.marks != nil && p.Action == plan.ActionUpdate && !p.Drift && plan.OnlyOwnershipMark(p.Changes) {
		// See markWrites: the worker goes on to other objects while the mark waits for its
		// batch.
		r.marks.start(ctx, obj, p, func(ctx context.Context) error { return ec.Update(ctx, want, p.Changes) })
		return &waitError{quiet: true, after: markWriteTimeout}
	}
	return r.carryOut(ctx, conn, obj, want, p, false)
}

// refusedCreate decides what a create that ftrack refused (and that did not happen) means.
// When an entity the create refers to is no longer in ftrack — a parent deleted there,
// whose own object is creating it again — the refusal says nothing about the spec: the
// object waits, and the referenced object's recreate wakes it (see readinessChanged).
// Otherwise the refusal stands and is terminal (see outcome).
func (r *EntityReconciler) refusedCreate(ctx context.Context, ec *connection.Entities, want *plan.Desired, refused error) error {
	missing, err := ec.MissingReferences(ctx, want)
	if err != nil {
		return fmt.Errorf("reading what %s %s refers to after ftrack refused to create it: %w", want.Type.Name(), want.ID, err)
	}
	if len(missing) == 0 {
		return refused
	}
	ref := want.Refs[missing[0]]
	return &waitError{
		reason: v1alpha1.ReasonReferenceNotFound,
		message: fmt.Sprintf("references.%s: %s %s is not in ftrack (it may have been deleted there and be on its way back); waiting for it before creating %s %s",
			missing[0], ref.Type, ref.ID, want.Type.Name(), want.ID),
		after: referenceGoneRequeue,
	}
}

// carryOut writes what the plan says (the create is already done, and so is the update
// when written is set) and records it in status, metrics and Events.
func (r *EntityReconciler) carryOut(ctx context.Context, conn *connection.Connection, obj *v1alpha1.FtrackEntity, want *plan.Desired, p *plan.Plan, written bool) error {
	label := conn.Key().String()
	now := r.now()
	typ := want.Type.Name()
	if p.Action == plan.ActionUpdate && !written {
		if err := conn.Entities().Update(ctx, want, p.Changes); err != nil {
			return err
		}
	}
	obj.Status.ID = p.ID
	obj.Status.Ownership = p.Ownership
	if p.Path != "" {
		obj.Status.Path = p.Path
	}
	if p.DisplayName != "" {
		obj.Status.DisplayName = p.DisplayName
	}
	switch {
	case p.ReplacedOwner != "":
		r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, v1alpha1.EventReasonOwnerReplaced, "Adopt",
			"took over %s %s: its previous owner (FtrackEntity UID %s) no longer exists", typ, p.ID, p.ReplacedOwner)
	case p.Adopted:
		r.normalEvent(obj, v1alpha1.EventReasonAdopted, "Adopt", "adopted %s %s", typ, p.ID)
	}
	names := strings.Join(plan.ChangeNames(p.Changes), ", ")
	switch p.Action {
	case plan.ActionCreate:
		r.normalEvent(obj, v1alpha1.EventReasonCreated, "Create", "created %s %s", typ, p.ID)
	case plan.ActionRecreate:
		connection.DriftDetected.WithLabelValues(label, "corrected").Inc()
		obj.Status.LastDrift = plan.DriftReport(nil, now, true, true)
		r.normalEvent(obj, v1alpha1.EventReasonDriftCorrected, "Create", "%s %s was deleted in ftrack and has been recreated", typ, p.ID)
	case plan.ActionReportDeleted:
		connection.DriftDetected.WithLabelValues(label, "reported").Inc()
		obj.Status.LastDrift = plan.DriftReport(nil, now, true, false)
		r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, v1alpha1.EventReasonDriftReported, "Observe", "%s %s was deleted in ftrack; driftPolicy Report leaves it deleted", typ, p.ID)
		// Nothing changes until someone acts (driftPolicy Correct, or a new entity), so
		// kstatus reads it as Failed.
		markStalled(obj, v1alpha1.ReasonNotFoundInFtrack, fmt.Sprintf("%s %s was deleted in ftrack; it is not recreated under driftPolicy Report", typ, p.ID))
		return nil
	case plan.ActionObserve:
		obj.Status.LastSyncTime = ptrTime(now)
		msg := fmt.Sprintf("%s %s was read", typ, p.ID)
		if len(p.Changes) > 0 {
			msg += "; it differs from the spec in " + names
		}
		markSynced(obj, v1alpha1.ReasonObserved, msg)
		return nil
	case plan.ActionReportDrift:
		connection.DriftDetected.WithLabelValues(label, "reported").Inc()
		obj.Status.LastDrift = plan.DriftReport(p.Changes, now, false, false)
		r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, v1alpha1.EventReasonDriftReported, "Observe", "%s %s was changed in ftrack: %s", typ, p.ID, names)
		// As Flux does for drift it only warns about: Ready stays True (the entity exists
		// and is usable), Synced says that ftrack differs.
		markNotSynced(obj, true, v1alpha1.ReasonDriftReported, fmt.Sprintf("ftrack differs from the spec in %s; driftPolicy Report leaves it", names))
		return nil
	case plan.ActionUpdate:
		switch {
		case p.Drift:
			connection.DriftDetected.WithLabelValues(label, "corrected").Inc()
			obj.Status.LastDrift = plan.DriftReport(p.Changes, now, false, true)
			r.normalEvent(obj, v1alpha1.EventReasonDriftCorrected, "Update", "%s %s was changed in ftrack and has been corrected: %s", typ, p.ID, names)
		case !plan.OnlyOwnershipMark(p.Changes):
			r.normalEvent(obj, v1alpha1.EventReasonUpdated, "Update", "updated %s %s: %s", typ, p.ID, names)
		}
	}
	obj.Status.LastSyncTime = ptrTime(now)
	markSynced(obj, v1alpha1.ReasonSynced, fmt.Sprintf("%s %s holds the spec", typ, p.ID))
	return nil
}

// reconcileDelete deletes the ftrack entity when the policy says so and this object owns
// it, then lets the object go. A delete that would make ftrack delete descendants that
// other objects keep waits (DeleteBlocked) with the finalizer in place.
func (r *EntityReconciler) reconcileDelete(ctx context.Context, obj *v1alpha1.FtrackEntity) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, v1alpha1.FinalizerEntityDelete) {
		return ctrl.Result{}, nil
	}
	id := obj.Status.ID
	refuse := func(note string) (ctrl.Result, error) {
		r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, v1alpha1.EventReasonDeleteRefused, "Delete", "%s", note)
		return ctrl.Result{}, r.removeFinalizer(ctx, obj)
	}
	// What is decided without ftrack: the policy, and whether this object ever owned it.
	if d, _ := plan.DecideDelete(obj, id, &plan.Observed{}, nil, nil, nil); !d.Delete {
		if d.Leave != "" {
			return refuse(d.Leave)
		}
		return ctrl.Result{}, r.removeFinalizer(ctx, obj)
	}
	conn, err := r.Pool.Acquire(ctx, r.Client, obj.Namespace, obj.Spec.ConnectionRef)
	if err != nil {
		if errors.Is(err, connection.ErrNotFound) {
			return refuse(fmt.Sprintf("the connection is gone; %s %s is left in ftrack", obj.Spec.EntityType, id))
		}
		markProgressing(obj, v1alpha1.ReasonDeleting, "waiting for the connection to delete the entity: "+err.Error())
		return ctrl.Result{RequeueAfter: waitRequeue}, nil
	}
	ec := conn.Entities()
	es, err := plan.LookupType(conn.Schemas(), obj.Spec.EntityType)
	if err != nil {
		return refuse(fmt.Sprintf("%s; %s is left in ftrack", err.Error(), id))
	}
	want := &plan.Desired{Type: es, ID: id, Attrs: map[string]any{}, Refs: map[string]plan.Ref{}, Metadata: map[string]string{}}
	in := plan.Input{Object: obj, Desired: want}
	if in.Observed, err = ec.Observe(ctx, want); err != nil {
		markProgressing(obj, v1alpha1.ReasonDeleting, "reading the entity before deleting it failed, retrying: "+err.Error())
		return ctrl.Result{}, err
	}
	if err := r.ownershipFacts(ctx, &in); err != nil {
		return ctrl.Result{}, err
	}
	d, err := plan.DecideDelete(obj, id, in.Observed, in.MarkOwner, in.Rivals, nil)
	if err != nil {
		return ctrl.Result{}, err
	}
	if d.Delete {
		blockers, err := r.deleteBlockers(ctx, ec, obj, es, id)
		if err != nil {
			markProgressing(obj, v1alpha1.ReasonDeleting, "looking for descendants before deleting the entity failed, retrying: "+err.Error())
			return ctrl.Result{}, err
		}
		if d, err = plan.DecideDelete(obj, id, in.Observed, in.MarkOwner, in.Rivals, blockers); err != nil {
			return ctrl.Result{}, err
		}
	}
	switch {
	case len(d.Blockers) > 0:
		msg := plan.DeleteBlockedMessage(obj.Spec.EntityType, id, d.Blockers)
		if c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Reason != v1alpha1.ReasonDeleteBlocked || c.Message != plan.Truncate(msg, 1024) {
			r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, v1alpha1.EventReasonDeleteBlocked, "Delete", "%s", plan.Truncate(msg, 1024))
		}
		markProgressing(obj, v1alpha1.ReasonDeleteBlocked, msg)
		r.blocked.wait(client.ObjectKeyFromObject(obj), d.Blockers)
		return ctrl.Result{RequeueAfter: deleteBlockedRecheck}, nil
	case d.Leave != "":
		return refuse(d.Leave)
	case !d.Delete:
		// Gone already: nothing to delete, nothing to cascade.
		return ctrl.Result{}, r.removeFinalizer(ctx, obj)
	}
	r.blocked.forget(client.ObjectKeyFromObject(obj))
	if err := ec.Delete(ctx, obj.Spec.EntityType, id); err != nil {
		markProgressing(obj, v1alpha1.ReasonDeleting, "deleting the entity failed, retrying: "+err.Error())
		return ctrl.Result{}, err
	}
	r.normalEvent(obj, v1alpha1.EventReasonDeleted, "Delete", "deleted %s %s", obj.Spec.EntityType, id)
	return ctrl.Result{}, r.removeFinalizer(ctx, obj)
}

// deleteBlockedRecheck is the safety net of a blocked delete; a blocker that changes or
// goes wakes it at once (see blockedDeletes).
const deleteBlockedRecheck = 2 * time.Minute

func (r *EntityReconciler) removeFinalizer(ctx context.Context, obj *v1alpha1.FtrackEntity) error {
	patch := client.MergeFrom(obj.DeepCopy())
	controllerutil.RemoveFinalizer(obj, v1alpha1.FinalizerEntityDelete)
	return client.IgnoreNotFound(r.Patch(ctx, obj, patch))
}

func ptrTime(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t.Truncate(time.Second))
	return &mt
}

// conflictRetryDelay is how long a reconcile waits before it looks again at an object that
// changed while it was being reconciled; the newer version usually arrives by watch first.
const conflictRetryDelay = 200 * time.Millisecond

// normalEvent records a Normal Event on obj within its connection's Event budget (see
// entityEvents).
func (r *EntityReconciler) normalEvent(obj *v1alpha1.FtrackEntity, reason, action, note string, args ...any) {
	if r.events == nil {
		r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, reason, action, note, args...)
		return
	}
	r.events.normal(obj, reason, action, note, args...)
}
