package webhook

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
)

// Defaults of Sources.
const (
	// DefaultTTL is how long a connection opened for admission is used before it is opened
	// again (sooner when the connection's status reports another schema hash).
	DefaultTTL = 10 * time.Minute
	// DefaultOpenTimeout bounds the opening of a connection within an admission request: the
	// API server gives the webhook a few seconds in all.
	DefaultOpenTimeout = 3 * time.Second
)

// Sources gives the admission webhooks a connection to the ftrack server of the connection
// an FtrackEntity names: its live schema, custom attribute configurations and query
// references. On the leader it is the pooled connection; on every other replica (webhooks
// serve from all of them) a connection of its own, opened with the connection's
// credentials and kept until DefaultTTL passes, the credentials or settings change, or the
// connection's status reports another schema hash. It never touches the event hub.
type Sources struct {
	// Reader reads connections, their Secrets and namespaces (the manager's client).
	Reader client.Reader
	// Pool is this replica's pool of connections; it may hold none.
	Pool *connection.Pool
	// NewSession opens sessions; nil means ftrack.NewSession.
	NewSession connection.SessionOpener
	// Log is handed to the sessions.
	Log logr.Logger
	// TTL and OpenTimeout: see the defaults.
	TTL, OpenTimeout time.Duration

	mu    sync.Mutex
	conns map[connection.Key]*admissionConn
	// opener opens the connections of admission (not pooled: no event hub, no triggers).
	opener connection.Pool
}

type admissionConn struct {
	conn   *connection.Connection
	opened time.Time
}

// errUnchecked is a reason a spec could not be checked against the ftrack server: the
// admission allows the object with a warning, and the reconciler checks it later.
type errUnchecked struct{ msg string }

func (e *errUnchecked) Error() string { return e.msg }

func unchecked(format string, args ...any) error {
	return &errUnchecked{msg: fmt.Sprintf(format, args...)}
}

// Get returns a connection to the server of the connection ref names from an object in
// namespace. An error is an *errUnchecked: the connection does not exist (yet), does not
// allow the namespace, or its server cannot be reached now.
func (s *Sources) Get(ctx context.Context, namespace string, ref v1alpha1.ConnectionReference) (*connection.Connection, error) {
	key := connection.KeyFor(namespace, ref)
	if s.Pool != nil {
		if c, ok := s.Pool.Get(key); ok && c.Ready() {
			return c, nil
		}
	}
	var obj client.Object
	switch key.Kind {
	case connection.KindClusterFtrackConnection:
		obj = &v1alpha1.ClusterFtrackConnection{}
	default:
		obj = &v1alpha1.FtrackConnection{}
	}
	if err := s.Reader.Get(ctx, key.NamespacedName(), obj); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil, unchecked("%s %q does not exist", key.Kind, key.Name)
		}
		return nil, unchecked("%s %q cannot be read", key.Kind, key.Name)
	}
	if cc, ok := obj.(*v1alpha1.ClusterFtrackConnection); ok {
		allowed, err := connection.NamespaceAllowed(ctx, s.Reader, cc.Spec.AllowedNamespaces, namespace)
		if err != nil || !allowed {
			return nil, unchecked("ClusterFtrackConnection %q does not allow namespace %q", key.Name, namespace)
		}
	}
	o, _ := connection.ObjectOf(obj)
	creds, _, err := connection.LoadCredentials(ctx, s.Reader, o)
	if err != nil {
		return nil, unchecked("%s %q: %v", key.Kind, key.Name, err)
	}
	fingerprint, credHash := connection.Fingerprint(o, creds)
	hash := statusSchemaHash(obj)
	ttl := s.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	s.mu.Lock()
	if a, ok := s.conns[key]; ok {
		if a.conn.Fingerprint() == fingerprint && time.Since(a.opened) < ttl && (hash == "" || hash == a.conn.Schemas().Hash()) {
			s.mu.Unlock()
			return a.conn, nil
		}
		delete(s.conns, key)
		a.conn.Close()
	}
	s.mu.Unlock()
	timeout := s.OpenTimeout
	if timeout <= 0 {
		timeout = DefaultOpenTimeout
	}
	octx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := s.opener.Open(octx, connection.Spec{
		Key: key, Settings: o.Settings, Credentials: creds,
		Fingerprint: fingerprint, CredentialsHash: credHash, Log: s.Log, NewSession: s.NewSession,
	})
	if err != nil {
		return nil, unchecked("%s %q: the ftrack server cannot be reached now (%v)", key.Kind, key.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		s.conns = map[connection.Key]*admissionConn{}
	}
	if old, ok := s.conns[key]; ok {
		// Opened meanwhile by another admission request: keep one.
		c.Close()
		return old.conn, nil
	}
	s.conns[key] = &admissionConn{conn: c, opened: time.Now()}
	return c, nil
}

// Close closes the connections opened for admission. It implements manager.Runnable's
// end through Start.
func (s *Sources) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, a := range s.conns {
		a.conn.Close()
		delete(s.conns, k)
	}
}

// Start implements manager.Runnable: it closes the connections when the manager stops.
func (s *Sources) Start(ctx context.Context) error {
	<-ctx.Done()
	s.Close()
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: the webhooks serve from
// every replica.
func (s *Sources) NeedLeaderElection() bool { return false }

// statusSchemaHash returns the schema hash a connection's status reports, "" when it is
// not Ready.
func statusSchemaHash(obj client.Object) string {
	var st *v1alpha1.ConnectionStatus
	switch o := obj.(type) {
	case *v1alpha1.FtrackConnection:
		st = &o.Status
	case *v1alpha1.ClusterFtrackConnection:
		st = &o.Status
	default:
		return ""
	}
	if !meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionReady) {
		return ""
	}
	return st.SchemaHash
}
