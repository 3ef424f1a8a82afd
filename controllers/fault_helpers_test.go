package controllers

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// The fault suite: the operator under event hub drops, failing and hanging requests, rate
// limits, manager restarts and emulator restarts. Each case is bounded in time and count and
// talks to loopback servers only.

// flakyProxy stands between the operator and an emulator: it fails a share of the /api
// requests with a 5xx before they reach the server, and lets another share reach the server
// but holds the answer until the client gives up, so that the client cannot know whether
// the batch was applied. Everything else (the event hub) passes unchanged.
type flakyProxy struct {
	url         string
	target      *url.URL
	rp          *httputil.ReverseProxy
	failRate    float64
	timeoutRate float64
	// hold caps how long a timed-out answer is held.
	hold time.Duration

	mu  sync.Mutex
	rng *rand.Rand
	// limitN requests from now on are answered 429 with a Retry-After of retryAfter.
	limitN     int
	retryAfter time.Duration
	log        []proxiedRequest

	requests, failed, timedOut atomic.Int64
}

// proxiedRequest is one /api request the proxy received.
type proxiedRequest struct {
	at     time.Time
	status int
}

// rateLimitNext answers the next n /api requests with 429 and Retry-After d (whole seconds).
func (p *flakyProxy) rateLimitNext(n int, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.limitN, p.retryAfter = n, d
}

// received returns the /api requests received so far.
func (p *flakyProxy) received() []proxiedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.log)
}

// admit logs a request and says whether it is to be rate limited.
func (p *flakyProxy) admit() (limited bool, retryAfter time.Duration, roll float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := proxiedRequest{at: time.Now(), status: http.StatusOK}
	if p.limitN > 0 {
		p.limitN--
		r.status = http.StatusTooManyRequests
		p.log = append(p.log, r)
		return true, p.retryAfter, 0
	}
	p.log = append(p.log, r)
	return false, 0, p.rng.Float64()
}

// newFlakyProxy starts a proxy to srv on a loopback port, closed at the end of the test.
func newFlakyProxy(t *testing.T, srv *ftracktest.Server, failRate, timeoutRate float64, hold time.Duration) *flakyProxy {
	t.Helper()
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatalf("parsing the emulator URL: %v", err)
	}
	p := &flakyProxy{
		target: target, rp: httputil.NewSingleHostReverseProxy(target),
		failRate: failRate, timeoutRate: timeoutRate, hold: hold,
		rng: rand.New(rand.NewPCG(9, 11)),
	}
	hs := httptest.NewServer(p)
	t.Cleanup(hs.Close)
	p.url = hs.URL
	return p
}

func (p *flakyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api" {
		p.rp.ServeHTTP(w, r)
		return
	}
	p.requests.Add(1)
	limited, retryAfter, x := p.admit()
	switch {
	case limited:
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"exception": "RateLimitError", "content": "Injected: too many requests."}`)
	case x < p.failRate:
		p.failed.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"exception": "ServerError", "content": "Injected: the server is unavailable."}`)
	case x < p.failRate+p.timeoutRate:
		p.timedOut.Add(1)
		// The server applies the batch; its answer never reaches the client.
		out := r.Clone(context.WithoutCancel(r.Context()))
		out.URL.Scheme, out.URL.Host, out.Host, out.RequestURI = p.target.Scheme, p.target.Host, p.target.Host, ""
		if resp, err := http.DefaultTransport.RoundTrip(out); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		t := time.NewTimer(p.hold)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		w.WriteHeader(http.StatusGatewayTimeout)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

// faultFixture makes a namespace with a connection to serverURL (srv, or a proxy in front of
// it), changed by mutate, and waits until it is Ready with its event hub connected.
func faultFixture(t *testing.T, srv *ftracktest.Server, serverURL string, mutate ...func(*v1alpha1.FtrackConnection)) *entityFixture {
	t.Helper()
	ns := newNamespace(t, nil)
	createSecret(t, ns, "creds", credentialsData(ftracktest.DefaultUser, ftracktest.DefaultAPIKey))
	createConnection(t, ns, "studio", serverURL, "creds", mutate...)
	key := connection.Key{Kind: connection.KindFtrackConnection, Namespace: ns, Name: "studio"}
	waitFor(t, time.Minute, "connection Ready", conditionIs(t.Context(), key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	waitFor(t, time.Minute, "event hub connected", conditionIs(t.Context(), key, v1alpha1.ConditionEventHubConnected, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	t.Cleanup(func() { deleteAllEntities(t, ns) })
	return &entityFixture{t: t, ns: ns, server: srv, conn: "studio"}
}

// withBudget gives a connection a request budget and a request timeout.
func withBudget(perSecond, burst int32, timeout time.Duration) func(*v1alpha1.FtrackConnection) {
	return func(c *v1alpha1.FtrackConnection) {
		c.Spec.RateLimit = v1alpha1.RateLimit{RequestsPerSecond: perSecond, Burst: burst}
		if timeout > 0 {
			c.Spec.Timeout = &metav1.Duration{Duration: timeout}
		}
	}
}

// describedSequences declares n sequences of the scale project, each with a description the
// drift cases change out of band.
func describedSequences(f *entityFixture, n int) []*v1alpha1.FtrackEntity {
	out := make([]*v1alpha1.FtrackEntity, n)
	for i := range n {
		name := fmt.Sprintf("sq%04d", i)
		out[i] = f.entity(name, "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": name, "description": sequenceDescription(name)})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: scaleProjectID}}
		})
	}
	return out
}

func sequenceDescription(name string) string { return "sequence " + name }

// outOfBand changes entities through a session of its own, as people in the ftrack web UI
// would.
type outOfBand struct {
	t *testing.T
	s *ftrack.Session
	n atomic.Int64
}

func newOutOfBand(t *testing.T, f *entityFixture) *outOfBand {
	return &outOfBand{t: t, s: f.session()}
}

// setDescription sets the description of the Sequence with id and returns when the server
// committed it.
func (o *outOfBand) setDescription(ctx context.Context, id string) error {
	n := o.n.Add(1)
	_, err := o.s.Call(ctx, []map[string]any{{
		"action": "update", "entity_type": "Sequence", "entity_key": []any{id},
		"entity_data": map[string]any{"description": fmt.Sprintf("changed in ftrack #%d", n)},
	}})
	return err
}

// sequenceIDs returns the ftrack id of every Ready sequence object of the fixture, by object
// name.
func sequenceIDs(t *testing.T, f *entityFixture) map[string]string {
	t.Helper()
	var list v1alpha1.FtrackEntityList
	if err := k8sClient.List(t.Context(), &list, client.InNamespace(f.ns)); err != nil {
		t.Fatalf("List: %v", err)
	}
	out := map[string]string{}
	for i := range list.Items {
		if e := &list.Items[i]; e.Spec.EntityType == "Sequence" && e.Status.ID != "" {
			out[e.Name] = e.Status.ID
		}
	}
	return out
}

// holdsSpec reports whether the emulator holds the spec's description for sequence name.
func holdsSpec(srv *ftracktest.Server, id, name string) bool {
	rec, ok := srv.Get("Sequence", id)
	return ok && rec["description"] == sequenceDescription(name)
}
