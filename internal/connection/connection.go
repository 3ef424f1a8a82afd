package connection

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// Connection is the runtime of one connection object: its ftrack session, the request
// budget every request of it waits for, the commit coalescer its reconciles share, the
// caches of custom attribute configurations and looked-up references, and the client the
// entity reconciler uses. It is built once, by Pool.Open, and replaced by a new Connection
// (never changed) when the connection's settings or credentials change; Done is closed then.
type Connection struct {
	key       Key
	session   *ftrack.Session
	limiter   *rate.Limiter
	coalescer *CommitCoalescer
	// marks gathers the writes that only set ownership marks (an adoption), which nothing
	// waits on but the object's own status: longer windows fill their batches.
	marks       *CommitCoalescer
	configs     configCache
	lookups     lookupCache
	entities    *Entities
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
}

// SessionOpener opens an ftrack session; ftrack.NewSession is the real one.
type SessionOpener func(ctx context.Context, opts ...ftrack.Option) (*ftrack.Session, error)

// Credentials are what a session is opened with. String never shows the key.
type Credentials struct {
	APIUser string
	APIKey  string
	CAPEM   []byte
}

// String implements fmt.Stringer without the key.
func (c Credentials) String() string { return "credentials{user: " + c.APIUser + "}" }

// GoString implements fmt.GoStringer without the key.
func (c Credentials) GoString() string { return c.String() }

// Spec is what Pool.Open opens a connection with.
type Spec struct {
	// Key names the connection object.
	Key Key
	// Settings are the connection object's settings.
	Settings *v1alpha1.ConnectionSettings
	// Credentials are read from its Secret.
	Credentials Credentials
	// Fingerprint hashes everything the session depends on, CredentialsHash the
	// credentials alone (see Fingerprint and CredentialsChanged).
	Fingerprint, CredentialsHash string
	// Log is the logger handed to the session.
	Log logr.Logger
	// NewSession opens the session; nil means ftrack.NewSession.
	NewSession SessionOpener
}

// Open opens a new session for spec and builds its runtime; it is not in the pool yet (see
// Put). Server information and schemas are read, each request bounded by the timeout.
func (p *Pool) Open(ctx context.Context, spec Spec) (*Connection, error) {
	settings := spec.Settings
	transport, insecure := newTransport(settings, spec.Credentials)
	perSecond, burst := settings.RequestBudget()
	limiter := rate.NewLimiter(rate.Limit(perSecond), burst)
	label := spec.Key.String()
	budget := &budgetTransport{connection: label, limiter: limiter, base: transport}
	timeout := settings.RequestTimeout()
	opts := []ftrack.Option{
		ftrack.WithServerURL(settings.ServerURL),
		ftrack.WithAPIUser(spec.Credentials.APIUser),
		ftrack.WithAPIKey(spec.Credentials.APIKey),
		ftrack.WithTimeout(timeout),
		ftrack.WithHTTPClient(&http.Client{Transport: budget}),
		ftrack.WithLogger(slog.New(logr.ToSlogHandler(spec.Log.WithValues("connection", label)))),
		// Sessions of different servers must not share one cache file.
		ftrack.WithoutSchemaCache(),
		// Entities are read fresh by each reconcile; lazy loading would hide requests.
		ftrack.WithAutoPopulate(false),
		ftrack.WithPluginPaths(),
	}
	newSession := spec.NewSession
	if newSession == nil {
		newSession = ftrack.NewSession
	}
	octx, cancel := context.WithTimeout(ctx, 2*timeout+time.Second)
	defer cancel()
	s, err := newSession(octx, opts...)
	if err != nil {
		transport.CloseIdleConnections()
		return nil, err
	}
	c := &Connection{
		key:          spec.Key,
		session:      s,
		limiter:      limiter,
		resync:       settings.ResyncPeriod(),
		fingerprint:  spec.Fingerprint,
		credentials:  spec.CredentialsHash,
		connectedAt:  time.Now(),
		serverURL:    s.ServerURL(),
		apiUser:      spec.Credentials.APIUser,
		insecure:     insecure,
		hubEnabled:   settings.EventHubEnabled(),
		subscription: settings.EventHubSubscription(),
		done:         make(chan struct{}),
	}
	coalescerOpts := []CoalescerOption{
		WithLimiter(limiter),
		WithBatchObserver(func(n int) { batchOperations.WithLabelValues(label).Observe(float64(n)) }),
	}
	c.coalescer = NewCommitCoalescer(s.Do, append(coalescerOpts, p.coalescerOptions...)...)
	markOpts := append(slices.Clone(coalescerOpts), WithCoalesceWindow(markWindow), WithMaxCoalesceWindow(markMaxWindow))
	c.marks = NewCommitCoalescer(s.Do, append(markOpts, p.coalescerOptions...)...)
	c.entities = &Entities{co: c.coalescer, marks: c.marks, schemas: s.Schemas(), configs: &c.configs, lookups: &c.lookups}
	refused := func() { p.refuse(c) }
	budget.unauthorized.Store(&refused)
	return c, nil
}

// newTransport returns the HTTP transport of a connection: the default one with the
// connection's TLS settings, and whether certificate verification is off.
func newTransport(settings *v1alpha1.ConnectionSettings, creds Credentials) (*http.Transport, bool) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t := settings.TLS
	if t == nil {
		return transport, false
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(creds.CAPEM) > 0 {
		roots, err := x509.SystemCertPool()
		if err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		roots.AppendCertsFromPEM(creds.CAPEM)
		cfg.RootCAs = roots
	}
	if t.InsecureSkipVerify {
		cfg.InsecureSkipVerify = true // asked for in the spec; the reconciler warns on every connect
	}
	transport.TLSClientConfig = cfg
	return transport, t.InsecureSkipVerify
}

// HTTPClient returns an HTTP client with the connection's TLS settings, for a short session
// outside the pool (it does not wait for the connection's request budget).
func HTTPClient(settings *v1alpha1.ConnectionSettings, creds Credentials) *http.Client {
	transport, _ := newTransport(settings, creds)
	return &http.Client{Transport: transport}
}

// Key returns the connection's key.
func (c *Connection) Key() Key { return c.key }

// Session returns the ftrack session. Every request it sends waits for the connection's
// request budget.
func (c *Connection) Session() *ftrack.Session { return c.session }

// Schemas returns the server's schemas.
func (c *Connection) Schemas() *schema.Set { return c.session.Schemas() }

// Entities returns the client the entity reconciler reads and writes entities through.
func (c *Connection) Entities() *Entities { return c.entities }

// Coalescer returns the commit coalescer the connection's reconciles share.
func (c *Connection) Coalescer() *CommitCoalescer { return c.coalescer }

// InvalidateConfigurations drops the cached custom attribute configurations, so that the
// next reconcile sees a new one at once.
func (c *Connection) InvalidateConfigurations() { c.configs.invalidate() }

// Limiter returns the connection's request budget. The session's transport already waits on
// it for every request; callers use it only to plan (Tokens) or to reserve in bulk.
func (c *Connection) Limiter() *rate.Limiter { return c.limiter }

// ClientToken returns the session's client token; ftrack echoes it in the events caused by
// the operator's own writes.
func (c *Connection) ClientToken() string { return c.session.ClientToken() }

// ConnectedAt returns when the session was opened.
func (c *Connection) ConnectedAt() time.Time { return c.connectedAt }

// ServerURL returns the server's URL as the session uses it.
func (c *Connection) ServerURL() string { return c.serverURL }

// APIUser returns the ftrack user the session acts as.
func (c *Connection) APIUser() string { return c.apiUser }

// Insecure reports whether the server's certificate is not verified.
func (c *Connection) Insecure() bool { return c.insecure }

// Fingerprint returns the hash of everything the session depends on.
func (c *Connection) Fingerprint() string { return c.fingerprint }

// CredentialsHash returns the hash of the session's credentials.
func (c *Connection) CredentialsHash() string { return c.credentials }

// HubEnabled reports whether the connection uses the event hub, and Subscription its
// subscription.
func (c *Connection) HubEnabled() bool { return c.hubEnabled }

// Subscription returns the event hub subscription expression.
func (c *Connection) Subscription() string { return c.subscription }

// Ready reports whether the connection may be used now.
func (c *Connection) Ready() bool { return c.ready.Load() }

// Refused reports whether ftrack refused the session's credentials after it was opened.
func (c *Connection) Refused() bool { return c.refused.Load() }

// ClearRefused records that the session's credentials work again.
func (c *Connection) ClearRefused() { c.refused.Store(false) }

// Done is closed when the Connection is replaced or closed.
func (c *Connection) Done() <-chan struct{} { return c.done }

// ResyncAfter returns the connection's resync interval with up to a tenth of random jitter
// added, for a reconcile's RequeueAfter.
func (c *Connection) ResyncAfter() time.Duration { return wait.Jitter(c.resync, 0.1) }

// LastEventTime returns when the last event arrived on the connection's event hub.
func (c *Connection) LastEventTime() (time.Time, bool) {
	n := c.lastEvent.Load()
	if n == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// Close closes a connection that is not in a pool (a pooled one is closed by the pool).
func (c *Connection) Close() { c.close() }

// close closes the coalescer (its callers get ErrCoalescerClosed), then the session. It is
// idempotent.
func (c *Connection) close() {
	c.closeOnce.Do(func() {
		c.ready.Store(false)
		close(c.done)
		if c.marks != nil {
			_ = c.marks.Close()
		}
		if c.coalescer != nil {
			_ = c.coalescer.Close()
		}
		_ = c.session.Close()
	})
}
