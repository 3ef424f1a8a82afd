package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/controllers"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/internal/webhook"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}

// unthrottled returns cfg without client-side rate limiting, as the manager runs in
// production (controller-runtime's GetConfig leaves it to API priority and fairness).
func unthrottled(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = -1, 0
	c.RateLimiter = nil
	return c
}

// managerHandle is a running manager and what the scenarios read from it.
type managerHandle struct {
	mgr    ctrl.Manager
	cancel context.CancelFunc
	done   chan error
	ready  *readyTracker
}

// startManager runs the operator's reconcilers (the same set newManager registers) in a
// manager that watches only namespaces. coalescer, when not empty, tunes the connections'
// commit coalescers.
func startManager(ctx context.Context, cfg *rest.Config, concurrency int, namespaces []string, hooks *webhookServer, coalescer ...connection.CoalescerOption) (*managerHandle, error) {
	skip := true
	nsCfg := map[string]cache.Config{}
	for _, ns := range namespaces {
		nsCfg[ns] = cache.Config{}
	}
	opts := ctrl.Options{
		Scheme:                 newScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{MaxConcurrentReconciles: concurrency, SkipNameValidation: &skip},
		Cache:                  cache.Options{DefaultNamespaces: nsCfg},
		Client:                 controllers.ClientOptions(),
	}
	if hooks != nil {
		opts.WebhookServer = ctrlwebhook.NewServer(ctrlwebhook.Options{Host: hooks.host, Port: hooks.port, CertDir: hooks.certDir})
	}
	mgr, err := ctrl.NewManager(unthrottled(cfg), opts)
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	conns, err := controllers.SetupConnections(mgr, coalescer...)
	if err != nil {
		return nil, err
	}
	if err := controllers.SetupEntities(mgr, conns); err != nil {
		return nil, err
	}
	if hooks != nil {
		if err := webhook.Setup(mgr, conns.Pool); err != nil {
			return nil, err
		}
	}
	tracker := newReadyTracker()
	inf, err := mgr.GetCache().GetInformer(ctx, &v1alpha1.FtrackEntity{})
	if err != nil {
		return nil, err
	}
	if _, err := inf.AddEventHandler(tracker); err != nil {
		return nil, err
	}
	mctx, cancel := context.WithCancel(ctx)
	h := &managerHandle{mgr: mgr, cancel: cancel, done: make(chan error, 1), ready: tracker}
	go func() { h.done <- mgr.Start(mctx) }()
	sctx, scancel := context.WithTimeout(ctx, time.Minute)
	defer scancel()
	if !mgr.GetCache().WaitForCacheSync(sctx) {
		return nil, errors.Join(errors.New("the manager's cache did not sync within a minute"), h.stop())
	}
	return h, nil
}

// webhookServer is where the admission webhooks installed in the control plane expect the
// manager's webhook server.
type webhookServer struct {
	host    string
	port    int
	certDir string
}

// stop stops the manager and waits for it.
func (h *managerHandle) stop() error {
	h.cancel()
	select {
	case err := <-h.done:
		return err
	case <-time.After(2 * time.Minute):
		return errors.New("the manager did not stop within two minutes")
	}
}

// readyTracker records, from the manager's informer, when each FtrackEntity was first seen
// Ready.
type readyTracker struct {
	mu      sync.Mutex
	readyAt map[string]time.Time // namespace/name
	perNS   map[string]int
	// stalled is the first terminal failure seen per namespace.
	stalled map[string]string
}

func newReadyTracker() *readyTracker {
	return &readyTracker{readyAt: map[string]time.Time{}, perNS: map[string]int{}, stalled: map[string]string{}}
}

// readyTime returns when the object was first seen Ready.
func (t *readyTracker) readyTime(ns, name string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.readyAt[ns+"/"+name]
	return at, ok
}

func (t *readyTracker) observe(obj any) {
	e, ok := obj.(*v1alpha1.FtrackEntity)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
		if _, seen := t.stalled[e.Namespace]; !seen {
			t.stalled[e.Namespace] = e.Name + ": " + c.Message
		}
	}
	if !isReady(e) {
		return
	}
	key := e.Namespace + "/" + e.Name
	if _, seen := t.readyAt[key]; !seen {
		t.readyAt[key] = time.Now()
		t.perNS[e.Namespace]++
	}
}

// OnAdd implements cache.ResourceEventHandler.
func (t *readyTracker) OnAdd(obj any, _ bool) { t.observe(obj) }

// OnUpdate implements cache.ResourceEventHandler.
func (t *readyTracker) OnUpdate(_, obj any) { t.observe(obj) }

// OnDelete implements cache.ResourceEventHandler.
func (t *readyTracker) OnDelete(any) {}

var _ toolscache.ResourceEventHandler = (*readyTracker)(nil)

// readyCount returns how many objects of ns have been Ready, and when the last became so.
func (t *readyTracker) readyCount(ns string) (int, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var last time.Time
	prefix := ns + "/"
	if t.perNS[ns] > 0 {
		for k, at := range t.readyAt {
			if len(k) > len(prefix) && k[:len(prefix)] == prefix && at.After(last) {
				last = at
			}
		}
	}
	return t.perNS[ns], last
}

// waitReady waits until n objects of ns have been Ready and returns when the last became so.
func (t *readyTracker) waitReady(ctx context.Context, ns string, n int, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		c, _ := t.readyCount(ns)
		t.mu.Lock()
		stalled := t.stalled[ns]
		t.mu.Unlock()
		if stalled != "" {
			return time.Time{}, fmt.Errorf("an object of %s is stalled: %s", ns, stalled)
		}
		if c >= n {
			_, last := t.readyCount(ns)
			return last, nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%d of %d objects of %s Ready after %s", c, n, ns, timeout)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-tick.C:
		}
	}
}

// createNamespace creates a namespace, tolerating one that exists.
func createNamespace(ctx context.Context, c client.Client, name string) error {
	err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// createConnection creates the namespace's credentials Secret and its FtrackConnection to
// the emulator at url.
func createConnection(ctx context.Context, c client.Client, ns, url string, rps, burst int, mutate func(*v1alpha1.FtrackConnection)) error {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"},
		StringData: map[string]string{v1alpha1.DefaultAPIUserKey: ftracktest.DefaultUser, v1alpha1.DefaultAPIKeyKey: ftracktest.DefaultAPIKey},
	}
	if err := c.Create(ctx, secret); err != nil {
		return fmt.Errorf("creating the Secret of %s: %w", ns, err)
	}
	conn := &v1alpha1.FtrackConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: connectionName},
		Spec: v1alpha1.FtrackConnectionSpec{
			ConnectionSettings: v1alpha1.ConnectionSettings{ServerURL: url},
			SecretRef:          v1alpha1.CredentialsSecretReference{Name: "creds"},
		},
	}
	if rps > 0 {
		conn.Spec.RateLimit.RequestsPerSecond = int32(rps)
	}
	if burst > 0 {
		conn.Spec.RateLimit.Burst = int32(burst)
	}
	if mutate != nil {
		mutate(conn)
	}
	if err := c.Create(ctx, conn); err != nil {
		return fmt.Errorf("creating the FtrackConnection of %s: %w", ns, err)
	}
	return nil
}

// waitConnection waits until the namespace's connection is Ready and, when hub is set, its
// event hub connected.
func waitConnection(ctx context.Context, c client.Client, ns string, hub bool) error {
	deadline := time.Now().Add(time.Minute)
	for {
		var conn v1alpha1.FtrackConnection
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: connectionName}, &conn)
		if err == nil && meta.IsStatusConditionTrue(conn.Status.Conditions, v1alpha1.ConditionReady) &&
			(!hub || meta.IsStatusConditionTrue(conn.Status.Conditions, v1alpha1.ConditionEventHubConnected)) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the connection of %s is not Ready after a minute (conditions %+v): %w", ns, conn.Status.Conditions, errors.Join(err, ctx.Err()))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// forEach runs fn for every object with workers goroutines, as a GitOps tool applying a
// directory does, and returns the first error.
func forEach[T any](ctx context.Context, workers int, items []T, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan T)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range workers {
		wg.Go(func() {
			for it := range next {
				if err := fn(ctx, it); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		})
	}
feed:
	for _, it := range items {
		select {
		case next <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return firstErr
}

// reconcileTotals returns controller-runtime's reconcile counters by controller and result.
func reconcileTotals() map[string]float64 {
	out := map[string]float64{}
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		return out
	}
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			var ctrlName, result string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "controller":
					ctrlName = l.GetValue()
				case "result":
					result = l.GetValue()
				}
			}
			out[ctrlName+"/"+result] += m.GetCounter().GetValue()
		}
	}
	return out
}

// delta returns after - before, without zero entries.
func delta(before, after map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
