package connection

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// openTestSession opens a session against an emulator of the test's own.
func openTestSession(t *testing.T) *ftrack.Session {
	t.Helper()
	server, err := ftracktest.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Close() })
	s, err := ftrack.NewSession(t.Context(), ftrack.WithServerURL(server.URL), ftrack.WithAPIUser(ftracktest.DefaultUser),
		ftrack.WithAPIKey(ftracktest.DefaultAPIKey), ftrack.WithoutSchemaCache(), ftrack.WithPluginPaths())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testConnection(key Key, s *ftrack.Session) *Connection {
	return &Connection{key: key, session: s, limiter: rate.NewLimiter(rate.Inf, 1), resync: time.Hour, done: make(chan struct{})}
}

func TestSessionPoolAcquire(t *testing.T) {
	t.Parallel()
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	notReady := metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonInvalidCredentials, Message: "ftrack refused the API key of user \"u\"."}
	objs := []client.Object{
		&v1alpha1.FtrackConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "ready"}},
		&v1alpha1.FtrackConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "refused"}, Status: v1alpha1.ConnectionStatus{Conditions: []metav1.Condition{notReady}}},
		&v1alpha1.ClusterFtrackConnection{ObjectMeta: metav1.ObjectMeta{Name: "shared"}, Spec: v1alpha1.ClusterFtrackConnectionSpec{
			AllowedNamespaces: v1alpha1.AllowedNamespaces{Names: []string{"team"}, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"ftrack": "yes"}}},
		}},
		&v1alpha1.ClusterFtrackConnection{ObjectMeta: metav1.ObjectMeta{Name: "everyone"}, Spec: v1alpha1.ClusterFtrackConnectionSpec{
			AllowedNamespaces: v1alpha1.AllowedNamespaces{Selector: &metav1.LabelSelector{}},
		}},
		&v1alpha1.ClusterFtrackConnection{ObjectMeta: metav1.ObjectMeta{Name: "nobody"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "labelled", Labels: map[string]string{"ftrack": "yes"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "other"}},
	}
	builder := fake.NewClientBuilder().WithScheme(scheme)
	for _, o := range objs {
		builder = builder.WithObjects(o)
	}
	r := builder.Build()

	s := openTestSession(t)
	pool := NewPool()
	for _, key := range []Key{
		{Kind: KindFtrackConnection, Namespace: "team", Name: "ready"},
		{Kind: KindClusterFtrackConnection, Name: "shared"},
		{Kind: KindClusterFtrackConnection, Name: "everyone"},
		{Kind: KindClusterFtrackConnection, Name: "nobody"},
	} {
		c := testConnection(key, s)
		pool.conns[key] = c
		c.ready.Store(true)
	}
	pool.conns[Key{Kind: KindFtrackConnection, Namespace: "team", Name: "refused"}] = testConnection(Key{Kind: KindFtrackConnection, Namespace: "team", Name: "refused"}, s)

	cluster := func(name string) v1alpha1.ConnectionReference {
		return v1alpha1.ConnectionReference{Kind: KindClusterFtrackConnection, Name: name}
	}
	tests := map[string]struct {
		reason    string
		namespace string
		ref       v1alpha1.ConnectionReference
		want      error
		message   string
	}{
		"Ready":          {reason: "a Ready connection of the namespace", namespace: "team", ref: v1alpha1.ConnectionReference{Name: "ready"}},
		"OtherNamespace": {reason: "a namespaced connection is invisible from another namespace", namespace: "other", ref: v1alpha1.ConnectionReference{Name: "ready"}, want: ErrNotFound, message: `FtrackConnection "ready" not found in namespace "other"`},
		"NotReady":       {reason: "the flood gate names the connection's reason", namespace: "team", ref: v1alpha1.ConnectionReference{Name: "refused"}, want: ErrNotReady, message: `FtrackConnection "refused" is not ready (InvalidCredentials): ftrack refused the API key of user "u".`},
		"Listed":         {reason: "a listed namespace", namespace: "team", ref: cluster("shared")},
		"Selected":       {reason: "a namespace the selector matches", namespace: "labelled", ref: cluster("shared")},
		"Refused":        {reason: "any other namespace", namespace: "other", ref: cluster("shared"), want: ErrNamespaceNotAllowed, message: `ClusterFtrackConnection "shared" does not allow namespace "other": add it to spec.allowedNamespaces`},
		"EmptySelector":  {reason: "an empty selector allows every namespace", namespace: "other", ref: cluster("everyone")},
		"NoAllowList":    {reason: "no names and no selector allow nothing", namespace: "team", ref: cluster("nobody"), want: ErrNamespaceNotAllowed},
		"Missing":        {reason: "an absent cluster connection", namespace: "team", ref: cluster("absent"), want: ErrNotFound, message: `ClusterFtrackConnection "absent" not found`},
		"BadKind":        {reason: "an unknown kind", namespace: "team", ref: v1alpha1.ConnectionReference{Kind: "Other", Name: "x"}, want: ErrNotFound},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := pool.Acquire(t.Context(), r, tc.namespace, tc.ref)
			if !errors.Is(err, tc.want) {
				t.Fatalf("%s: error %v, want %v", tc.reason, err, tc.want)
			}
			if tc.want == nil {
				if c == nil || c.Key() != KeyFor(tc.namespace, tc.ref) {
					t.Errorf("%s: got connection %v", tc.reason, c)
				}
				return
			}
			var ae *AcquireError
			if !errors.As(err, &ae) {
				t.Fatalf("%s: %T is not an *AcquireError", tc.reason, err)
			}
			if tc.message != "" && err.Error() != tc.message {
				t.Errorf("%s: message %q, want %q", tc.reason, err.Error(), tc.message)
			}
		})
	}
}

func TestSessionPoolReadyAndReplace(t *testing.T) {
	t.Parallel()
	s1, s2 := openTestSession(t), openTestSession(t)
	key := Key{Kind: KindFtrackConnection, Namespace: "ns", Name: "c"}
	pool := NewPool()
	announced := make(chan Key, 4)
	pool.OnReady(func(k Key) { announced <- k })
	var opened []*Connection
	pool.onOpened(func(c *Connection) { opened = append(opened, c) })

	first := testConnection(key, s1)
	pool.Put(first)
	if first.Ready() {
		t.Fatal("a new connection is Ready before setReady")
	}
	pool.SetReady(first, true)
	select {
	case got := <-announced:
		if got != key {
			t.Errorf("announced %v, want %v", got, key)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnReady was not called")
	}
	pool.SetReady(first, true) // already ready: no second announcement

	second := testConnection(key, s2)
	pool.Put(second)
	if !s1.Closed() || first.Ready() {
		t.Error("the replaced connection is still open or ready")
	}
	pool.SetReady(first, true) // a replaced connection cannot be made ready again
	if first.Ready() {
		t.Error("a replaced connection became ready")
	}
	if diff := cmp.Diff([]*Connection{first, second}, opened, cmp.Comparer(func(a, b *Connection) bool { return a == b })); diff != "" {
		t.Errorf("onOpened calls (-want +got):\n%s", diff)
	}
	select {
	case got := <-announced:
		t.Errorf("unexpected announcement %v", got)
	default:
	}
	if !pool.Remove(key) || !s2.Closed() {
		t.Error("remove did not close the session")
	}
	if pool.Remove(key) {
		t.Error("a second remove found a connection")
	}
}

func TestBudgetTransportCountsEveryRequest(t *testing.T) {
	t.Parallel()
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	// One token, never refilled: the second request must wait and, with a deadline, fail.
	tr := &budgetTransport{connection: "test/budget", limiter: rate.NewLimiter(rate.Every(time.Hour), 1), base: srv.Client().Transport}
	hc := &http.Client{Transport: tr}
	do := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/socket.io/1/", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	ok0 := counterValue(ftrackRequests.WithLabelValues("test/budget", ActionEventHub, "200"))
	failed0 := counterValue(ftrackRequests.WithLabelValues("test/budget", ActionEventHub, StatusError))
	if err := do(t.Context()); err != nil {
		t.Fatalf("first request: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := do(ctx); err == nil {
		t.Fatal("the second request went through without budget")
	}
	if hits != 1 {
		t.Errorf("the server saw %d requests, want 1", hits)
	}
	if got := counterValue(ftrackRequests.WithLabelValues("test/budget", ActionEventHub, "200")) - ok0; got != 1 {
		t.Errorf("ftrack_requests_total{status=200} grew by %v, want 1", got)
	}
	if got := counterValue(ftrackRequests.WithLabelValues("test/budget", ActionEventHub, StatusError)) - failed0; got != 1 {
		t.Errorf("ftrack_requests_total{status=error} grew by %v, want 1", got)
	}
}

func TestBudgetTransportHoldsTheConnectionAfterRetryAfter(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, time.Now())
		first := len(seen) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	tr := &budgetTransport{connection: "test/hold", limiter: rate.NewLimiter(rate.Inf, 1), base: srv.Client().Transport}
	hc := &http.Client{Transport: tr}
	get := func() {
		resp, err := hc.Get(srv.URL + "/api")
		if err != nil {
			t.Errorf("request: %v", err)
			return
		}
		resp.Body.Close()
	}
	get() // answered 429 with Retry-After: 1
	answered := time.Now()
	// Three requests from different callers, as from different reconciles: none may reach the
	// server before the hint has passed.
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(get)
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 4 {
		t.Fatalf("the server saw %d requests, want 4", len(seen))
	}
	for i, at := range seen[1:] {
		if early := answered.Add(time.Second).Sub(at); early > 50*time.Millisecond {
			t.Errorf("request %d reached the server %v before the Retry-After hint had passed", i+2, early)
		}
	}
}
