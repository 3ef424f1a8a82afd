package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
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

// entityIDNamespace is the UUID namespace of the ids the operator chooses: an entity's id is
// the UUIDv5 of its FtrackEntity's UID in it.
var entityIDNamespace = uuid.MustParse("4c1d6a39-57f2-4f0e-9b7e-2d0a3c5b8e61")

// EntityIDFor returns the ftrack id the operator gives the entity of the FtrackEntity with
// uid: the same for every attempt, so that a repeated create finds the entity.
func EntityIDFor(uid types.UID) string {
	return uuid.NewSHA1(entityIDNamespace, []byte(uid)).String()
}

// Requeue intervals of the entity reconciler.
const (
	// waitRequeue is how long an entity waits before looking again at something that no
	// event announces (a query reference that matched nothing, a missing connection).
	waitRequeue = time.Minute
)

// EntityReconciler keeps each FtrackEntity's ftrack entity equal to its spec: it validates
// the spec against the connection's schema, resolves references, observes the entity by id,
// creates it with an id of its own choosing or updates what differs, and writes status once
// per reconcile.
type EntityReconciler struct {
	client.Client
	// Pool lends the connections' sessions.
	Pool *SessionPool
	// Bridge turns ftrack events into reconcile triggers; nil disables them.
	Bridge *EventBridge
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
	// CoalescerOptions tune the commit coalescer of each connection, for example
	// WithMaxBatchOperations(1) and WithMaxInFlight(n) to measure the operator without batching.
	// They take effect when a connection's coalescer is made.
	CoalescerOptions []CoalescerOption

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
		For(&v1alpha1.FtrackEntity{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, controlAnnotationsChanged{}, deletionPredicate{}),
			filter)).
		Watches(&v1alpha1.FtrackEntity{}, enqueueWithPriority{fn: r.referrers, priority: wakePriority}, builder.WithPredicates(readinessChanged{})).
		Watches(&v1alpha1.FtrackEntity{}, enqueueWithPriority{fn: r.customAttributeWaiters, priority: wakePriority}, builder.WithPredicates(readinessChanged{})).
		// An owner that goes lets the next object that points at its entity take it.
		Watches(&v1alpha1.FtrackEntity{}, enqueueWithPriority{fn: r.claimantsOfDeleted, priority: wakePriority}, builder.WithPredicates(goneOrGoing{})).
		// A blocker of a deletion that goes or changes lets the deletion look again.
		Watches(&v1alpha1.FtrackEntity{}, enqueueWithPriority{fn: r.blocked.waiters, priority: wakePriority}, builder.WithPredicates(predicate.Or(goneOrGoing{}, predicate.GenerationChangedPredicate{})))
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
		meta.IsStatusConditionTrue(o.Status.Conditions, v1alpha1.ConditionStalled) != meta.IsStatusConditionTrue(n.Status.Conditions, v1alpha1.ConditionStalled)
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
	return []string{ConnectionKeyFor(e.Namespace, e.Spec.ConnectionRef).String()}
}

// customAttributeWaiters maps a custom attribute configuration that is Ready to the objects
// of its connection that set custom attributes and are not Ready, and drops the connection's cached
// configurations so that they see the new one at once.
func (r *EntityReconciler) customAttributeWaiters(ctx context.Context, o client.Object) []reconcile.Request {
	e, ok := o.(*v1alpha1.FtrackEntity)
	if !ok || e.Spec.EntityType != customAttributeConfigurationType || !isReady(e) {
		return nil
	}
	key := ConnectionKeyFor(e.Namespace, e.Spec.ConnectionRef)
	if r.Pool != nil {
		if conn, ok := r.Pool.Get(key); ok {
			connectionConfigCache(conn).invalidate()
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
		if err := r.patchStatus(ctx, base, obj); err != nil {
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

// patchStatus writes status once, and records the object's state in metrics.
func (r *EntityReconciler) patchStatus(ctx context.Context, base, obj *v1alpha1.FtrackEntity) error {
	r.states.set(client.ObjectKeyFromObject(obj), conditionStatus(obj, v1alpha1.ConditionReady), conditionStatus(obj, v1alpha1.ConditionSynced))
	// A status that did not change is not written: that costs the API server a request
	// and every watcher an event for nothing. Nothing stale is written either way; a newer
	// version, if the cache is behind, keeps what it holds.
	if equality.Semantic.DeepEqual(base.Status, obj.Status) {
		return nil
	}
	// The patch carries the resourceVersion: a cache that is behind (another writer, a
	// previous operator process) then gets a conflict and the object is reconciled again,
	// instead of a stale status overwriting a newer one.
	// The lock is on the newest version this reconcile knows: its own patches of the
	// annotation and the finalizer moved it on from the cached one.
	base.SetResourceVersion(obj.GetResourceVersion())
	return client.IgnoreNotFound(r.Status().Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})))
}

func conditionStatus(obj *v1alpha1.FtrackEntity, typ string) string {
	if c := meta.FindStatusCondition(obj.Status.Conditions, typ); c != nil {
		return string(c.Status)
	}
	return string(metav1.ConditionUnknown)
}

// waitError says that the reconcile cannot go on now and when to look again; it is not a
// failure of the operator.
type waitError struct {
	reason  string
	message string
	after   time.Duration
	// quiet leaves status unwritten (see quietFirstWait).
	quiet bool
}

// firstWaitGrace is how long a new object whose referenced FtrackEntity is on its way to
// Ready waits before it says so in its status.
const firstWaitGrace = 15 * time.Second

// quietFirstWait decides whether obj, which waits for target to be Ready, may wait without
// writing its status: when obj is new (no reconcile has written its status, and it is
// younger than firstWaitGrace) and target is not stuck (not Stalled). Under a bulk change
// almost every child meets its parent on the way to Ready, and the parent becoming Ready
// wakes it (see referrers); a status saying "waiting" would cost the API server one write
// per child for a few seconds' worth of information. Until its first status, the object
// reads as InProgress to kstatus all the same: its status defaults to an observedGeneration
// of 0. It returns how long to wait before looking again regardless.
func (r *EntityReconciler) quietFirstWait(obj, target *v1alpha1.FtrackEntity) (time.Duration, bool) {
	if len(obj.Status.Conditions) > 0 || meta.IsStatusConditionTrue(target.Status.Conditions, v1alpha1.ConditionStalled) {
		return 0, false
	}
	age := r.now().Sub(obj.CreationTimestamp.Time)
	if age >= firstWaitGrace {
		return 0, false
	}
	return firstWaitGrace - max(age, 0), true
}

func (e *waitError) Error() string { return e.message }

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
	var specErr *SpecError
	var wait *waitError
	var rl *ftrack.RateLimitError
	switch {
	case errors.As(err, &specErr):
		if !meta.IsStatusConditionTrue(obj.Status.Conditions, v1alpha1.ConditionStalled) {
			r.Recorder.Eventf(obj, nil, "Warning", v1alpha1.EventReasonInvalidSpec, "Validate", "%s", specErr.Message)
		}
		markStalled(obj, specErr.Reason, specErr.Message)
		// The spec (or the schema) has to change; a terminal error is not retried.
		return ctrl.Result{}, reconcile.TerminalError(err)
	case errors.As(err, &wait):
		markProgressing(obj, wait.reason, wait.message)
		return ctrl.Result{RequeueAfter: wait.after}, nil
	case errors.As(err, &rl):
		markProgressing(obj, v1alpha1.ReasonRateLimited, "ftrack asked to slow down; retrying")
		if rl.RetryAfter > 0 {
			return ctrl.Result{RequeueAfter: rl.RetryAfter}, nil
		}
		return ctrl.Result{}, err
	case apierrors.IsConflict(err):
		// Someone else changed the object; the watch brings the new version.
		return ctrl.Result{RequeueAfter: conflictRetryDelay}, nil
	case isWriteRejected(err):
		msg := fmt.Sprintf("ftrack refused the change: %s", err.Error())
		r.Recorder.Eventf(obj, nil, "Warning", v1alpha1.EventReasonInvalidSpec, "Write", "%s", truncate(msg, 512))
		markStalled(obj, v1alpha1.ReasonWriteRejected, msg)
		return ctrl.Result{}, reconcile.TerminalError(err)
	case errors.Is(err, context.Canceled):
		return ctrl.Result{}, err
	case errors.Is(err, ftrack.ErrInvalidCredentials):
		// The connection stopped being Ready with this answer (see SessionPool.refuse); it
		// wakes its entities when it is Ready again.
		markProgressing(obj, v1alpha1.ReasonConnectionNotReady, "ftrack refused the connection's credentials; waiting for the connection to be Ready again")
		return ctrl.Result{RequeueAfter: waitRequeue}, nil
	default:
		markProgressing(obj, v1alpha1.ReasonServerUnreachable, fmt.Sprintf("reaching ftrack failed, retrying: %s", err.Error()))
		return ctrl.Result{}, err
	}
}

// isWriteRejected reports whether ftrack refused an operation as invalid (not a failure of
// the server or the network).
func isWriteRejected(err error) bool {
	return errors.Is(err, ftrack.ErrValidation) || errors.Is(err, ftrack.ErrPermissionDenied) || (isOperationError(err) && !errors.Is(err, ftrack.ErrNotFound))
}

// reconcileNormal is the path of an object that is not being deleted.
func (r *EntityReconciler) reconcileNormal(ctx context.Context, obj *v1alpha1.FtrackEntity) (ctrl.Result, error) {
	if err := r.reconcileFinalizer(ctx, obj); err != nil {
		return ctrl.Result{}, err
	}
	conn, err := r.Pool.Acquire(ctx, r.Client, obj.Namespace, obj.Spec.ConnectionRef)
	if err != nil {
		return ctrl.Result{}, connectionWait(err)
	}
	es, err := lookupType(conn.Schemas(), obj.Spec.EntityType)
	if err != nil {
		return ctrl.Result{}, err
	}
	attrs, err := validateStatic(es, &obj.Spec)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := validateRequired(es, &obj.Spec, attrs); err != nil {
		return ctrl.Result{}, err
	}
	want := &desiredEntity{es: es, attrs: attrs, metadata: map[string]string{}}
	for k, v := range obj.Spec.Metadata {
		want.metadata[k] = v
	}
	// References naming other FtrackEntity objects are resolved first: waiting for them
	// costs no request to ftrack.
	if err := r.resolveNamedReferences(ctx, obj, want); err != nil {
		return ctrl.Result{}, err
	}
	ec := r.entityClient(conn)
	if err := r.resolveRemoteReferences(ctx, ec, obj, want); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.resolveCustomAttributes(ctx, ec, obj, want); err != nil {
		return ctrl.Result{}, err
	}
	fresh, err := r.reconcileIdentity(ctx, ec, obj, want)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.reconcileEntity(ctx, ec, conn, obj, want, fresh); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: conn.ResyncAfter()}, nil
}

// entityClient returns the entityClient of conn.
func (r *EntityReconciler) entityClient(conn *Connection) entityClient {
	return newFtrackEntityClient(conn, r.CoalescerOptions...)
}

// connectionWait maps an Acquire error to a wait: the pool announces when a connection
// becomes Ready, and the bridge then enqueues its entities.
func connectionWait(err error) error {
	var ae *AcquireError
	if !errors.As(err, &ae) {
		return err
	}
	switch {
	case errors.Is(err, ErrConnectionNotFound):
		return &waitError{reason: v1alpha1.ReasonConnectionNotFound, message: ae.Message, after: waitRequeue}
	case errors.Is(err, ErrNamespaceNotAllowed):
		return &waitError{reason: v1alpha1.ReasonNamespaceNotAllowed, message: ae.Message, after: waitRequeue}
	}
	return &waitError{reason: v1alpha1.ReasonConnectionNotReady, message: ae.Message, after: waitRequeue}
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

// resolveNamedReferences resolves references to other FtrackEntity objects, and takes the
// parent's path from its status when the parent is one.
func (r *EntityReconciler) resolveNamedReferences(ctx context.Context, obj *v1alpha1.FtrackEntity, want *desiredEntity) error {
	want.refs = map[string]resolvedRef{}
	for _, rel := range sortedKeys(obj.Spec.References) {
		ref := obj.Spec.References[rel]
		if ref.Name == "" {
			continue
		}
		if cycle, err := r.referenceCycle(ctx, obj, ref.Name); err != nil {
			return err
		} else if cycle != "" {
			return specErrorf(v1alpha1.ReasonReferenceCycle, "references.%s: the references by name form a cycle (%s); an entity cannot be its own ancestor", rel, cycle)
		}
		var target v1alpha1.FtrackEntity
		if err := r.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: ref.Name}, &target); err != nil {
			if apierrors.IsNotFound(err) {
				return &waitError{reason: v1alpha1.ReasonReferenceNotReady, message: fmt.Sprintf("references.%s: FtrackEntity %q does not exist yet", rel, ref.Name)}
			}
			return err
		}
		if err := want.es.checkReferenceType(rel, target.Spec.EntityType, fmt.Sprintf("FtrackEntity %q", ref.Name)); err != nil {
			return err
		}
		if !isReady(&target) {
			w := &waitError{reason: v1alpha1.ReasonReferenceNotReady, message: fmt.Sprintf("references.%s: waiting for FtrackEntity %q to be Ready", rel, ref.Name)}
			w.after, w.quiet = r.quietFirstWait(obj, &target)
			return w
		}
		if ConnectionKeyFor(target.Namespace, target.Spec.ConnectionRef) != ConnectionKeyFor(obj.Namespace, obj.Spec.ConnectionRef) {
			return specErrorf(v1alpha1.ReasonInvalidReference, "references.%s: FtrackEntity %q uses another connection", rel, ref.Name)
		}
		want.refs[rel] = resolvedRef{id: target.Status.ID, typ: target.Spec.EntityType}
		if rel == "parent" {
			want.parentPath = target.Status.Path
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
		for _, rel := range sortedKeys(o.Spec.References) {
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

// resolveRemoteReferences resolves references given by id or by query.
func (r *EntityReconciler) resolveRemoteReferences(ctx context.Context, ec entityClient, obj *v1alpha1.FtrackEntity, want *desiredEntity) error {
	for _, rel := range sortedKeys(obj.Spec.References) {
		ref := obj.Spec.References[rel]
		p, _ := want.es.s.Property(rel)
		switch {
		case ref.ID != "":
			found, err := ec.Lookup(ctx, p.Ref, ref.ID)
			if err != nil {
				return err
			}
			if found == nil {
				return &waitError{reason: v1alpha1.ReasonReferenceNotFound, message: fmt.Sprintf("references.%s: no %s has id %q", rel, p.Ref, ref.ID), after: waitRequeue}
			}
			want.refs[rel] = resolvedRef{id: found.id, typ: found.typ, path: found.path}
			if rel == "parent" {
				want.parentPath = found.path
			}
		case ref.Query != "":
			found, err := ec.Query(ctx, ref.Query)
			if err != nil {
				if isOperationError(err) {
					return specErrorf(v1alpha1.ReasonInvalidReference, "references.%s: the query %q is not valid: %s", rel, ref.Query, err.Error())
				}
				return err
			}
			switch len(found) {
			case 0:
				return &waitError{reason: v1alpha1.ReasonReferenceNotFound, message: fmt.Sprintf("references.%s: the query %q matched nothing", rel, ref.Query), after: waitRequeue}
			case 1:
			default:
				return &waitError{reason: v1alpha1.ReasonReferenceAmbiguous, message: fmt.Sprintf("references.%s: the query %q matched more than one entity; it must match exactly one", rel, ref.Query), after: waitRequeue}
			}
			if err := want.es.checkReferenceType(rel, found[0].typ, fmt.Sprintf("the query %q", ref.Query)); err != nil {
				return err
			}
			want.refs[rel] = resolvedRef{id: found[0].id, typ: found[0].typ}
		}
	}
	return nil
}

// customAttributeConfigurationType is the entity type of custom attribute configurations.
const customAttributeConfigurationType = "CustomAttributeConfiguration"

// Back-off of an object that waits for a custom attribute configuration: the Ready
// configuration's FtrackEntity wakes it at once, so the requeue is only for configurations
// made in ftrack by other means.
const (
	customAttributeWaitMin = 30 * time.Second
	customAttributeWaitMax = 10 * time.Minute
)

// resolveCustomAttributes checks the custom attributes against the configurations that
// apply to the entity type.
//
// A key that no configuration has is a wait, not an error: under GitOps the configuration
// and the entities that use it arrive in one sync, in any order. The wait ends when an
// FtrackEntity of the same connection that declares a configuration becomes Ready (see
// customAttributeWaiters), or after a growing requeue. A key that differs only by case or
// by a small edit from a key that applies, and that no FtrackEntity of the connection
// declares, is taken for a typing error and is terminal.
func (r *EntityReconciler) resolveCustomAttributes(ctx context.Context, ec entityClient, obj *v1alpha1.FtrackEntity, want *desiredEntity) error {
	want.custom = map[string]desiredCustom{}
	if len(obj.Spec.CustomAttributes) == 0 {
		return nil
	}
	configs, err := ec.CustomAttributes(ctx, want.es, false)
	if err != nil {
		return err
	}
	for _, key := range sortedKeys(obj.Spec.CustomAttributes) {
		if _, ok := configs[key]; !ok {
			// The configuration may be new: read them again once.
			if configs, err = ec.CustomAttributes(ctx, want.es, true); err != nil {
				return err
			}
			break
		}
	}
	var missing []string
	for _, key := range sortedKeys(obj.Spec.CustomAttributes) {
		cfg, ok := configs[key]
		if !ok {
			missing = append(missing, key)
			continue
		}
		v, err := convertCustomAttribute(key, cfg, obj.Spec.CustomAttributes[key])
		if err != nil {
			return err
		}
		want.custom[key] = desiredCustom{configID: cfg.id, value: v}
	}
	if len(missing) == 0 {
		return nil
	}
	declared, err := r.declaredConfigurations(ctx, obj)
	if err != nil {
		return err
	}
	key := missing[0]
	known := sortedKeys(configs)
	if _, pending := declared[key]; !pending {
		if near := closeKey(key, append(known, sortedKeys(declared)...)); near != "" {
			return specErrorf(v1alpha1.ReasonInvalidAttribute, "customAttributes.%s: no custom attribute %q applies to %s entities; did you mean %q?", key, key, want.es.s.ID, near)
		}
	}
	msg := fmt.Sprintf("customAttributes.%s: waiting for a custom attribute configuration with key %q that applies to %s entities", key, key, want.es.s.ID)
	if name, pending := declared[key]; pending {
		msg += fmt.Sprintf(" (FtrackEntity %q declares it and is not Ready yet)", name)
	}
	msg += "; configurations that apply: " + listOrNone(known)
	return &waitError{reason: v1alpha1.ReasonCustomAttributeNotFound, message: msg, after: customAttributeBackoff(obj, r.now())}
}

// declaredConfigurations returns the keys of the custom attribute configurations that
// FtrackEntity objects of obj's connection declare, with the name of one object each.
func (r *EntityReconciler) declaredConfigurations(ctx context.Context, obj *v1alpha1.FtrackEntity) (map[string]string, error) {
	key := ConnectionKeyFor(obj.Namespace, obj.Spec.ConnectionRef)
	var opts []client.ListOption
	if key.Namespace != "" {
		opts = append(opts, client.InNamespace(key.Namespace))
	}
	var list v1alpha1.FtrackEntityList
	if err := r.List(ctx, &list, opts...); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i := range list.Items {
		e := &list.Items[i]
		if e.Spec.EntityType != customAttributeConfigurationType || ConnectionKeyFor(e.Namespace, e.Spec.ConnectionRef) != key {
			continue
		}
		raw, ok := e.Spec.Attributes["key"]
		var k string
		if !ok || json.Unmarshal(raw.Raw, &k) != nil || k == "" {
			continue
		}
		if _, dup := out[k]; !dup {
			out[k] = e.Namespace + "/" + e.Name
			if key.Namespace != "" {
				out[k] = e.Name
			}
		}
	}
	return out, nil
}

// closeKey returns the key of keys that key is most likely a mistyping of: the same but for
// case, one edit away for keys of four or more characters, or two edits away for keys of
// eight or more; "" when none is.
func closeKey(key string, keys []string) string {
	lower := strings.ToLower(key)
	best, bestD := "", 3
	for _, k := range keys {
		if k == key {
			continue
		}
		d := editDistance(lower, strings.ToLower(k))
		limit := 0
		switch {
		case len(key) >= 8:
			limit = 2
		case len(key) >= 4:
			limit = 1
		}
		if d <= limit && d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// listOrNone joins names for a message, at most ten of them.
func listOrNone(names []string) string {
	switch {
	case len(names) == 0:
		return "none"
	case len(names) > 10:
		return strings.Join(names[:10], ", ") + fmt.Sprintf(" and %d more", len(names)-10)
	}
	return strings.Join(names, ", ")
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
func (r *EntityReconciler) reconcileIdentity(ctx context.Context, ec entityClient, obj *v1alpha1.FtrackEntity, want *desiredEntity) (fresh bool, err error) {
	id := obj.Annotations[v1alpha1.AnnotationEntityID]
	if id == "" {
		id = obj.Status.ID
	}
	if a := obj.Spec.Adopt; id != "" && a != nil && a.ID != "" && a.ID != id {
		// The annotation and adopt.id disagree (an object applied again after its entity
		// went, then told to adopt): adopt wins over an id whose entity no longer exists.
		probe := &desiredEntity{es: want.es, id: id, attrs: map[string]any{}, refs: map[string]resolvedRef{}, metadata: map[string]string{}}
		have, err := ec.Observe(ctx, probe)
		if err != nil {
			return false, err
		}
		if have != nil {
			return false, specErrorf(v1alpha1.ReasonAdoptionFailed,
				"adopt.id: this object already manages %s %s (its %s annotation), which exists in ftrack; an object manages one entity, so create another FtrackEntity to adopt %s",
				want.es.s.ID, id, v1alpha1.AnnotationEntityID, a.ID)
		}
		id = a.ID
	}
	if id == "" {
		switch a := obj.Spec.Adopt; {
		case a != nil && a.ID != "":
			id = a.ID
		case a != nil && len(a.Match) > 0:
			ids, err := ec.Find(ctx, want.es, a.Match)
			if err != nil {
				if isOperationError(err) {
					return false, specErrorf(v1alpha1.ReasonAdoptionFailed, "adopt.match: ftrack refused the query: %s", err.Error())
				}
				return false, err
			}
			switch {
			case len(ids) > 1:
				return false, specErrorf(v1alpha1.ReasonAdoptionFailed, "adopt.match: more than one %s matches %s; add attributes until one does", want.es.s.ID, describeMatch(a.Match))
			case len(ids) == 1:
				id = ids[0]
			case obj.Spec.Management == v1alpha1.ManagementObserve:
				return false, &waitError{reason: v1alpha1.ReasonNotFoundInFtrack, message: fmt.Sprintf("adopt.match: no %s matches %s", want.es.s.ID, describeMatch(a.Match)), after: waitRequeue}
			}
		}
	}
	if id == "" {
		id = EntityIDFor(obj.UID)
		fresh = obj.Spec.Adopt == nil
	}
	want.id = id
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
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// reconcileEntity observes the entity and creates, adopts, updates or reports it.
//
// A fresh id (see reconcileIdentity) is not observed: nothing can exist with it, and ftrack
// refuses a second entity with the same id anyway, which the create then treats as found.
func (r *EntityReconciler) reconcileEntity(ctx context.Context, ec entityClient, conn *Connection, obj *v1alpha1.FtrackEntity, want *desiredEntity, fresh bool) error {
	observe := obj.Spec.Management == v1alpha1.ManagementObserve
	key := client.ObjectKeyFromObject(obj)
	gen, remembered := r.synced.Load(key)
	sc := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionSynced)
	syncedBefore := (remembered && gen.(int64) == obj.Generation) ||
		(sc != nil && sc.Status == metav1.ConditionTrue && sc.ObservedGeneration == obj.Generation)
	owned := obj.Status.Ownership == v1alpha1.OwnershipCreated || obj.Status.Ownership == v1alpha1.OwnershipAdopted || (remembered && !observe)
	defer func() {
		// Only a Synced condition of this generation counts: a reconcile that failed still
		// carries the previous generation's, and remembering that would take the spec's own
		// change for a change made in ftrack at the next reconcile.
		if c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionSynced); c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == obj.Generation {
			r.synced.Store(key, obj.Generation)
		}
	}()
	if !observe && want.es.hasMetadata() {
		for k, v := range managedByMarker(string(obj.UID)) {
			want.metadata[k] = v
		}
	}
	var have *observedEntity
	if !fresh {
		var err error
		if have, err = ec.Observe(ctx, want); err != nil {
			return err
		}
	}
	replaced, err := r.checkOwnership(ctx, obj, want, have)
	if err != nil {
		return err
	}
	label := conn.Key().String()
	now := r.now()
	if have == nil {
		switch {
		case observe:
			return &waitError{reason: v1alpha1.ReasonNotFoundInFtrack, message: fmt.Sprintf("no %s has id %q", want.es.s.ID, want.id), after: waitRequeue}
		case obj.Spec.Adopt != nil && obj.Spec.Adopt.ID != "" && want.id == obj.Spec.Adopt.ID:
			return &waitError{reason: v1alpha1.ReasonAdoptionFailed, message: fmt.Sprintf("adopt.id: no %s has id %q", want.es.s.ID, want.id), after: waitRequeue}
		case owned && obj.Spec.DriftPolicy == v1alpha1.DriftPolicyReport:
			driftDetected.WithLabelValues(label, "reported").Inc()
			obj.Status.LastDrift = driftReport(nil, now, true, false)
			r.Recorder.Eventf(obj, nil, "Warning", v1alpha1.EventReasonDriftReported, "Observe", "%s %s was deleted in ftrack; driftPolicy Report leaves it deleted", want.es.s.ID, want.id)
			// Nothing changes until someone acts (driftPolicy Correct, or a new entity), so
			// kstatus reads it as Failed.
			markStalled(obj, v1alpha1.ReasonNotFoundInFtrack, fmt.Sprintf("%s %s was deleted in ftrack; it is not recreated under driftPolicy Report", want.es.s.ID, want.id))
			return nil
		}
		if err := ec.Create(ctx, want); err != nil {
			if !isOperationError(err) {
				return err
			}
			// The entity may exist already (an earlier create whose answer was lost): a
			// create is tolerant of "already exists".
			existing, oerr := ec.Observe(ctx, want)
			if oerr != nil {
				// Whether the create was refused for good is not known until ftrack can be
				// read again: retry rather than report the refusal as terminal.
				return fmt.Errorf("reading %s %s after ftrack refused to create it: %w", want.es.s.ID, want.id, oerr)
			}
			if existing == nil {
				return err
			}
			if replaced, err = r.checkOwnership(ctx, obj, want, existing); err != nil {
				return err
			}
			return r.reconcileExisting(ctx, ec, label, obj, want, existing, observe, owned, syncedBefore, replaced)
		}
		obj.Status.ID = want.id
		if owned {
			driftDetected.WithLabelValues(label, "corrected").Inc()
			obj.Status.LastDrift = driftReport(nil, now, true, true)
			r.normalEvent(obj, v1alpha1.EventReasonDriftCorrected, "Create", "%s %s was deleted in ftrack and has been recreated", want.es.s.ID, want.id)
		} else {
			r.normalEvent(obj, v1alpha1.EventReasonCreated, "Create", "created %s %s", want.es.s.ID, want.id)
		}
		obj.Status.Ownership = v1alpha1.OwnershipCreated
		if name, ok := want.attrs["name"].(string); ok {
			obj.Status.Path = entityPath(want.parentPath, name)
		}
		obj.Status.LastSyncTime = ptrTime(now)
		markSynced(obj, v1alpha1.ReasonSynced, fmt.Sprintf("%s %s holds the spec", want.es.s.ID, want.id))
		return nil
	}
	return r.reconcileExisting(ctx, ec, label, obj, want, have, observe, owned, syncedBefore, replaced)
}

// checkOwnership applies the ownership rule (see entity_ownership.go) to obj and the entity
// want.id, which have describes (nil: it does not exist). It returns a spec error when
// another object owns the entity, and the UID of a previous owner that no longer exists
// when obj takes its place. Observe-only objects own nothing and are not checked.
func (r *EntityReconciler) checkOwnership(ctx context.Context, obj *v1alpha1.FtrackEntity, want *desiredEntity, have *observedEntity) (replaced string, err error) {
	if obj.Spec.Management == v1alpha1.ManagementObserve {
		return "", nil
	}
	if have != nil {
		switch mark := have.metadata[v1alpha1.MetadataManagedBy]; {
		case mark == string(obj.UID):
			return "", nil
		case mark != "":
			owner, err := r.markOwner(ctx, obj, mark)
			if err != nil {
				return "", err
			}
			if owner != nil {
				return "", ownershipConflict(want.es.s.ID, want.id, owner, "its managed-by mark in ftrack names that object")
			}
			replaced = mark
		}
	}
	view, err := r.rivalsOf(ctx, obj, want.id)
	if err != nil {
		return "", err
	}
	if leader := view.leader(obj, want.id); leader != nil {
		return "", ownershipConflict(want.es.s.ID, want.id, leader, "that object pointed at it first")
	}
	return replaced, nil
}

// reconcileExisting adopts, reads, updates or reports an entity that exists in ftrack.
// replaced is the UID of a previous owner that no longer exists, or "".
func (r *EntityReconciler) reconcileExisting(ctx context.Context, ec entityClient, label string, obj *v1alpha1.FtrackEntity, want *desiredEntity, have *observedEntity, observe, owned, syncedBefore bool, replaced string) error {
	now := r.now()
	if have.typ != "" && !want.es.set.IsA(have.typ, want.es.s.ID) {
		return specErrorf(v1alpha1.ReasonInvalidSpec, "the entity with id %s is a %s, not a %s", want.id, have.typ, want.es.s.ID)
	}
	mark := have.metadata[v1alpha1.MetadataManagedBy]
	switch {
	case observe:
		obj.Status.Ownership = v1alpha1.OwnershipObserved
	case replaced != "":
		obj.Status.Ownership = v1alpha1.OwnershipAdopted
		r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, v1alpha1.EventReasonOwnerReplaced, "Adopt",
			"took over %s %s: its previous owner (FtrackEntity UID %s) no longer exists", want.es.s.ID, want.id, replaced)
	case mark == string(obj.UID) || want.id == EntityIDFor(obj.UID):
		// The operator created it for this object (its status may have been lost), or
		// adopted it for this object earlier.
		if !owned {
			obj.Status.Ownership = v1alpha1.OwnershipCreated
			if obj.Spec.Adopt != nil && want.id != EntityIDFor(obj.UID) {
				obj.Status.Ownership = v1alpha1.OwnershipAdopted
			}
		}
	case owned:
		// This object created or adopted it and its mark is missing (removed in ftrack, or
		// a type without metadata); the update below puts the mark back.
	case obj.Spec.Adopt != nil:
		obj.Status.Ownership = v1alpha1.OwnershipAdopted
		r.normalEvent(obj, v1alpha1.EventReasonAdopted, "Adopt", "adopted %s %s", want.es.s.ID, want.id)
	default:
		return specErrorf(v1alpha1.ReasonOwnershipConflict,
			"%s %s exists in ftrack but was not created by the operator for this object; to take it over set spec.adopt.id, or remove the %s annotation to create a new entity",
			want.es.s.ID, want.id, v1alpha1.AnnotationEntityID)
	}
	obj.Status.ID = want.id
	switch name, named := have.attrs["name"].(string); {
	case have.path != "":
		obj.Status.Path = have.path
	case named:
		obj.Status.Path = entityPath(want.parentPath, name)
	}
	changes := diffEntity(want, have)
	if observe {
		obj.Status.LastSyncTime = ptrTime(now)
		msg := fmt.Sprintf("%s %s was read", want.es.s.ID, want.id)
		if len(changes) > 0 {
			msg += fmt.Sprintf("; it differs from the spec in %s", strings.Join(changeNames(changes), ", "))
		}
		markSynced(obj, v1alpha1.ReasonObserved, msg)
		return nil
	}
	if err := checkImmutable(want, have, changes); err != nil {
		return err
	}
	if len(changes) == 0 {
		obj.Status.LastSyncTime = ptrTime(now)
		markSynced(obj, v1alpha1.ReasonSynced, fmt.Sprintf("%s %s holds the spec", want.es.s.ID, want.id))
		return nil
	}
	// A difference while the spec has not changed since the last sync was made in ftrack.
	drift := syncedBefore && owned
	if drift && obj.Spec.DriftPolicy == v1alpha1.DriftPolicyReport {
		driftDetected.WithLabelValues(label, "reported").Inc()
		obj.Status.LastDrift = driftReport(changes, now, false, false)
		r.Recorder.Eventf(obj, nil, "Warning", v1alpha1.EventReasonDriftReported, "Observe", "%s %s was changed in ftrack: %s", want.es.s.ID, want.id, strings.Join(changeNames(changes), ", "))
		// As Flux does for drift it only warns about: Ready stays True (the entity exists
		// and is usable), Synced says that ftrack differs.
		markNotSynced(obj, true, v1alpha1.ReasonDriftReported, fmt.Sprintf("ftrack differs from the spec in %s; driftPolicy Report leaves it", strings.Join(changeNames(changes), ", ")))
		return nil
	}
	if err := ec.Update(ctx, want, changes); err != nil {
		return err
	}
	if p := pathAfterUpdate(want, have, changes); p != "" {
		obj.Status.Path = p
	}
	if drift {
		driftDetected.WithLabelValues(label, "corrected").Inc()
		obj.Status.LastDrift = driftReport(changes, now, false, true)
		r.normalEvent(obj, v1alpha1.EventReasonDriftCorrected, "Update", "%s %s was changed in ftrack and has been corrected: %s", want.es.s.ID, want.id, strings.Join(changeNames(changes), ", "))
	} else if !onlyOwnershipMark(changes) {
		r.normalEvent(obj, v1alpha1.EventReasonUpdated, "Update", "updated %s %s: %s", want.es.s.ID, want.id, strings.Join(changeNames(changes), ", "))
	}
	obj.Status.LastSyncTime = ptrTime(now)
	markSynced(obj, v1alpha1.ReasonSynced, fmt.Sprintf("%s %s holds the spec", want.es.s.ID, want.id))
	return nil
}

// checkImmutable refuses changes of immutable attributes that already have a value.
func checkImmutable(want *desiredEntity, have *observedEntity, changes []change) error {
	for _, c := range changes {
		name := c.name
		switch c.kind {
		case changeAttribute:
		case changeReference:
			if fk := want.es.foreignKey(name); fk != "" && want.es.s.IsImmutable(fk) {
				name = fk
			}
		default:
			continue
		}
		if want.es.s.IsImmutable(name) && c.haveSet && c.have != nil && c.have != "" {
			return specErrorf(v1alpha1.ReasonInvalidAttribute, "%s: %s.%s cannot be changed after creation (ftrack holds %s, the spec says %s); create a new FtrackEntity instead",
				c.path(), want.es.s.ID, c.name, canonical(c.have), canonical(c.want))
		}
	}
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
	owned := obj.Status.Ownership == v1alpha1.OwnershipCreated || obj.Status.Ownership == v1alpha1.OwnershipAdopted
	if obj.Spec.DeletionPolicy != v1alpha1.DeletionPolicyDelete || id == "" {
		return ctrl.Result{}, r.removeFinalizer(ctx, obj)
	}
	if !owned {
		r.Recorder.Eventf(obj, nil, "Warning", v1alpha1.EventReasonDeleteRefused, "Delete", "%s %s was not created or adopted by this object; it is left in ftrack", obj.Spec.EntityType, id)
		return ctrl.Result{}, r.removeFinalizer(ctx, obj)
	}
	conn, err := r.Pool.Acquire(ctx, r.Client, obj.Namespace, obj.Spec.ConnectionRef)
	if err != nil {
		if errors.Is(err, ErrConnectionNotFound) {
			r.Recorder.Eventf(obj, nil, "Warning", v1alpha1.EventReasonDeleteRefused, "Delete", "the connection is gone; %s %s is left in ftrack", obj.Spec.EntityType, id)
			return ctrl.Result{}, r.removeFinalizer(ctx, obj)
		}
		markProgressing(obj, v1alpha1.ReasonDeleting, "waiting for the connection to delete the entity: "+err.Error())
		return ctrl.Result{RequeueAfter: waitRequeue}, nil
	}
	ec := r.entityClient(conn)
	es, err := lookupType(conn.Schemas(), obj.Spec.EntityType)
	if err != nil {
		r.Recorder.Eventf(obj, nil, "Warning", v1alpha1.EventReasonDeleteRefused, "Delete", "%s; %s is left in ftrack", err.Error(), id)
		return ctrl.Result{}, r.removeFinalizer(ctx, obj)
	}
	want := &desiredEntity{es: es, id: id, attrs: map[string]any{}, refs: map[string]resolvedRef{}, metadata: map[string]string{}}
	have, err := ec.Observe(ctx, want)
	if err != nil {
		markProgressing(obj, v1alpha1.ReasonDeleting, "reading the entity before deleting it failed, retrying: "+err.Error())
		return ctrl.Result{}, err
	}
	if have == nil {
		// Gone already: nothing to delete, nothing to cascade.
		return ctrl.Result{}, r.removeFinalizer(ctx, obj)
	}
	if _, err := r.checkOwnership(ctx, obj, want, have); err != nil {
		var se *SpecError
		if !errors.As(err, &se) {
			return ctrl.Result{}, err
		}
		r.Recorder.Eventf(obj, nil, "Warning", v1alpha1.EventReasonDeleteRefused, "Delete", "%s is left in ftrack: %s", id, se.Message)
		return ctrl.Result{}, r.removeFinalizer(ctx, obj)
	}
	blockers, err := r.deleteBlockers(ctx, ec, obj, es, id)
	if err != nil {
		markProgressing(obj, v1alpha1.ReasonDeleting, "looking for descendants before deleting the entity failed, retrying: "+err.Error())
		return ctrl.Result{}, err
	}
	if len(blockers) > 0 {
		names := make([]string, len(blockers))
		for i, b := range blockers {
			names[i] = objectRef(b)
		}
		msg := fmt.Sprintf("deleting %s %s would make ftrack delete entities that other FtrackEntity objects keep: %s; delete them or set their deletionPolicy to Delete first",
			obj.Spec.EntityType, id, listOrNone(names))
		if c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Reason != v1alpha1.ReasonDeleteBlocked || c.Message != truncate(msg, 1024) {
			r.Recorder.Eventf(obj, nil, "Warning", v1alpha1.EventReasonDeleteBlocked, "Delete", "%s", truncate(msg, 1024))
		}
		markProgressing(obj, v1alpha1.ReasonDeleteBlocked, msg)
		r.blocked.wait(client.ObjectKeyFromObject(obj), blockers)
		return ctrl.Result{RequeueAfter: deleteBlockedRecheck}, nil
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

// deleteBlockers returns the other objects that keep an entity ftrack would delete with
// the entity id of obj: objects of the same server whose deletionPolicy is not Delete (or
// that only observe) and whose entity descends from id.
func (r *EntityReconciler) deleteBlockers(ctx context.Context, ec entityClient, obj *v1alpha1.FtrackEntity, es entitySchema, id string) ([]*v1alpha1.FtrackEntity, error) {
	var list v1alpha1.FtrackEntityList
	if err := r.List(ctx, &list); err != nil {
		return nil, err
	}
	candidates := map[string]string{}
	keepers := map[string][]*v1alpha1.FtrackEntity{}
	for i := range list.Items {
		o := &list.Items[i]
		eid := o.Status.ID
		if eid == "" {
			eid = o.Annotations[v1alpha1.AnnotationEntityID]
		}
		if o.UID == obj.UID || eid == "" || eid == id {
			continue
		}
		if o.Spec.DeletionPolicy == v1alpha1.DeletionPolicyDelete && o.Spec.Management != v1alpha1.ManagementObserve {
			continue
		}
		same, err := r.sameServer(ctx, obj, o)
		if err != nil {
			return nil, err
		}
		if !same {
			continue
		}
		candidates[eid] = o.Spec.EntityType
		keepers[eid] = append(keepers[eid], o)
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	ids, err := ec.Descendants(ctx, es, id, candidates)
	if err != nil {
		return nil, err
	}
	var out []*v1alpha1.FtrackEntity
	for _, d := range ids {
		out = append(out, keepers[d]...)
	}
	slices.SortFunc(out, func(a, b *v1alpha1.FtrackEntity) int { return strings.Compare(objectRef(a), objectRef(b)) })
	return out, nil
}

func (r *EntityReconciler) removeFinalizer(ctx context.Context, obj *v1alpha1.FtrackEntity) error {
	patch := client.MergeFrom(obj.DeepCopy())
	controllerutil.RemoveFinalizer(obj, v1alpha1.FinalizerEntityDelete)
	return client.IgnoreNotFound(r.Patch(ctx, obj, patch))
}

// pathAfterUpdate returns the entity's path once changes are made: the path ftrack showed
// before a rename or a move is one step behind. "" when neither the name nor the parent
// changes, or the new path is not known.
func pathAfterUpdate(want *desiredEntity, have *observedEntity, changes []change) string {
	renamed, moved := false, false
	for _, c := range changes {
		renamed = renamed || (c.kind == changeAttribute && c.name == "name")
		moved = moved || (c.kind == changeReference && c.name == "parent")
	}
	if !renamed && !moved {
		return ""
	}
	name, _ := have.attrs["name"].(string)
	if n, ok := want.attrs["name"].(string); ok {
		name = n
	}
	if name == "" {
		return ""
	}
	parent := want.parentPath
	if !moved && have.path != "" {
		if i := strings.LastIndex(have.path, " / "); i >= 0 {
			parent = have.path[:i]
		} else {
			parent = ""
		}
	}
	return entityPath(parent, name)
}

// entityPath returns parentPath / name for status.path, or name when the parent's path is
// not known. An existing entity's path comes from its link instead (see Observe).
func entityPath(parentPath, name string) string {
	if parentPath == "" {
		return name
	}
	return parentPath + " / " + name
}

func ptrTime(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t.Truncate(time.Second))
	return &mt
}

func metaTime(t time.Time) metav1.Time {
	return metav1.NewTime(t.Truncate(time.Second))
}

// conflictRetryDelay is how long a reconcile waits before it looks again at an object that
// changed while it was being reconciled; the newer version usually arrives by watch first.
const conflictRetryDelay = 200 * time.Millisecond

// onlyOwnershipMark reports whether the only change is the operator's own ownership metadata,
// which is not worth an Updated Event.
func onlyOwnershipMark(changes []change) bool {
	return len(changes) == 1 && changes[0].kind == changeMetadata && changes[0].name == v1alpha1.MetadataManagedBy
}

// normalEvent records a Normal Event on obj within its connection's Event budget (see
// entityEvents).
func (r *EntityReconciler) normalEvent(obj *v1alpha1.FtrackEntity, reason, action, note string, args ...any) {
	if r.events == nil {
		r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, reason, action, note, args...)
		return
	}
	r.events.normal(obj, reason, action, note, args...)
}
