package controllers

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// slowAPI is a RoundTripper in front of the API server for a manager of a test's own: every
// request waits delay first, as on a busy shared cluster, and the writes are counted by
// verb and resource ("PATCH ftrackentities/status").
type slowAPI struct {
	base  http.RoundTripper
	delay time.Duration

	mu     sync.Mutex
	writes map[string]int
}

func (s *slowAPI) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		s.mu.Lock()
		s.writes[req.Method+" "+apiResource(req.URL.Path)]++
		s.mu.Unlock()
	}
	t := time.NewTimer(s.delay)
	select {
	case <-req.Context().Done():
		t.Stop()
		return nil, req.Context().Err()
	case <-t.C:
	}
	return s.base.RoundTrip(req)
}

// counts returns a copy of the writes so far.
func (s *slowAPI) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.writes))
	for k, v := range s.writes {
		out[k] = v
	}
	return out
}

// apiResource returns "resource" or "resource/subresource" of an API path such as
// /apis/ftrack-operator.dev/v1alpha1/namespaces/ns/ftrackentities/name/status.
func apiResource(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "namespaces" && i+2 < len(parts) {
			rest := parts[i+2:]
			switch len(rest) {
			case 1, 2:
				return rest[0]
			default:
				return rest[0] + "/" + rest[2]
			}
		}
	}
	if len(parts) > 0 {
		return parts[len(parts)-1]
	}
	return path
}

// TestEntityBulkWritesUnderSlowAPIServer creates a show of 304 objects at once — a project,
// sequences, shots and their tasks, parents by name — and reconciles it with a manager
// whose every request to the API server is slowed down. Waiting for a parent must cost no
// write: each object gets one status write, whatever the order the objects arrive in.
func TestEntityBulkWritesUnderSlowAPIServer(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	f := newEntityFixture(t, srv)
	isolatedNamespaces.Store(f.ns, true)
	t.Cleanup(func() { isolatedNamespaces.Delete(f.ns) })

	slow := &slowAPI{delay: 25 * time.Millisecond, writes: map[string]int{}}
	cfg := testEnvConfig()
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { slow.base = rt; return slow }
	cfg.QPS, cfg.Burst = -1, 0
	startManagerWith(t, cfg, f.ns)

	objs := []*v1alpha1.FtrackEntity{f.entity("show", "Project", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = attrs(map[string]any{"name": "slowapi", "full_name": "Slow API"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"project_schema": {ID: builtin.DefaultProjectSchemaID}}
	})}
	for sq := range 3 {
		seq := fmt.Sprintf("sq%03d", sq*10+10)
		objs = append(objs, f.entity(seq, "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": seq})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "show"}}
		}))
		for sh := range 20 {
			shot := fmt.Sprintf("%s-sh%03d", seq, sh*10+10)
			objs = append(objs, f.entity(shot, "Shot", func(e *v1alpha1.FtrackEntity) {
				e.Spec.Attributes = attrs(map[string]any{"name": shot[len(seq)+1:]})
				e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: seq}}
			}))
			for _, task := range []string{"layout", "anim", "lighting", "comp"} {
				objs = append(objs, f.entity(shot+"-"+task, "Task", func(e *v1alpha1.FtrackEntity) {
					e.Spec.Attributes = attrs(map[string]any{"name": task})
					e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: shot}}
				}))
			}
		}
	}
	// Children first: the worst order for an operator that would reconcile each object as
	// it arrives.
	for i, j := 0, len(objs)-1; i < j; i, j = i+1, j-1 {
		objs[i], objs[j] = objs[j], objs[i]
	}
	n := len(objs)
	start := time.Now()
	createConcurrently(t, objs)
	waitAllReady(t, f, n, 5*time.Minute)
	w := slow.counts()
	t.Logf("%d objects Ready after %s; the manager's writes: %v", n, time.Since(start).Round(time.Millisecond), w)
	var list v1alpha1.FtrackEntityList
	if err := k8sClient.List(t.Context(), &list, client.InNamespace(f.ns)); err == nil {
		byType := map[string][]time.Duration{}
		for i := range list.Items {
			e := &list.Items[i]
			if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady); c != nil {
				byType[e.Spec.EntityType] = append(byType[e.Spec.EntityType], c.LastTransitionTime.Sub(e.CreationTimestamp.Time))
			}
		}
		for typ, ds := range byType {
			slices.Sort(ds)
			t.Logf("%s: create to Ready p50 %s max %s", typ, ds[len(ds)/2], ds[len(ds)-1])
		}
	}
	perObject := func(key string) float64 { return float64(w[key]) / float64(n) }
	if got := perObject("PATCH ftrackentities/status"); got > 1.05 {
		t.Errorf("%.2f status writes per object, want at most 1.05: waiting objects wrote their status", got)
	}
	// The id annotation is written before the create (without the admission webhook).
	if got := perObject("PATCH ftrackentities"); got > 1.0 {
		t.Errorf("%.2f patches per object, want at most 1", got)
	}
	// Events stay within the connection's budget: the burst, one per second, and a summary
	// per interval.
	took := time.Since(start)
	budget := entityEventBurst + entityEventRate*took.Seconds() + took.Seconds()/entityEventSummaryInterval.Seconds() + 1
	if got := float64(w["POST events"]); got > budget {
		t.Errorf("%.0f Events in %s, want at most %.0f (the Event budget)", got, took.Round(time.Second), budget)
	}
}

// startManagerWith runs a manager of the test's own on cfg that reconciles only namespace ns
// until the test ends.
func startManagerWith(t *testing.T, cfg *rest.Config, ns string) {
	t.Helper()
	skip := true
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Client:                 ClientOptions(),
		Scheme:                 k8sClient.Scheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// The manager's --concurrency default.
		Controller: config.Controller{SkipNameValidation: &skip, MaxConcurrentReconciles: 100},
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}},
	})
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	conns, err := SetupConnections(mgr)
	if err != nil {
		t.Fatalf("SetupConnections: %v", err)
	}
	if err := SetupEntities(mgr, conns); err != nil {
		t.Fatalf("SetupEntities: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("manager: %v", err)
			}
		case <-time.After(time.Minute):
			t.Errorf("the manager did not stop within a minute")
		}
	})
}
