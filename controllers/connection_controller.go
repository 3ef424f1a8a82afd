package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	ftevent "github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
)

// +kubebuilder:rbac:groups=ftrack-operator.dev,resources=ftrackconnections;clusterftrackconnections,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=ftrack-operator.dev,resources=ftrackconnections/status;clusterftrackconnections/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=ftrack-operator.dev,resources=ftrackconnections/finalizers;clusterftrackconnections/finalizers,verbs=update
// +kubebuilder:rbac:groups=ftrack-operator.dev,resources=ftrackentities,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets;configmaps,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Retry timing of the connection reconcilers.
const (
	// connectionRetryBase and connectionRetryMax bound the back-off of a connection that
	// cannot connect (refused credentials, unreachable server): a refused key is not
	// hammered, and a fixed Secret is picked up at once through the Secret watch anyway.
	connectionRetryBase = 500 * time.Millisecond
	connectionRetryMax  = 5 * time.Minute
	// incompatibleRetry is how long an incompatible server is left alone.
	incompatibleRetry = 15 * time.Minute
	// inUseRecheck is the safety net while deletion waits for entities.
	inUseRecheck = 5 * time.Minute
	// hubDownRecheck is how often a connection whose event hub is down is probed.
	hubDownRecheck = 5 * time.Second
	// conflictRetry requeues after a Kubernetes write conflict.
	conflictRetry = time.Second
)

// ConnectionReconciler reconciles FtrackConnection or ClusterFtrackConnection objects (one
// reconciler per kind): it reads the credentials Secret, opens the connection's session in
// the pool, replaces it when the settings or the Secret change, closes it when the
// connection goes, and reports Ready, the event hub state and the server's details.
type ConnectionReconciler struct {
	// Client reads and writes the Kubernetes objects.
	Client client.Client
	// Kind is connection.KindFtrackConnection or connection.KindClusterFtrackConnection.
	Kind string
	// Pool holds the sessions.
	Pool *connection.Pool
	// Bridge connects the sessions' event hubs to reconcile triggers.
	Bridge *connection.EventBridge
	// Recorder records Events on the connections.
	Recorder recorder.EventRecorder
	// Log is the logger handed to the ftrack sessions.
	Log logr.Logger
	// NewSession opens sessions; nil means ftrack.NewSession.
	NewSession connection.SessionOpener
}

// connectionView gives the reconciler one shape for both kinds.
type connectionView struct {
	obj             client.Object
	key             connection.Key
	settings        *v1alpha1.ConnectionSettings
	status          *v1alpha1.ConnectionStatus
	secretNamespace string
	secretName      string
	keys            v1alpha1.SecretKeys
	allowed         *v1alpha1.AllowedNamespaces
}

func (r *ConnectionReconciler) newObject() client.Object {
	if r.Kind == connection.KindClusterFtrackConnection {
		return &v1alpha1.ClusterFtrackConnection{}
	}
	return &v1alpha1.FtrackConnection{}
}

func viewOf(obj client.Object) connectionView {
	switch o := obj.(type) {
	case *v1alpha1.FtrackConnection:
		return connectionView{
			obj: o, key: connection.Key{Kind: connection.KindFtrackConnection, Namespace: o.Namespace, Name: o.Name},
			settings: &o.Spec.ConnectionSettings, status: &o.Status,
			secretNamespace: o.Namespace, secretName: o.Spec.SecretRef.Name, keys: o.Spec.SecretRef.SecretKeys,
		}
	case *v1alpha1.ClusterFtrackConnection:
		return connectionView{
			obj: o, key: connection.Key{Kind: connection.KindClusterFtrackConnection, Name: o.Name},
			settings: &o.Spec.ConnectionSettings, status: &o.Status,
			secretNamespace: o.Spec.SecretRef.Namespace, secretName: o.Spec.SecretRef.Name, keys: o.Spec.SecretRef.SecretKeys,
			allowed: &o.Spec.AllowedNamespaces,
		}
	}
	panic(fmt.Sprintf("controllers: %T is not a connection", obj))
}

// Reconcile implements reconcile.Reconciler.
func (r *ConnectionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	obj := r.newObject()
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			// Gone without our finalizer (or after it): make sure no session outlives it.
			key := connection.Key{Kind: r.Kind, Namespace: req.Namespace, Name: req.Name}
			if r.Pool.Remove(key) {
				connection.ForgetMetrics(key.String())
			}
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	v := viewOf(obj)
	base := obj.DeepCopyObject().(client.Object)
	before := viewOf(base).status.DeepCopy()
	defer func() {
		v.status.ObservedGeneration = obj.GetGeneration()
		r.recordTransitions(v, before)
		if err := patchStatus(ctx, r.Client.Status(), base, obj); err != nil {
			retErr = errors.Join(retErr, fmt.Errorf("patching the status: %w", err))
		}
	}()

	if !obj.GetDeletionTimestamp().IsZero() {
		return r.reconcileDelete(ctx, v)
	}
	if !controllerutil.ContainsFinalizer(obj, v1alpha1.FinalizerConnectionInUse) {
		controllerutil.AddFinalizer(obj, v1alpha1.FinalizerConnectionInUse)
		if err := r.Client.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			if apierrors.IsConflict(err) {
				return ctrl.Result{RequeueAfter: conflictRetry}, nil
			}
			return ctrl.Result{}, fmt.Errorf("adding the finalizer: %w", err)
		}
		base = obj.DeepCopyObject().(client.Object)
	}
	return r.reconcileSession(ctx, v)
}

// reconcileDelete waits until no FtrackEntity uses the connection, then closes its session
// and lets it go.
func (r *ConnectionReconciler) reconcileDelete(ctx context.Context, v connectionView) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(v.obj, v1alpha1.FinalizerConnectionInUse) {
		return ctrl.Result{}, nil
	}
	n, err := r.countUsers(ctx, v.key)
	if err != nil {
		return ctrl.Result{}, err
	}
	if n > 0 {
		setCondition(v.obj.(conditioned), v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonInUse,
			fmt.Sprintf("Deletion waits: %d FtrackEntity object(s) still use this connection.", n))
		// Entity deletions trigger the next look; the requeue is a safety net.
		return ctrl.Result{RequeueAfter: inUseRecheck}, nil
	}
	if r.Pool.Remove(v.key) {
		r.Recorder.Eventf(v.obj, nil, corev1.EventTypeNormal, v1alpha1.EventReasonDisconnected, "Disconnect", "Session closed: the connection is being deleted.")
	}
	connection.ForgetMetrics(v.key.String())
	base := v.obj.DeepCopyObject().(client.Object)
	controllerutil.RemoveFinalizer(v.obj, v1alpha1.FinalizerConnectionInUse)
	if err := r.Client.Patch(ctx, v.obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return ctrl.Result{}, nil
}

// countUsers returns how many FtrackEntity objects name the connection.
func (r *ConnectionReconciler) countUsers(ctx context.Context, key connection.Key) (int, error) {
	var list v1alpha1.FtrackEntityList
	if err := r.Client.List(ctx, &list, client.MatchingFields{connection.IndexFtrackEntityByConnection: key.String()}); err != nil {
		return 0, fmt.Errorf("listing the entities that use the connection: %w", err)
	}
	return len(list.Items), nil
}

// credentials are what a session is opened with, and the Secret keys whose values had
// white space around them.
type credentials struct {
	connection.Credentials
	trimmed []string
}

// notReady is a reason and message for the Ready condition, with the outcome of the reconcile.
type notReady struct {
	reason  string
	message string
	result  ctrl.Result
	err     error
}

// reconcileSession makes the pool hold a session equal to the spec and the Secret.
func (r *ConnectionReconciler) reconcileSession(ctx context.Context, v connectionView) (ctrl.Result, error) {
	if nr := r.validate(v); nr != nil {
		return r.fail(v, nr, nil)
	}
	creds, nr := r.readCredentials(ctx, v)
	if nr != nil {
		return r.fail(v, nr, nil)
	}
	fingerprint, credHash := fingerprints(v, creds)
	existing, ok := r.Pool.Get(v.key)
	if ok && existing.Fingerprint() == fingerprint {
		return r.reconcileExisting(ctx, v, existing)
	}
	conn, err := r.Pool.Open(ctx, connection.Spec{
		Key: v.key, Settings: v.settings, Credentials: creds.Credentials,
		Fingerprint: fingerprint, CredentialsHash: credHash, Log: r.Log, NewSession: r.NewSession,
	})
	if err != nil {
		return r.fail(v, classify(v, creds, err), existing)
	}
	r.Pool.Put(conn)
	switch {
	case existing == nil:
		r.Recorder.Eventf(v.obj, nil, corev1.EventTypeNormal, v1alpha1.EventReasonConnected, "Connect",
			"Connected to %s as %s (server version %s).", conn.ServerURL(), conn.APIUser(), conn.Session().ServerVersion())
	case existing.CredentialsHash() != credHash:
		r.Recorder.Eventf(v.obj, nil, corev1.EventTypeNormal, v1alpha1.EventReasonCredentialsChanged, "Reconnect",
			"The credentials changed; a new session as %s replaced the old one.", conn.APIUser())
	default:
		r.Recorder.Eventf(v.obj, nil, corev1.EventTypeNormal, v1alpha1.EventReasonConnected, "Reconnect",
			"The settings changed; a new session to %s replaced the old one.", conn.ServerURL())
	}
	if len(creds.trimmed) > 0 {
		r.Recorder.Eventf(v.obj, nil, corev1.EventTypeNormal, v1alpha1.EventReasonCredentialsTrimmed, "Connect",
			"Removed white space around the value of %s in Secret %s/%s (a file's final newline, as kubectl create secret --from-file keeps it).",
			strings.Join(creds.trimmed, " and "), v.secretNamespace, v.secretName)
	}
	if conn.Insecure() {
		r.Recorder.Eventf(v.obj, nil, corev1.EventTypeWarning, v1alpha1.EventReasonInsecureTLS, "Connect",
			"TLS certificate verification is off (spec.tls.insecureSkipVerify): anyone on the network path can read the API key.")
	}
	r.Pool.SetReady(conn, true)
	r.reportConnected(v, conn)
	return ctrl.Result{RequeueAfter: wait.Jitter(v.settings.ResyncPeriod(), 0.1)}, nil
}

// reconcileExisting checks a session that still matches the spec. While its event hub is up
// the server is known to be there; otherwise one cheap request tells.
func (r *ConnectionReconciler) reconcileExisting(ctx context.Context, v connectionView, c *connection.Connection) (ctrl.Result, error) {
	if !c.HubEnabled() || !c.Session().EventHub().Connected() || c.Refused() {
		pctx, cancel := context.WithTimeout(ctx, v.settings.RequestTimeout())
		_, err := c.Session().Do(pctx, ftrack.ActionOp("query_server_information", nil))
		cancel()
		if err != nil {
			r.Pool.SetReady(c, false)
			nr := classify(v, credentials{Credentials: connection.Credentials{APIUser: c.APIUser()}}, err)
			r.recordFailure(v, nr)
			setCondition(v.obj.(conditioned), v1alpha1.ConditionReady, metav1.ConditionFalse, nr.reason, nr.message)
			r.reportEventHub(v, c)
			return nr.result, nr.err
		}
		c.ClearRefused()
	}
	r.Pool.SetReady(c, true)
	r.reportConnected(v, c)
	if c.HubEnabled() && !c.Session().EventHub().Connected() {
		// Without the hub's socket nothing tells of an outage; look again soon.
		return ctrl.Result{RequeueAfter: wait.Jitter(hubDownRecheck, 0.1)}, nil
	}
	return ctrl.Result{RequeueAfter: wait.Jitter(v.settings.ResyncPeriod(), 0.1)}, nil
}

// fail reports nr. A session that no longer matches the spec is closed: entities must not
// keep writing with credentials or settings that were withdrawn.
func (r *ConnectionReconciler) fail(v connectionView, nr *notReady, existing *connection.Connection) (ctrl.Result, error) {
	if existing == nil {
		existing, _ = r.Pool.Get(v.key)
	}
	if existing != nil && r.Pool.Remove(v.key) {
		r.Recorder.Eventf(v.obj, nil, corev1.EventTypeWarning, v1alpha1.EventReasonDisconnected, "Disconnect",
			"Session closed: %s", nr.message)
	}
	r.recordFailure(v, nr)
	setCondition(v.obj.(conditioned), v1alpha1.ConditionReady, metav1.ConditionFalse, nr.reason, nr.message)
	r.reportEventHub(v, nil)
	return nr.result, nr.err
}

// recordFailure records a Warning Event when the connection stops working, or fails for
// another reason than before: retries of the same failure add none.
func (r *ConnectionReconciler) recordFailure(v connectionView, nr *notReady) {
	if c := meta.FindStatusCondition(v.status.Conditions, v1alpha1.ConditionReady); c != nil && c.Status == metav1.ConditionFalse && c.Reason == nr.reason {
		return
	}
	r.Recorder.Eventf(v.obj, nil, corev1.EventTypeWarning, v1alpha1.EventReasonConnectFailed, "Connect", "%s", nr.message)
}

// validate checks what the CRD schema cannot.
func (r *ConnectionReconciler) validate(v connectionView) *notReady {
	if v.settings.EventHubEnabled() {
		if _, err := ftevent.ParseExpression(v.settings.EventHubSubscription()); err != nil {
			return terminal(v1alpha1.ReasonInvalidSpec, fmt.Sprintf("spec.eventHub.subscription is not a valid subscription expression: %v", err))
		}
	}
	if v.allowed != nil && v.allowed.Selector != nil {
		if _, err := metav1.LabelSelectorAsSelector(v.allowed.Selector); err != nil {
			return terminal(v1alpha1.ReasonInvalidSpec, fmt.Sprintf("spec.allowedNamespaces.selector is not valid: %v", err))
		}
	}
	return nil
}

func terminal(reason, message string) *notReady {
	return &notReady{reason: reason, message: message, err: reconcile.TerminalError(errors.New(message))}
}

// readCredentials reads the API user and key, and the CA bundle.
func (r *ConnectionReconciler) readCredentials(ctx context.Context, v connectionView) (credentials, *notReady) {
	creds, trimmed, err := connection.LoadCredentials(ctx, r.Client, v.object())
	if err != nil {
		var ce *connection.CredentialsError
		if !errors.As(err, &ce) {
			return credentials{}, &notReady{reason: v1alpha1.ReasonSecretNotFound, message: "The credentials cannot be read.", err: err}
		}
		if ce.Terminal {
			return credentials{}, terminal(ce.Reason, ce.Message)
		}
		return credentials{}, &notReady{reason: ce.Reason, message: ce.Message, err: ce.Err}
	}
	return credentials{Credentials: creds, trimmed: trimmed}, nil
}

// object returns the connection as internal/connection describes it.
func (v connectionView) object() connection.Object {
	return connection.Object{Key: v.key, Settings: v.settings, SecretNamespace: v.secretNamespace, SecretName: v.secretName, Keys: v.keys}
}

// fingerprints hash what a session depends on (see connection.Fingerprint).
func fingerprints(v connectionView, c credentials) (all, creds string) {
	return connection.Fingerprint(v.object(), c.Credentials)
}

// classify maps a session error to the Ready condition and the reconcile outcome. Messages
// come from the ftrack client, which removes the key from everything it reports.
func classify(v connectionView, creds credentials, err error) *notReady {
	var rl *ftrack.RateLimitError
	switch {
	case errors.Is(err, ftrack.ErrInvalidCredentials), errors.Is(err, ftevent.ErrUnauthorized):
		// Backoff, not a loop: a fixed Secret is noticed at once through the watch.
		return &notReady{reason: v1alpha1.ReasonInvalidCredentials,
			message: fmt.Sprintf("ftrack refused the API key of user %q.", creds.APIUser),
			err:     fmt.Errorf("connecting to %s: the server refused the credentials of user %q", v.settings.ServerURL, creds.APIUser)}
	case errors.Is(err, ftrack.ErrPermissionDenied):
		return &notReady{reason: v1alpha1.ReasonInvalidCredentials,
			message: fmt.Sprintf("User %q may not use the ftrack API: %v", creds.APIUser, err),
			err:     fmt.Errorf("connecting to %s: %w", v.settings.ServerURL, err)}
	case errors.As(err, &rl):
		return &notReady{reason: v1alpha1.ReasonRateLimited,
			message: fmt.Sprintf("The server asked to slow down: %v", err),
			result:  ctrl.Result{RequeueAfter: max(rl.RetryAfter, time.Second)}}
	case errors.Is(err, ftrack.ErrServerCompatibility):
		return &notReady{reason: v1alpha1.ReasonIncompatibleServer,
			message: fmt.Sprintf("The server at %s is not supported: %v", v.settings.ServerURL, err),
			result:  ctrl.Result{RequeueAfter: incompatibleRetry}}
	default:
		return &notReady{reason: v1alpha1.ReasonServerUnreachable,
			message: fmt.Sprintf("The server at %s cannot be used: %v", v.settings.ServerURL, err),
			err:     fmt.Errorf("connecting to %s: %w", v.settings.ServerURL, err)}
	}
}

// reportConnected writes a ready connection's status.
func (r *ConnectionReconciler) reportConnected(v connectionView, c *connection.Connection) {
	setCondition(v.obj.(conditioned), v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonConnected,
		fmt.Sprintf("Connected to %s as %s.", c.ServerURL(), c.APIUser()))
	v.status.ServerVersion = c.Session().ServerVersion()
	if set := c.Session().Schemas(); set != nil {
		v.status.SchemaHash = set.Hash()
		v.status.EntityTypes = int32(set.Len()) //nolint:gosec // a schema has far fewer than 2^31 types.
	}
	at := metav1.NewTime(c.ConnectedAt().Truncate(time.Second))
	v.status.LastConnectedTime = &at
	if t, ok := c.LastEventTime(); ok {
		lt := metav1.NewTime(t.Truncate(time.Second))
		v.status.LastEventTime = &lt
	}
	r.reportEventHub(v, c)
}

// reportEventHub writes the EventHubConnected condition and the reconnect count.
func (r *ConnectionReconciler) reportEventHub(v connectionView, c *connection.Connection) {
	switch {
	case !v.settings.EventHubEnabled():
		setCondition(v.obj.(conditioned), v1alpha1.ConditionEventHubConnected, metav1.ConditionFalse, v1alpha1.ReasonDisabled,
			"The event hub is disabled (spec.eventHub.enabled); changes made in ftrack are noticed at the next resync.")
	case c == nil:
		setCondition(v.obj.(conditioned), v1alpha1.ConditionEventHubConnected, metav1.ConditionFalse, v1alpha1.ReasonDisconnected,
			"No session is open.")
	default:
		hub := c.Session().EventHub()
		stats := hub.Stats()
		if stats.Connects > 1 {
			v.status.EventHubReconnects = int64(stats.Connects - 1) //nolint:gosec // a count of reconnections.
		} else {
			v.status.EventHubReconnects = 0
		}
		switch {
		case hub.Connected():
			setCondition(v.obj.(conditioned), v1alpha1.ConditionEventHubConnected, metav1.ConditionTrue, v1alpha1.ReasonConnected,
				fmt.Sprintf("Subscribed to %q.", c.Subscription()))
		case stats.Connects == 0:
			setCondition(v.obj.(conditioned), v1alpha1.ConditionEventHubConnected, metav1.ConditionFalse, v1alpha1.ReasonConnecting,
				"Connecting to the event hub.")
		default:
			setCondition(v.obj.(conditioned), v1alpha1.ConditionEventHubConnected, metav1.ConditionFalse, v1alpha1.ReasonDisconnected,
				"The event hub connection was lost; reconnecting. Entities are resynchronised once it is back.")
		}
	}
}

// recordTransitions records Events when the event hub condition changed status.
func (r *ConnectionReconciler) recordTransitions(v connectionView, before *v1alpha1.ConnectionStatus) {
	old := meta.FindStatusCondition(before.Conditions, v1alpha1.ConditionEventHubConnected)
	cur := meta.FindStatusCondition(v.status.Conditions, v1alpha1.ConditionEventHubConnected)
	if cur != nil && old != nil && old.Status == metav1.ConditionTrue && cur.Status == metav1.ConditionTrue &&
		v.status.EventHubReconnects > before.EventHubReconnects {
		// The hub lost its socket and reconnected between two reconciles: the condition never
		// showed it, so say it here, or an outage shorter than a reconcile would go unreported.
		r.Recorder.Eventf(v.obj, nil, corev1.EventTypeWarning, v1alpha1.EventReasonEventHubDisconnected, "Disconnect",
			"The event hub connection was lost and has been re-established (%d reconnects in all); entities are resynchronised.", v.status.EventHubReconnects)
		return
	}
	if cur == nil || (old != nil && old.Status == cur.Status) {
		return
	}
	switch {
	case cur.Status == metav1.ConditionTrue:
		r.Recorder.Eventf(v.obj, nil, corev1.EventTypeNormal, v1alpha1.EventReasonEventHubConnected, "Connect", cur.Message)
	case old != nil && old.Status == metav1.ConditionTrue:
		r.Recorder.Eventf(v.obj, nil, corev1.EventTypeWarning, v1alpha1.EventReasonEventHubDisconnected, "Disconnect", cur.Message)
	}
	if cur.Reason == v1alpha1.ReasonInUse && (old == nil || old.Reason != v1alpha1.ReasonInUse) {
		r.Recorder.Eventf(v.obj, nil, corev1.EventTypeNormal, v1alpha1.EventReasonInUse, "Delete", cur.Message)
	}
}

// ClientOptions are the client settings of a manager that runs the connection reconcilers:
// Secrets and ConfigMaps are read from the API server, not from the cache. Their watches
// carry metadata alone (see SetupWithManager), so a cache of full objects would be a second
// informer that may not hold the Secret yet when its metadata event arrives — and would keep
// every Secret's data in memory.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}, &corev1.ConfigMap{}}}}
}

// SetupWithManager registers the reconciler for its kind, watching the Secrets and ConfigMaps
// the connections read, the FtrackEntity objects that use them, and the bridge's triggers.
func (r *ConnectionReconciler) SetupWithManager(mgr ctrl.Manager) error {
	name := "ftrackconnection"
	if r.Kind == connection.KindClusterFtrackConnection {
		name = "clusterftrackconnection"
	}
	entityToConnection := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		e, ok := obj.(*v1alpha1.FtrackEntity)
		if !ok {
			return nil
		}
		key := connection.KeyFor(e.Namespace, e.Spec.ConnectionRef)
		if key.Kind != r.Kind {
			return nil
		}
		return []reconcile.Request{{NamespacedName: key.NamespacedName()}}
	})
	// Only deletions matter here: a connection being deleted waits for its entities.
	entityCount := predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return true },
		UpdateFunc:  func(event.UpdateEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		// Status writes (ours included) must not trigger a reconcile: a connection that
		// cannot connect would otherwise retry in a loop instead of backing off.
		For(r.newObject(), builder.WithPredicates(specOrDeletionChanged)).
		// A Secret or ConfigMap is watched for its metadata alone (a change bumps its
		// resourceVersion); its data is read when the connection needs it.
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.referencing("Secret")), builder.OnlyMetadata).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.referencing("ConfigMap")), builder.OnlyMetadata).
		Watches(&v1alpha1.FtrackEntity{}, entityToConnection, builder.WithPredicates(entityCount)).
		WatchesRawSource(r.Bridge.ConnectionSource(r.Kind)).
		WithOptions(controller.Options{
			RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](connectionRetryBase, connectionRetryMax),
		}).
		Complete(r)
}

// specOrDeletionChanged passes creations, deletions and updates that change the spec or
// start the deletion.
var specOrDeletionChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		if e.ObjectOld == nil || e.ObjectNew == nil {
			return true
		}
		return e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() ||
			e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero()
	},
}

// referencing maps a Secret or ConfigMap to the connections of this kind that read it.
func (r *ConnectionReconciler) referencing(kind string) handler.MapFunc {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		value := kind + "/" + obj.GetNamespace() + "/" + obj.GetName()
		var reqs []reconcile.Request
		if r.Kind == connection.KindClusterFtrackConnection {
			var list v1alpha1.ClusterFtrackConnectionList
			if err := r.Client.List(ctx, &list, client.MatchingFields{connection.IndexConnectionBySecret: value}); err != nil {
				ctrl.LoggerFrom(ctx).Error(err, "listing the connections that read a "+kind)
				return nil
			}
			for _, c := range list.Items {
				reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: c.Name}})
			}
			return reqs
		}
		var list v1alpha1.FtrackConnectionList
		if err := r.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace()), client.MatchingFields{connection.IndexConnectionBySecret: value}); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "listing the connections that read a "+kind)
			return nil
		}
		for _, c := range list.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: c.Namespace, Name: c.Name}})
		}
		return reqs
	}
}

// connectionSecretIndexValues are the connection.IndexConnectionBySecret values of a connection.
func connectionSecretIndexValues(obj client.Object) []string {
	v := viewOf(obj)
	out := []string{"Secret/" + v.secretNamespace + "/" + v.secretName}
	if t := v.settings.TLS; t != nil && t.CABundleRef != nil {
		out = append(out, t.CABundleRef.Kind+"/"+v.secretNamespace+"/"+t.CABundleRef.Name)
	}
	return out
}

// Connections is the connection side of the operator, as SetupConnections wires it: the
// entity reconciler borrows sessions from Pool and consumes Bridge's triggers.
type Connections struct {
	// Pool holds one session per connection.
	Pool *connection.Pool
	// Bridge turns event hub events into FtrackEntity reconcile triggers.
	Bridge *connection.EventBridge
}

// SetupConnections registers the field indexes (connection.IndexFtrackEntityByID,
// connection.IndexFtrackEntityByConnection, connection.IndexConnectionBySecret), the pool of
// connection runtimes, the event bridge and the FtrackConnection and ClusterFtrackConnection
// reconcilers with mgr. coalescer tunes the commit coalescer of every connection.
func SetupConnections(mgr ctrl.Manager, coalescer ...connection.CoalescerOption) (*Connections, error) {
	ctx := context.Background()
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &v1alpha1.FtrackEntity{}, connection.IndexFtrackEntityByID, connection.EntityIDIndexValues); err != nil {
		return nil, fmt.Errorf("indexing FtrackEntity by id: %w", err)
	}
	if err := idx.IndexField(ctx, &v1alpha1.FtrackEntity{}, connection.IndexFtrackEntityByConnection, connection.EntityConnectionIndexValues); err != nil {
		return nil, fmt.Errorf("indexing FtrackEntity by connection: %w", err)
	}
	for _, obj := range []client.Object{&v1alpha1.FtrackConnection{}, &v1alpha1.ClusterFtrackConnection{}} {
		if err := idx.IndexField(ctx, obj, connection.IndexConnectionBySecret, connectionSecretIndexValues); err != nil {
			return nil, fmt.Errorf("indexing %T by Secret: %w", obj, err)
		}
	}
	log := mgr.GetLogger().WithName("ftrack")
	pool := connection.NewPool(coalescer...)
	bridge := connection.NewEventBridge(mgr.GetClient(), pool, mgr.GetLogger().WithName("eventbridge"))
	if err := mgr.Add(pool); err != nil {
		return nil, err
	}
	if err := mgr.Add(bridge); err != nil {
		return nil, err
	}
	for _, kind := range []string{connection.KindFtrackConnection, connection.KindClusterFtrackConnection} {
		r := &ConnectionReconciler{
			Client:   mgr.GetClient(),
			Kind:     kind,
			Pool:     pool,
			Bridge:   bridge,
			Recorder: mgr.GetEventRecorder("ftrack-operator"),
			Log:      log,
		}
		if err := r.SetupWithManager(mgr); err != nil {
			return nil, fmt.Errorf("setting up the %s reconciler: %w", kind, err)
		}
	}
	return &Connections{Pool: pool, Bridge: bridge}, nil
}
