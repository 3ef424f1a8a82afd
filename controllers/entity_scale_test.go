package controllers

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/plan"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

const scaleProjectID = "00000000-0000-4000-8000-0000000000bb"

// seedScaleProject adds the project the scale tests' sequences live in.
func seedScaleProject(t *testing.T, srv *ftracktest.Server) {
	t.Helper()
	if err := srv.Seed(ftracktest.Record{Type: "Project", Data: map[string]any{"id": scaleProjectID, "name": "scale", "full_name": "Scale", "project_schema_id": builtin.DefaultProjectSchemaID}}); err != nil {
		t.Fatalf("Seed: %v", err)
	}
}

// sequences declares n sequences in the scale project.
func sequences(f *entityFixture, n int) []*v1alpha1.FtrackEntity {
	out := make([]*v1alpha1.FtrackEntity, n)
	for i := range n {
		name := fmt.Sprintf("sq%04d", i)
		out[i] = f.entity(name, "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": name})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: scaleProjectID}}
		})
	}
	return out
}

// waitAllReady waits until every FtrackEntity of the namespace is Ready.
func waitAllReady(t *testing.T, f *entityFixture, n int, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, fmt.Sprintf("%d entities Ready", n), func() error {
		var list v1alpha1.FtrackEntityList
		if err := k8sClient.List(t.Context(), &list, client.InNamespace(f.ns)); err != nil {
			return err
		}
		ready := 0
		var notReady string
		for i := range list.Items {
			if isReady(&list.Items[i]) {
				ready++
			} else if notReady == "" {
				e := &list.Items[i]
				notReady = fmt.Sprintf("%s (generation %d, id %q):\n%s", e.Name, e.Generation, e.Status.ID, conditionsText(e.Status.Conditions))
			}
		}
		if ready != n {
			return fmt.Errorf("%d of %d Ready; first not Ready: %s", ready, n, notReady)
		}
		return nil
	})
}

// checkExactlyOnce checks that every object's entity exists once in ftrack.
func checkExactlyOnce(t *testing.T, f *entityFixture, n int) {
	t.Helper()
	var list v1alpha1.FtrackEntityList
	if err := k8sClient.List(t.Context(), &list, client.InNamespace(f.ns)); err != nil {
		t.Fatalf("List: %v", err)
	}
	ids := map[string]bool{}
	for i := range list.Items {
		e := &list.Items[i]
		if _, ok := f.server.Get("Sequence", e.Status.ID); !ok || ids[e.Status.ID] || e.Status.ID != plan.EntityIDFor(e.UID) {
			t.Errorf("%s: id %q missing in ftrack, shared, or not the id chosen for it", e.Name, e.Status.ID)
		}
		ids[e.Status.ID] = true
	}
	names := map[string]int{}
	for _, s := range f.server.All("Sequence") {
		names[s["name"].(string)]++
	}
	for name, c := range names {
		if c != 1 {
			t.Errorf("sequence %s exists %d times", name, c)
		}
	}
	if diff := cmp.Diff(n, f.server.Count("Sequence")); diff != "" {
		t.Errorf("sequences in ftrack (-want +got):\n%s", diff)
	}
}

func TestEntityManyAtOnceShareRequests(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	seedScaleProject(t, srv)
	f := newEntityFixture(t, srv)
	const n = 500
	srv.ResetRequests()
	start := time.Now()
	createConcurrently(t, sequences(f, n))
	waitAllReady(t, f, n, 3*time.Minute)
	requests := len(srv.Requests())
	t.Logf("%d entities created and Ready in %s with %d ftrack requests (%.1f entities per request; %d creates, %d queries)",
		n, time.Since(start).Round(time.Millisecond), requests, float64(n)/float64(requests), srv.RequestCount("create"), srv.RequestCount("query"))
	failed := map[string]int{}
	for _, r := range srv.Requests() {
		if r.Exception != "" {
			failed[r.Exception]++
		}
	}
	t.Logf("failed requests by exception: %v", failed)
	// The connection's budget (10 requests a second by default) paces the batches, so the
	// count follows the wall time; on a quiet machine it is about n/5.
	if requests > n/3 {
		t.Errorf("%d requests for %d entities, want at most %d", requests, n, n/3)
	}
	checkExactlyOnce(t, f, n)
}

// createConcurrently creates objects from several goroutines, as a GitOps tool applying a
// directory does.
func createConcurrently(t *testing.T, objs []*v1alpha1.FtrackEntity) {
	t.Helper()
	var wg sync.WaitGroup
	next := make(chan *v1alpha1.FtrackEntity)
	for range 16 {
		wg.Go(func() {
			for o := range next {
				if err := k8sClient.Create(t.Context(), o); err != nil {
					t.Errorf("creating %s: %v", o.Name, err)
				}
			}
		})
	}
	for _, o := range objs {
		next <- o
	}
	close(next)
	wg.Wait()
}

// startEntityManager runs a manager of the test's own that reconciles only namespace ns
// with concurrency workers, until the returned function is called.
func startEntityManager(t *testing.T, ns string, concurrency int) (conns *Connections, stop func()) {
	t.Helper()
	skip := true
	mgr, err := ctrl.NewManager(testEnvConfig(), ctrl.Options{
		Client:                 ClientOptions(),
		Scheme:                 k8sClient.Scheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: &skip},
		Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}},
	})
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	conns, err = SetupConnections(mgr)
	if err != nil {
		t.Fatalf("SetupConnections: %v", err)
	}
	r := &EntityReconciler{Client: mgr.GetClient(), Pool: conns.Pool, Bridge: conns.Bridge, Recorder: mgr.GetEventRecorder("ftrack-operator-restart"), MaxConcurrentReconciles: concurrency}
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatalf("SetupWithManager: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("manager: %v", err)
			}
		case <-time.After(time.Minute):
			t.Errorf("the manager did not stop within a minute")
		}
	}
	t.Cleanup(stop)
	return conns, stop
}

func TestEntityManagerRestartMidCreation(t *testing.T) {
	t.Parallel()
	// Latency keeps the creates in flight long enough to stop the manager among them.
	srv := newEmulator(t, ftracktest.WithLatency(30*time.Millisecond, 20*time.Millisecond))
	seedScaleProject(t, srv)
	f := newEntityFixture(t, srv)
	isolatedNamespaces.Store(f.ns, true)
	t.Cleanup(func() { isolatedNamespaces.Delete(f.ns) })

	const n = 300
	_, stopFirst := startEntityManager(t, f.ns, 50)
	f.create(sequences(f, n)...)
	waitFor(t, 2*time.Minute, "some sequences created", func() error {
		if c := srv.Count("Sequence"); c < n/4 {
			return fmt.Errorf("%d sequences", c)
		}
		return nil
	})
	stopFirst()
	midway := srv.Count("Sequence")
	t.Logf("stopped the manager with %d of %d sequences created", midway, n)
	if midway >= n {
		t.Fatalf("all %d sequences were created before the manager stopped; the test proves nothing", n)
	}
	// A second manager of the test's own takes over, as a restarted operator would.
	startEntityManager(t, f.ns, 50)
	waitAllReady(t, f, n, 3*time.Minute)
	checkExactlyOnce(t, f, n)
	var list v1alpha1.FtrackEntityList
	if err := k8sClient.List(t.Context(), &list, client.InNamespace(f.ns)); err != nil {
		t.Fatalf("List: %v", err)
	}
	for i := range list.Items {
		if c := findEntityCondition(&list.Items[i], v1alpha1.ConditionSynced); c == nil || c.Status != metav1.ConditionTrue {
			t.Errorf("%s: Synced = %+v", list.Items[i].Name, c)
		}
	}
}

// findEntityCondition returns the condition typ of e, or nil.
func findEntityCondition(e *v1alpha1.FtrackEntity, typ string) *metav1.Condition {
	for i := range e.Status.Conditions {
		if e.Status.Conditions[i].Type == typ {
			return &e.Status.Conditions[i]
		}
	}
	return nil
}

// TestEntityAdoptionMarksDoNotHoldWorkers: adopting entities writes one ownership mark each,
// and a reconcile does not wait for its mark's batch (see markWrites), so one batch carries
// more marks than there are workers; every object still ends Adopted with its Event.
func TestEntityAdoptionMarksDoNotHoldWorkers(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, ftracktest.WithLatency(30*time.Millisecond, 0))
	seedScaleProject(t, srv)
	f := newEntityFixture(t, srv)
	isolatedNamespaces.Store(f.ns, true)
	t.Cleanup(func() { isolatedNamespaces.Delete(f.ns) })

	const n, workers = 120, 4
	objs := sequences(f, n)
	ops := make([]ftrack.Op, n)
	for i, o := range objs {
		id := uuid.NewString()
		ops[i] = ftrack.CreateOp("Sequence", map[string]any{"id": id, "name": o.Name, "parent_id": scaleProjectID})
		o.Spec.Adopt = &v1alpha1.AdoptSpec{ID: id}
	}
	if _, err := f.session().Do(t.Context(), ops...); err != nil {
		t.Fatalf("seeding: %v", err)
	}
	srv.ResetRequests()
	startEntityManager(t, f.ns, workers)
	f.create(objs...)
	waitAllReady(t, f, n, 2*time.Minute)

	largest, writes := 0, 0
	for _, r := range srv.Requests() {
		marks := 0
		for _, a := range r.Actions {
			if a != "query" {
				marks++
			}
		}
		if marks > 0 {
			writes++
		}
		largest = max(largest, marks)
	}
	t.Logf("%d objects adopted by %d workers with %d write requests; the largest carried %d writes", n, workers, writes, largest)
	if largest <= workers {
		t.Errorf("the largest batch of marks carried %d writes: no more than the %d workers, so each reconcile held its worker until its mark was written", largest, workers)
	}
	var list v1alpha1.FtrackEntityList
	if err := k8sClient.List(t.Context(), &list, client.InNamespace(f.ns)); err != nil {
		t.Fatalf("List: %v", err)
	}
	for i := range list.Items {
		o := &list.Items[i]
		if o.Status.Ownership != v1alpha1.OwnershipAdopted || o.Status.ID != o.Spec.Adopt.ID {
			t.Errorf("%s: ownership %q id %s, want Adopted %s", o.Name, o.Status.Ownership, o.Status.ID, o.Spec.Adopt.ID)
		}
		if r, ok := srv.Get("Sequence", o.Spec.Adopt.ID); !ok || r["name"] != o.Name {
			t.Errorf("%s: the sequence in ftrack is %v", o.Name, r)
		}
	}
	if c := srv.Count("Sequence"); c != n {
		t.Errorf("%d sequences in ftrack, want %d: adoption created or deleted some", c, n)
	}
	waitFor(t, 30*time.Second, "an Adopted Event", func() error {
		var evs eventsv1.EventList
		if err := k8sClient.List(t.Context(), &evs, client.InNamespace(f.ns)); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Reason == v1alpha1.EventReasonAdopted {
				return nil
			}
		}
		return fmt.Errorf("none among %d Events", len(evs.Items))
	})
}
