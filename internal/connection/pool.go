package connection

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
)

// Kinds of the connection objects.
const (
	// KindFtrackConnection is the kind of the namespaced connection.
	KindFtrackConnection = "FtrackConnection"
	// KindClusterFtrackConnection is the kind of the cluster-scoped connection.
	KindClusterFtrackConnection = "ClusterFtrackConnection"
)

// Errors returned by Pool.Acquire, matched with errors.Is. The returned error is an
// *AcquireError whose message names the connection and the namespace.
var (
	// ErrNotFound: the referenced connection does not exist (or the reference is
	// not valid). Retrying helps only once the connection is created.
	ErrNotFound = errors.New("connection not found")
	// ErrNamespaceNotAllowed: a ClusterFtrackConnection does not allow the namespace.
	ErrNamespaceNotAllowed = errors.New("namespace not allowed by the connection")
	// ErrNotReady: the connection exists but has no usable session. Callers should
	// not call the server; the pool announces (OnReady) when the connection becomes Ready.
	ErrNotReady = errors.New("connection not ready")
)

// AcquireError is the error of Pool.Acquire. It never holds a credential.
type AcquireError struct {
	// Key is the connection that was asked for.
	Key Key
	// Namespace is the namespace of the caller.
	Namespace string
	// Reason is the Ready condition reason of a connection that is not ready, else empty.
	Reason string
	// Message explains the error to a user.
	Message string
	// Err is ErrNotFound, ErrNamespaceNotAllowed or ErrNotReady.
	Err error
}

// Error implements error.
func (e *AcquireError) Error() string { return e.Message }

// Unwrap returns the sentinel.
func (e *AcquireError) Unwrap() error { return e.Err }

// ReasonPending is the AcquireError reason of a connection that has no session yet and
// reports no failure: its session is being opened.
const ReasonPending = "Pending"

// Key identifies a connection object: Namespace is empty for a
// ClusterFtrackConnection.
type Key struct {
	Kind      string
	Namespace string
	Name      string
}

// String returns Kind/Namespace/Name, or Kind/Name for a cluster-scoped connection. It is the
// value of the IndexFtrackEntityByConnection index and the connection label of metrics.
func (k Key) String() string {
	if k.Namespace == "" {
		return k.Kind + "/" + k.Name
	}
	return k.Kind + "/" + k.Namespace + "/" + k.Name
}

// NamespacedName returns the object's name as the Kubernetes client wants it.
func (k Key) NamespacedName() types.NamespacedName {
	return types.NamespacedName{Namespace: k.Namespace, Name: k.Name}
}

// KeyFor returns the key of the connection that ref names from an object in
// namespace; an empty kind means FtrackConnection.
func KeyFor(namespace string, ref v1alpha1.ConnectionReference) Key {
	switch ref.Kind {
	case KindClusterFtrackConnection:
		return Key{Kind: KindClusterFtrackConnection, Name: ref.Name}
	case "", KindFtrackConnection:
		return Key{Kind: KindFtrackConnection, Namespace: namespace, Name: ref.Name}
	default:
		return Key{Kind: ref.Kind, Namespace: namespace, Name: ref.Name}
	}
}

// Pool holds one ftrack session per connection object, keyed by kind, namespace and
// name. The connection reconcilers open, replace and close the sessions; the entity
// reconciler borrows them with Acquire. It is safe for concurrent use.
type Pool struct {
	mu        sync.RWMutex
	conns     map[Key]*Connection
	onReady   []func(Key)
	onOpen    []func(*Connection)
	onRefused []func(Key)
	// coalescerOptions tune the commit coalescer of every connection the pool opens.
	coalescerOptions []CoalescerOption
}

// NewPool returns an empty pool; opts tune the commit coalescer of every connection it
// opens (after the defaults), for example WithMaxBatchOperations(1) and WithMaxInFlight(n)
// to measure the operator without batching.
func NewPool(opts ...CoalescerOption) *Pool {
	return &Pool{conns: map[Key]*Connection{}, coalescerOptions: opts}
}

// OnReady registers fn to be called, on its own goroutine, whenever a connection becomes
// Ready (a session was opened or recovered). The entity reconciler uses it to enqueue the
// entities that waited for the connection. Register before the manager starts.
func (p *Pool) OnReady(fn func(Key)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onReady = append(p.onReady, fn)
}

// onOpened registers fn to be called with every new session, before it is marked Ready.
func (p *Pool) onOpened(fn func(*Connection)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onOpen = append(p.onOpen, fn)
}

// OnRefusedCredentials registers fn to be called, on its own goroutine, when ftrack refuses
// the credentials of a Ready connection.
func (p *Pool) OnRefusedCredentials(fn func(Key)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onRefused = append(p.onRefused, fn)
}

// refuse records that ftrack refused c's credentials: c stops being Ready at once, so that
// its entities wait instead of failing one by one, and the hooks (the connection's
// reconciler) are told. It does nothing for a connection that is not the pooled one.
func (p *Pool) refuse(c *Connection) {
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
func (p *Pool) Get(key Key) (*Connection, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	c, ok := p.conns[key]
	return c, ok
}

// Acquire returns the Ready connection that ref names from an object in namespace: an
// FtrackConnection of that namespace, or a ClusterFtrackConnection that allows it. It reads
// the connection (and, for a namespace selector, the Namespace) through r, usually the
// manager's cached client. Errors are *AcquireError matching ErrNotFound,
// ErrNamespaceNotAllowed or ErrNotReady.
func (p *Pool) Acquire(ctx context.Context, r client.Reader, namespace string, ref v1alpha1.ConnectionReference) (*Connection, error) {
	key := KeyFor(namespace, ref)
	fail := func(sentinel error, reason, format string, args ...any) (*Connection, error) {
		return nil, &AcquireError{Key: key, Namespace: namespace, Reason: reason, Message: fmt.Sprintf(format, args...), Err: sentinel}
	}
	var conditions []metav1.Condition
	switch key.Kind {
	case KindFtrackConnection:
		var obj v1alpha1.FtrackConnection
		if err := r.Get(ctx, key.NamespacedName(), &obj); err != nil {
			if apierrors.IsNotFound(err) {
				return fail(ErrNotFound, "", "FtrackConnection %q not found in namespace %q", key.Name, namespace)
			}
			return nil, fmt.Errorf("reading FtrackConnection %q: %w", key.Name, err)
		}
		conditions = obj.Status.Conditions
	case KindClusterFtrackConnection:
		var obj v1alpha1.ClusterFtrackConnection
		if err := r.Get(ctx, key.NamespacedName(), &obj); err != nil {
			if apierrors.IsNotFound(err) {
				return fail(ErrNotFound, "", "ClusterFtrackConnection %q not found", key.Name)
			}
			return nil, fmt.Errorf("reading ClusterFtrackConnection %q: %w", key.Name, err)
		}
		allowed, err := NamespaceAllowed(ctx, r, obj.Spec.AllowedNamespaces, namespace)
		if err != nil {
			return nil, err
		}
		if !allowed {
			return fail(ErrNamespaceNotAllowed, v1alpha1.ReasonNamespaceNotAllowed,
				"ClusterFtrackConnection %q does not allow namespace %q: add it to spec.allowedNamespaces", key.Name, namespace)
		}
		conditions = obj.Status.Conditions
	default:
		return fail(ErrNotFound, "", "connection kind %q is not FtrackConnection or ClusterFtrackConnection", key.Kind)
	}
	c, ok := p.Get(key)
	if !ok || !c.Ready() {
		reason, msg := ReasonPending, "no session is open yet"
		if cond := meta.FindStatusCondition(conditions, v1alpha1.ConditionReady); cond != nil && cond.Status != metav1.ConditionTrue {
			reason, msg = cond.Reason, cond.Message
		}
		return fail(ErrNotReady, reason, "%s %q is not ready (%s): %s", key.Kind, key.Name, reason, msg)
	}
	return c, nil
}

// NamespaceAllowed reports whether allowed admits namespace.
func NamespaceAllowed(ctx context.Context, r client.Reader, allowed v1alpha1.AllowedNamespaces, namespace string) (bool, error) {
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

// Put adds c, replacing and closing the connection of the same key, and announces it to the
// onOpened hooks. c is not Ready until setReady.
func (p *Pool) Put(c *Connection) {
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

// Remove closes and forgets the connection of key.
func (p *Pool) Remove(key Key) bool {
	p.mu.Lock()
	c, ok := p.conns[key]
	delete(p.conns, key)
	p.mu.Unlock()
	if ok {
		c.close()
	}
	return ok
}

// SetReady opens or shuts the flood gate of c; opening it announces the connection to the
// OnReady callbacks.
func (p *Pool) SetReady(c *Connection, ready bool) {
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
func (p *Pool) Close() {
	p.mu.Lock()
	conns := p.conns
	p.conns = map[Key]*Connection{}
	p.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// Start implements manager.Runnable: it waits for the manager to stop, then closes every
// session.
func (p *Pool) Start(ctx context.Context) error {
	<-ctx.Done()
	p.Close()
	return nil
}
