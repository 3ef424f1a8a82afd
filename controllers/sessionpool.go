package controllers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// Kinds of the connection objects.
const (
	// KindFtrackConnection is the kind of the namespaced connection.
	KindFtrackConnection = "FtrackConnection"
	// KindClusterFtrackConnection is the kind of the cluster-scoped connection.
	KindClusterFtrackConnection = "ClusterFtrackConnection"
)

// Errors returned by SessionPool.Acquire, matched with errors.Is. The returned error is an
// *AcquireError whose message names the connection and the namespace.
var (
	// ErrConnectionNotFound: the referenced connection does not exist (or the reference is
	// not valid). Retrying helps only once the connection is created.
	ErrConnectionNotFound = errors.New("connection not found")
	// ErrNamespaceNotAllowed: a ClusterFtrackConnection does not allow the namespace.
	ErrNamespaceNotAllowed = errors.New("namespace not allowed by the connection")
	// ErrConnectionNotReady: the connection exists but has no usable session. Callers should
	// not call the server; the pool announces (OnReady) when the connection becomes Ready.
	ErrConnectionNotReady = errors.New("connection not ready")
)

// AcquireError is the error of SessionPool.Acquire. It never holds a credential.
type AcquireError struct {
	// Key is the connection that was asked for.
	Key ConnectionKey
	// Namespace is the namespace of the caller.
	Namespace string
	// Reason is the Ready condition reason of a connection that is not ready, else empty.
	Reason string
	// Message explains the error to a user.
	Message string
	// Err is ErrConnectionNotFound, ErrNamespaceNotAllowed or ErrConnectionNotReady.
	Err error
}

// Error implements error.
func (e *AcquireError) Error() string { return e.Message }

// Unwrap returns the sentinel.
func (e *AcquireError) Unwrap() error { return e.Err }

// ConnectionKey identifies a connection object: Namespace is empty for a
// ClusterFtrackConnection.
type ConnectionKey struct {
	Kind      string
	Namespace string
	Name      string
}

// String returns Kind/Namespace/Name, or Kind/Name for a cluster-scoped connection. It is the
// value of the IndexFtrackEntityByConnection index and the connection label of metrics.
func (k ConnectionKey) String() string {
	if k.Namespace == "" {
		return k.Kind + "/" + k.Name
	}
	return k.Kind + "/" + k.Namespace + "/" + k.Name
}

// NamespacedName returns the object's name as the Kubernetes client wants it.
func (k ConnectionKey) NamespacedName() types.NamespacedName {
	return types.NamespacedName{Namespace: k.Namespace, Name: k.Name}
}

// ConnectionKeyFor returns the key of the connection that ref names from an object in
// namespace; an empty kind means FtrackConnection.
func ConnectionKeyFor(namespace string, ref v1alpha1.ConnectionReference) ConnectionKey {
	switch ref.Kind {
	case KindClusterFtrackConnection:
		return ConnectionKey{Kind: KindClusterFtrackConnection, Name: ref.Name}
	case "", KindFtrackConnection:
		return ConnectionKey{Kind: KindFtrackConnection, Namespace: namespace, Name: ref.Name}
	default:
		return ConnectionKey{Kind: ref.Kind, Namespace: namespace, Name: ref.Name}
	}
}

// Connection is one pooled session of a connection object, shared by every reconcile that
// uses the connection. It is replaced by a new Connection (never changed) when the
// connection's settings or credentials change; Done is closed then.
type Connection struct {
	key         ConnectionKey
	session     *ftrack.Session
	limiter     *rate.Limiter
	resync      time.Duration
	fingerprint string
	credentials string // hash of the credentials, to tell a rotation from a settings change
	connectedAt time.Time
	serverURL   string
	apiUser     string
	insecure    bool

	hubEnabled   bool
	subscription string

	ready atomic.Bool
	// refused is set when ftrack refused the session's credentials after it was opened (a
	// key reset or revoked in ftrack); only a successful probe or a new session clears it.
	refused   atomic.Bool
	lastEvent atomic.Int64 // unix nanoseconds of the last hub event, 0 for none
	done      chan struct{}
	closeOnce sync.Once

	mu     sync.Mutex
	values map[any]any
}

// Key returns the connection's key.
func (c *Connection) Key() ConnectionKey { return c.key }

// Session returns the ftrack session. Every request it sends waits for the connection's
// request budget.
func (c *Connection) Session() *ftrack.Session { return c.session }

// Schemas returns the server's schemas.
func (c *Connection) Schemas() *schema.Set { return c.session.Schemas() }

// Limiter returns the connection's request budget. The session's transport already waits on
// it for every request; callers use it only to plan (Tokens) or to reserve in bulk.
func (c *Connection) Limiter() *rate.Limiter { return c.limiter }

// ClientToken returns the session's client token; ftrack echoes it in the events caused by
// the operator's own writes.
func (c *Connection) ClientToken() string { return c.session.ClientToken() }

// ConnectedAt returns when the session was opened.
func (c *Connection) ConnectedAt() time.Time { return c.connectedAt }

// Ready reports whether the connection may be used now.
func (c *Connection) Ready() bool { return c.ready.Load() }

// Done is closed when the Connection is replaced or closed.
func (c *Connection) Done() <-chan struct{} { return c.done }

// ResyncAfter returns the connection's resync interval with up to a tenth of random jitter
// added, for a reconcile's RequeueAfter.
func (c *Connection) ResyncAfter() time.Duration { return Jitter(c.resync) }

// Jitter returns d plus a random duration of up to a tenth of d.
func Jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d + rand.N(d/10+1)
}

// LastEventTime returns when the last event arrived on the connection's event hub.
func (c *Connection) LastEventTime() (time.Time, bool) {
	n := c.lastEvent.Load()
	if n == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// Value returns the per-connection value stored under key.
func (c *Connection) Value(key any) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.values[key]
	return v, ok
}

// LoadOrStore returns the value stored under key, storing create() first when there is none.
// Values live as long as this Connection: when it is replaced or closed, values that
// implement io.Closer are closed (before the session is) and all are dropped. Use a private
// key type, as with context.WithValue.
func (c *Connection) LoadOrStore(key any, create func() any) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.values[key]; ok {
		return v
	}
	v := create()
	if c.values == nil {
		c.values = map[any]any{}
	}
	c.values[key] = v
	return v
}

// close closes the values, then the session. It is idempotent.
func (c *Connection) close() {
	c.closeOnce.Do(func() {
		c.ready.Store(false)
		close(c.done)
		c.mu.Lock()
		values := c.values
		c.values = nil
		c.mu.Unlock()
		for _, v := range values {
			if cl, ok := v.(io.Closer); ok {
				_ = cl.Close()
			}
		}
		_ = c.session.Close()
	})
}

// SessionPool holds one ftrack session per connection object, keyed by kind, namespace and
// name. The connection reconcilers open, replace and close the sessions; the entity
// reconciler borrows them with Acquire. It is safe for concurrent use.
type SessionPool struct {
	mu        sync.RWMutex
	conns     map[ConnectionKey]*Connection
	onReady   []func(ConnectionKey)
	onOpen    []func(*Connection)
	onRefused []func(ConnectionKey)
}

// NewSessionPool returns an empty pool.
func NewSessionPool() *SessionPool {
	return &SessionPool{conns: map[ConnectionKey]*Connection{}}
}

// OnReady registers fn to be called, on its own goroutine, whenever a connection becomes
// Ready (a session was opened or recovered). The entity reconciler uses it to enqueue the
// entities that waited for the connection. Register before the manager starts.
func (p *SessionPool) OnReady(fn func(ConnectionKey)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onReady = append(p.onReady, fn)
}

// onOpened registers fn to be called with every new session, before it is marked Ready.
func (p *SessionPool) onOpened(fn func(*Connection)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onOpen = append(p.onOpen, fn)
}

// onRefusedCredentials registers fn to be called, on its own goroutine, when ftrack refuses
// the credentials of a Ready connection.
func (p *SessionPool) onRefusedCredentials(fn func(ConnectionKey)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onRefused = append(p.onRefused, fn)
}

// refuse records that ftrack refused c's credentials: c stops being Ready at once, so that
// its entities wait instead of failing one by one, and the hooks (the connection's
// reconciler) are told. It does nothing for a connection that is not the pooled one.
func (p *SessionPool) refuse(c *Connection) {
	if c.refused.Swap(true) {
		return
	}
	p.mu.RLock()
	current := p.conns[c.key] == c
	hooks := slices.Clone(p.onRefused)
	p.mu.RUnlock()
	if !current {
		return
	}
	c.ready.Store(false)
	for _, h := range hooks {
		go h(c.key)
	}
}

// Get returns the pooled connection of key, ready or not.
func (p *SessionPool) Get(key ConnectionKey) (*Connection, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	c, ok := p.conns[key]
	return c, ok
}

// Keys returns the keys of the pooled connections.
func (p *SessionPool) Keys() []ConnectionKey {
	p.mu.RLock()
	defer p.mu.RUnlock()
	keys := make([]ConnectionKey, 0, len(p.conns))
	for k := range p.conns {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b ConnectionKey) int {
		switch {
		case a.String() < b.String():
			return -1
		case a.String() > b.String():
			return 1
		}
		return 0
	})
	return keys
}

// Acquire returns the Ready connection that ref names from an object in namespace: an
// FtrackConnection of that namespace, or a ClusterFtrackConnection that allows it. It reads
// the connection (and, for a namespace selector, the Namespace) through r, usually the
// manager's cached client. Errors are *AcquireError matching ErrConnectionNotFound,
// ErrNamespaceNotAllowed or ErrConnectionNotReady.
func (p *SessionPool) Acquire(ctx context.Context, r client.Reader, namespace string, ref v1alpha1.ConnectionReference) (*Connection, error) {
	key := ConnectionKeyFor(namespace, ref)
	fail := func(sentinel error, reason, format string, args ...any) (*Connection, error) {
		return nil, &AcquireError{Key: key, Namespace: namespace, Reason: reason, Message: fmt.Sprintf(format, args...), Err: sentinel}
	}
	var conditions []metav1.Condition
	switch key.Kind {
	case KindFtrackConnection:
		var obj v1alpha1.FtrackConnection
		if err := r.Get(ctx, key.NamespacedName(), &obj); err != nil {
			if apierrors.IsNotFound(err) {
				return fail(ErrConnectionNotFound, "", "FtrackConnection %q not found in namespace %q", key.Name, namespace)
			}
			return nil, fmt.Errorf("reading FtrackConnection %q: %w", key.Name, err)
		}
		conditions = obj.Status.Conditions
	case KindClusterFtrackConnection:
		var obj v1alpha1.ClusterFtrackConnection
		if err := r.Get(ctx, key.NamespacedName(), &obj); err != nil {
			if apierrors.IsNotFound(err) {
				return fail(ErrConnectionNotFound, "", "ClusterFtrackConnection %q not found", key.Name)
			}
			return nil, fmt.Errorf("reading ClusterFtrackConnection %q: %w", key.Name, err)
		}
		allowed, err := namespaceAllowed(ctx, r, obj.Spec.AllowedNamespaces, namespace)
		if err != nil {
			return nil, err
		}
		if !allowed {
			return fail(ErrNamespaceNotAllowed, v1alpha1.ReasonNamespaceNotAllowed,
				"ClusterFtrackConnection %q does not allow namespace %q: add it to spec.allowedNamespaces", key.Name, namespace)
		}
		conditions = obj.Status.Conditions
	default:
		return fail(ErrConnectionNotFound, "", "connection kind %q is not FtrackConnection or ClusterFtrackConnection", key.Kind)
	}
	c, ok := p.Get(key)
	if !ok || !c.Ready() {
		reason, msg := "Pending", "no session is open yet"
		if cond := meta.FindStatusCondition(conditions, v1alpha1.ConditionReady); cond != nil && cond.Status != metav1.ConditionTrue {
			reason, msg = cond.Reason, cond.Message
		}
		return fail(ErrConnectionNotReady, reason, "%s %q is not ready (%s): %s", key.Kind, key.Name, reason, msg)
	}
	return c, nil
}

// namespaceAllowed reports whether allowed admits namespace.
func namespaceAllowed(ctx context.Context, r client.Reader, allowed v1alpha1.AllowedNamespaces, namespace string) (bool, error) {
	if slices.Contains(allowed.Names, namespace) {
		return true, nil
	}
	if allowed.Selector == nil {
		return false, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(allowed.Selector)
	if err != nil {
		return false, nil //nolint:nilerr // an invalid selector admits nothing; the connection's condition says why.
	}
	if sel.Empty() {
		return true, nil
	}
	var ns corev1.Namespace
	if err := r.Get(ctx, types.NamespacedName{Name: namespace}, &ns); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading namespace %q: %w", namespace, err)
	}
	return sel.Matches(labels.Set(ns.Labels)), nil
}

// put adds c, replacing and closing the connection of the same key, and announces it to the
// onOpened hooks. c is not Ready until setReady.
func (p *SessionPool) put(c *Connection) {
	p.mu.Lock()
	old := p.conns[c.key]
	p.conns[c.key] = c
	hooks := slices.Clone(p.onOpen)
	p.mu.Unlock()
	if old != nil && old != c {
		old.close()
	}
	for _, h := range hooks {
		h(c)
	}
}

// remove closes and forgets the connection of key.
func (p *SessionPool) remove(key ConnectionKey) bool {
	p.mu.Lock()
	c, ok := p.conns[key]
	delete(p.conns, key)
	p.mu.Unlock()
	if ok {
		c.close()
	}
	return ok
}

// setReady opens or shuts the flood gate of c; opening it announces the connection to the
// OnReady callbacks.
func (p *SessionPool) setReady(c *Connection, ready bool) {
	if c.ready.Swap(ready) == ready || !ready {
		return
	}
	p.mu.RLock()
	current := p.conns[c.key] == c
	hooks := slices.Clone(p.onReady)
	p.mu.RUnlock()
	if !current {
		c.ready.Store(false)
		return
	}
	for _, h := range hooks {
		go h(c.key)
	}
}

// Close closes every session. The manager calls it on shutdown.
func (p *SessionPool) Close() {
	p.mu.Lock()
	conns := p.conns
	p.conns = map[ConnectionKey]*Connection{}
	p.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// Start implements manager.Runnable: it waits for the manager to stop, then closes every
// session.
func (p *SessionPool) Start(ctx context.Context) error {
	<-ctx.Done()
	p.Close()
	return nil
}
