package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// bench is one run: the control plane, the emulator, the manager and the results.
type bench struct {
	opts     options
	cfg      *rest.Config
	k8s      client.Client
	emulator *ftracktest.Server
	mgr      *managerHandle
	results  *results
	// managed counts the FtrackEntity objects the manager keeps Ready.
	managed int
	logf    func(format string, args ...any)
}

// BulkResult is the bulk convergence of N objects against its floor.
type BulkResult struct {
	N int `json:"n"`
	// FloorSeconds is the time the API server needs for N creates and one status patch
	// each, with no operator.
	FloorSeconds float64 `json:"floorSeconds"`
	// OperatorSeconds is the time from the first create until the last object is Ready.
	OperatorSeconds float64 `json:"operatorSeconds"`
	// Ratio is OperatorSeconds / FloorSeconds.
	Ratio float64 `json:"ratio"`
	// FloorAPIWrites are the API server's write requests of the floor, by verb and resource.
	FloorAPIWrites apiCounts `json:"floorAPIWrites"`
	// FloorAPIWritesPerObject is their total per object.
	FloorAPIWritesPerObject float64 `json:"floorAPIWritesPerObject"`
	// APIWrites are the API server's write requests from the first create until all were
	// Ready: the creates and everything the operator wrote (status, annotations, Events).
	APIWrites apiCounts `json:"apiWrites"`
	// APIWritesPerObject is their total per object.
	APIWritesPerObject float64 `json:"apiWritesPerObject"`
	// QuietSeconds is the time from the first create until the operator's last request
	// (after which it sent none for the quiet period): reconciles still queued when the last
	// object became Ready run until then.
	QuietSeconds float64 `json:"quietSeconds"`
	// RequestsUntilReady is the number of /api requests until the last object was Ready.
	RequestsUntilReady int `json:"requestsUntilReady"`
	// Requests is the number of /api requests the emulator received until the operator went
	// quiet.
	Requests int `json:"requests"`
	// RequestsPerEntity is Requests / N.
	RequestsPerEntity float64 `json:"requestsPerEntity"`
	// Operations counts the operations of those requests by action.
	Operations map[string]int `json:"operations"`
	// BatchingOff is the same show converged by a second manager whose commit coalescers
	// send one operation per request, with as many requests in flight as reconciles; nil
	// when not measured.
	BatchingOff *BulkBaseline `json:"batchingOff,omitempty"`
	// BatchingOffSkipped says why BatchingOff was not measured.
	BatchingOffSkipped string `json:"batchingOffSkipped,omitempty"`
}

// BulkBaseline is a bulk run of the same show in another configuration, in the same process
// run, right after the measured one.
type BulkBaseline struct {
	// Config describes the configuration.
	Config string `json:"config"`
	// OperatorSeconds is the time from the first create until the last object is Ready.
	OperatorSeconds float64 `json:"operatorSeconds"`
	// Requests is the number of /api requests until the operator went quiet.
	Requests int `json:"requests"`
	// RequestsPerEntity is Requests / N.
	RequestsPerEntity float64 `json:"requestsPerEntity"`
	// Operations counts the operations of those requests by action.
	Operations map[string]int `json:"operations"`
	// TimeRatio is the measured run's OperatorSeconds / this OperatorSeconds (batched
	// against unbatched: below 1 means the measured run was faster).
	TimeRatio float64 `json:"timeRatio"`
	// RequestRatio is the measured run's Requests / these Requests.
	RequestRatio float64 `json:"requestRatio"`
}

// IdleResult is the cost of keeping converged entities in sync when nothing changes.
type IdleResult struct {
	Entities                   int     `json:"entities"`
	WindowSeconds              float64 `json:"windowSeconds"`
	Requests                   int     `json:"requests"`
	RequestsPerEntityPerHour   float64 `json:"requestsPerEntityPerHour"`
	EventHubConnectionsAtStart int     `json:"eventHubConnectionsAtStart"`
	// Operations counts the operations of the window's requests by action.
	Operations map[string]int `json:"operations"`
	// Reconciles counts the window's reconciles by controller and result.
	Reconciles map[string]float64 `json:"reconciles"`
}

// DriftResult is how long out-of-band changes take to be corrected.
type DriftResult struct {
	Changes int `json:"changes"`
	// Events is the correction time with the event hub connected.
	Events Percentiles `json:"events"`
	// Polling is the baseline: event hub off, the shortest resync interval.
	Polling *Percentiles `json:"polling,omitempty"`
	// PollingResyncSeconds is the resync interval of the baseline.
	PollingResyncSeconds float64 `json:"pollingResyncSeconds,omitempty"`
}

// Percentiles of a set of durations, in milliseconds.
type Percentiles struct {
	N     int     `json:"n"`
	P50ms float64 `json:"p50ms"`
	P99ms float64 `json:"p99ms"`
	MaxMs float64 `json:"maxMs"`
}

// MemoryResult is the memory of the process with the manager holding Entities objects, and
// without the manager.
type MemoryResult struct {
	Entities int `json:"entities"`
	// With the manager running, after a garbage collection.
	ProcessRSSMiB  float64 `json:"processRSSMiB"`
	ProcessHeapMiB float64 `json:"processHeapMiB"`
	// After the manager stopped, a garbage collection and a return of free memory: the
	// emulator (holding every entity) and the bench itself.
	WithoutManagerRSSMiB  float64 `json:"withoutManagerRSSMiB"`
	WithoutManagerHeapMiB float64 `json:"withoutManagerHeapMiB"`
	// The manager's share: the difference.
	ManagerRSSMiB  float64 `json:"managerRSSMiB"`
	ManagerHeapMiB float64 `json:"managerHeapMiB"`
}

type results struct {
	Machine  machine        `json:"machine"`
	Settings options        `json:"settings"`
	Bulk     []BulkResult   `json:"bulk,omitempty"`
	Idle     *IdleResult    `json:"idle,omitempty"`
	Drift    *DriftResult   `json:"drift,omitempty"`
	Memory   *MemoryResult  `json:"memory,omitempty"`
	Plan     []PlanResult   `json:"plan,omitempty"`
	Export   []ExportResult `json:"export,omitempty"`
	Started  time.Time      `json:"started"`
	Seconds  float64        `json:"seconds"`
}

// runBulk measures the floor and the operator for n objects.
func (b *bench) runBulk(ctx context.Context, n int) error {
	floorNS := fmt.Sprintf("bench-floor-%d", n)
	opNS := fmt.Sprintf("bench-op-%d", n)
	if err := createNamespace(ctx, b.k8s, floorNS); err != nil {
		return err
	}
	// The floor: the same objects, created and given one status patch each, no operator.
	objs := showObjects(floorNS, fmt.Sprintf("show%d", n), n)
	apiBase, err := readAPICounts(ctx, b.cfg)
	if err != nil {
		return err
	}
	start := time.Now()
	err = forEach(ctx, b.opts.Creators, objs, func(ctx context.Context, o *v1alpha1.FtrackEntity) error {
		if err := b.k8s.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %s: %w", o.Name, err)
		}
		base := o.DeepCopy()
		now := metav1.Now()
		o.Status.ID = "00000000-0000-4000-8000-" + fmt.Sprintf("%012d", time.Now().UnixNano()%1e12)
		o.Status.Path = o.Name
		o.Status.ObservedGeneration = o.Generation
		o.Status.Ownership = v1alpha1.OwnershipCreated
		o.Status.LastSyncTime = &now
		meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionSynced, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSynced, Message: o.Spec.EntityType + " " + o.Status.ID + " holds the spec", ObservedGeneration: o.Generation})
		meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSynced, Message: o.Spec.EntityType + " " + o.Status.ID + " holds the spec", ObservedGeneration: o.Generation})
		if err := b.k8s.Status().Patch(ctx, o, client.MergeFrom(base)); err != nil {
			return fmt.Errorf("patching the status of %s: %w", o.Name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	floor := time.Since(start)
	apiNow, err := readAPICounts(ctx, b.cfg)
	if err != nil {
		return err
	}
	floorWrites := apiNow.writesSince(apiBase)
	b.logf("bulk %d: floor %s; API server writes %v", n, floor.Round(time.Millisecond), floorWrites)
	// The floor's objects stay: deleting them would load the API server during the
	// operator's run. The manager does not watch their namespace.

	if err := createConnection(ctx, b.k8s, opNS, b.emulator.URL, b.opts.RPS, b.opts.Burst, nil); err != nil {
		return err
	}
	if err := waitConnection(ctx, b.k8s, opNS, true); err != nil {
		return err
	}
	b.emulator.ResetRequests()
	objs = showObjects(opNS, fmt.Sprintf("show%d", n), n)
	if apiBase, err = readAPICounts(ctx, b.cfg); err != nil {
		return err
	}
	profiled := make(chan error, 1)
	if b.opts.apiserverProfile != "" && n == slices.Max(b.opts.Sizes) {
		go func() { profiled <- profileAPIServer(ctx, b.cfg, 30*time.Second, b.opts.apiserverProfile) }()
	} else {
		profiled <- nil
	}
	start = time.Now()
	var createdAt sync.Map // name → time.Time
	if err := forEach(ctx, b.opts.Creators, objs, func(ctx context.Context, o *v1alpha1.FtrackEntity) error {
		if err := b.k8s.Create(ctx, o); err != nil {
			return err
		}
		createdAt.Store(o.Name, time.Now())
		return nil
	}); err != nil {
		return err
	}
	created := time.Since(start)
	last, err := b.mgr.ready.waitReady(ctx, opNS, n, b.opts.PhaseTimeout)
	if err != nil {
		return err
	}
	op := last.Sub(start)
	untilReady := len(b.emulator.Requests())
	if apiNow, err = readAPICounts(ctx, b.cfg); err != nil {
		return err
	}
	opWrites := apiNow.writesSince(apiBase)
	if err := <-profiled; err != nil {
		return err
	}
	res0 := latencyByType(objs, &createdAt, b.mgr.ready)
	b.logf("bulk %d: from create to Ready by type: %s", n, res0)
	b.logf("bulk %d: all Ready after %s with %d requests; waiting for the operator to go quiet", n, op.Round(time.Millisecond), untilReady)
	reqs, err := b.waitQuiet(ctx, 5*time.Second, b.opts.PhaseTimeout)
	if err != nil {
		return err
	}
	quiet := op
	if len(reqs) > 0 {
		quiet = max(quiet, reqs[len(reqs)-1].Time.Sub(start))
	}
	ops := countActions(reqs)
	b.managed += n
	res := BulkResult{
		N: n, FloorSeconds: floor.Seconds(), OperatorSeconds: op.Seconds(), Ratio: op.Seconds() / floor.Seconds(),
		QuietSeconds: quiet.Seconds(), RequestsUntilReady: untilReady, Requests: len(reqs), RequestsPerEntity: float64(len(reqs)) / float64(n), Operations: ops,
		FloorAPIWrites: floorWrites, FloorAPIWritesPerObject: floorWrites.total() / float64(n),
		APIWrites: opWrites, APIWritesPerObject: opWrites.total() / float64(n),
	}
	b.logf("bulk %d: API server writes until all Ready: %v (%.2f per object; the floor's %.2f)", n, opWrites, res.APIWritesPerObject, res.FloorAPIWritesPerObject)
	b.logf("bulk %d: creates done after %s, all Ready after %s (%.2f× the floor), quiet after %s, %d requests (%.4f per entity; %d until Ready); operations %v",
		n, created.Round(time.Millisecond), op.Round(time.Millisecond), res.Ratio, quiet.Round(time.Millisecond), res.Requests, res.RequestsPerEntity, untilReady, ops)
	switch {
	case b.opts.BatchingOff && b.opts.BatchingOffMax > 0 && n > b.opts.BatchingOffMax:
		res.BatchingOffSkipped = fmt.Sprintf("not measured above --batching-off-max %d", b.opts.BatchingOffMax)
	case b.opts.BatchingOff:
		off, err := b.runBulkUnbatched(ctx, n)
		if err != nil {
			return fmt.Errorf("batching off: %w", err)
		}
		off.TimeRatio = res.OperatorSeconds / off.OperatorSeconds
		off.RequestRatio = float64(res.Requests) / float64(off.Requests)
		res.BatchingOff = off
		b.logf("bulk %d, batching off: all Ready after %.1f s with %d requests; batched/unbatched: time %.2f, requests %.3f",
			n, off.OperatorSeconds, off.Requests, off.TimeRatio, off.RequestRatio)
	}
	b.results.Bulk = append(b.results.Bulk, res)
	return nil
}

// runBulkUnbatched converges the same show again, in namespace bench-off-n under a project
// of its own, with a second manager whose coalescers send one operation per request and
// allow as many requests in flight as reconciles. The first manager is idle meanwhile; the
// second is stopped afterwards, so its objects count in no later scenario.
func (b *bench) runBulkUnbatched(ctx context.Context, n int) (_ *BulkBaseline, err error) {
	ns := fmt.Sprintf("bench-off-%d", n)
	if err := createNamespace(ctx, b.k8s, ns); err != nil {
		return nil, err
	}
	mgr, err := startManager(ctx, b.cfg, b.opts.Concurrency, []string{ns}, nil,
		connection.WithMaxBatchOperations(1), connection.WithMaxInFlight(b.opts.Concurrency))
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, mgr.stop()) }()
	if err := createConnection(ctx, b.k8s, ns, b.emulator.URL, b.opts.RPS, b.opts.Burst, nil); err != nil {
		return nil, err
	}
	if err := waitConnection(ctx, b.k8s, ns, true); err != nil {
		return nil, err
	}
	b.emulator.ResetRequests()
	objs := showObjects(ns, fmt.Sprintf("show%doff", n), n)
	start := time.Now()
	if err := forEach(ctx, b.opts.Creators, objs, func(ctx context.Context, o *v1alpha1.FtrackEntity) error {
		return b.k8s.Create(ctx, o)
	}); err != nil {
		return nil, err
	}
	last, err := mgr.ready.waitReady(ctx, ns, n, b.opts.PhaseTimeout)
	if err != nil {
		return nil, err
	}
	op := last.Sub(start)
	b.logf("bulk %d, batching off: all Ready after %s; waiting for the operator to go quiet", n, op.Round(time.Millisecond))
	reqs, err := b.waitQuiet(ctx, 5*time.Second, b.opts.PhaseTimeout)
	if err != nil {
		return nil, err
	}
	return &BulkBaseline{
		Config:          fmt.Sprintf("WithMaxBatchOperations(1), WithMaxInFlight(%d)", b.opts.Concurrency),
		OperatorSeconds: op.Seconds(), Requests: len(reqs), RequestsPerEntity: float64(len(reqs)) / float64(n),
		Operations: countActions(reqs),
	}, nil
}

// waitQuiet waits until the emulator received no request for quiet and returns the request
// log.
func (b *bench) waitQuiet(ctx context.Context, quiet, timeout time.Duration) ([]ftracktest.RequestInfo, error) {
	deadline := time.Now().Add(timeout)
	seen, since := -1, time.Now()
	for {
		n := b.emulator.RequestCount("query") + b.emulator.RequestCount("create") + b.emulator.RequestCount("update") + b.emulator.RequestCount("delete")
		if n != seen {
			seen, since = n, time.Now()
		}
		if time.Since(since) >= quiet {
			return b.emulator.Requests(), nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the operator still sends requests after %s", timeout)
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

// runIdle counts the requests of a quiet window after convergence.
func (b *bench) runIdle(ctx context.Context) error {
	if b.managed == 0 {
		if err := b.runBulk(ctx, 1000); err != nil {
			return err
		}
	}
	b.logf("idle: settling for %s, then measuring %s", b.opts.IdleSettle, b.opts.IdleWindow)
	if err := sleep(ctx, b.opts.IdleSettle); err != nil {
		return err
	}
	hubs := b.emulator.EventHubConnections()
	b.emulator.ResetRequests()
	before := reconcileTotals()
	if err := sleep(ctx, b.opts.IdleWindow); err != nil {
		return err
	}
	reconciles := delta(before, reconcileTotals())
	reqs := b.emulator.Requests()
	n := len(reqs)
	perHour := float64(n) / float64(b.managed) / b.opts.IdleWindow.Hours()
	b.results.Idle = &IdleResult{Entities: b.managed, WindowSeconds: b.opts.IdleWindow.Seconds(), Requests: n, RequestsPerEntityPerHour: perHour,
		EventHubConnectionsAtStart: hubs, Operations: countActions(reqs), Reconciles: reconciles}
	b.logf("idle: %d requests in %s for %d entities: %.5f per entity per hour; operations %v; reconciles %v", n, b.opts.IdleWindow, b.managed, perHour, b.results.Idle.Operations, reconciles)
	return nil
}

// runDrift changes shots out of band and measures how long each takes to be corrected, with
// events and, as the baseline, with resync polling only.
func (b *bench) runDrift(ctx context.Context) error {
	oob, err := ftrack.NewSession(ctx,
		ftrack.WithServerURL(b.emulator.URL),
		ftrack.WithAPIUser(ftracktest.DefaultUser),
		ftrack.WithAPIKey(ftracktest.DefaultAPIKey),
		ftrack.WithoutSchemaCache(),
		ftrack.WithPluginPaths(),
	)
	if err != nil {
		return fmt.Errorf("opening the out-of-band session: %w", err)
	}
	defer func() { _ = oob.Close() }()
	res := &DriftResult{Changes: b.opts.DriftChanges}
	b.results.Drift = res

	shots, err := b.driftShow(ctx, "bench-drift", nil)
	if err != nil {
		return err
	}
	durations, err := b.applyDrift(ctx, oob, shots, b.opts.DriftInterval, time.Minute)
	if err != nil {
		return err
	}
	res.Events = percentiles(durations)
	b.logf("drift with events: %d changes, p50 %.1f ms, p99 %.1f ms, max %.1f ms", res.Events.N, res.Events.P50ms, res.Events.P99ms, res.Events.MaxMs)
	if !b.opts.DriftBaseline {
		return nil
	}
	resync := b.opts.PollResync
	shots, err = b.driftShow(ctx, "bench-drift-poll", func(c *v1alpha1.FtrackConnection) {
		off := false
		c.Spec.EventHub.Enabled = &off
		c.Spec.ResyncInterval = &metav1.Duration{Duration: resync}
	})
	if err != nil {
		return err
	}
	durations, err = b.applyDrift(ctx, oob, shots, 0, 3*resync)
	if err != nil {
		return err
	}
	p := percentiles(durations)
	res.Polling, res.PollingResyncSeconds = &p, resync.Seconds()
	b.logf("drift with polling every %s: p50 %.1f ms, p99 %.1f ms", resync, p.P50ms, p.P99ms)
	return nil
}

// driftShot is a converged shot and the description its spec gives it.
type driftShot struct {
	id, want string
}

// driftShow applies a show with enough shots for the drift changes in namespace ns and
// waits until it is Ready.
func (b *bench) driftShow(ctx context.Context, ns string, mutate func(*v1alpha1.FtrackConnection)) ([]driftShot, error) {
	if err := createNamespace(ctx, b.k8s, ns); err != nil {
		return nil, err
	}
	if err := createConnection(ctx, b.k8s, ns, b.emulator.URL, b.opts.RPS, b.opts.Burst, mutate); err != nil {
		return nil, err
	}
	if err := waitConnection(ctx, b.k8s, ns, mutate == nil); err != nil {
		return nil, err
	}
	// A show without tasks: a project, sequences and the shots.
	var objs []*v1alpha1.FtrackEntity
	// Project names are unique in ftrack: one per namespace.
	for _, o := range showObjects(ns, ns, b.opts.DriftChanges*(1+tasksPerShot)+b.opts.DriftChanges/shotsPerSequence+2) {
		if o.Spec.EntityType != "Task" {
			objs = append(objs, o)
		}
	}
	if err := forEach(ctx, b.opts.Creators, objs, func(ctx context.Context, o *v1alpha1.FtrackEntity) error {
		return b.k8s.Create(ctx, o)
	}); err != nil {
		return nil, err
	}
	if _, err := b.mgr.ready.waitReady(ctx, ns, len(objs), b.opts.PhaseTimeout); err != nil {
		return nil, err
	}
	b.managed += len(objs)
	var list v1alpha1.FtrackEntityList
	if err := b.k8s.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	var shots []driftShot
	for _, e := range list.Items {
		if e.Spec.EntityType == "Shot" && len(shots) < b.opts.DriftChanges {
			shots = append(shots, driftShot{id: e.Status.ID, want: shotDescription(e.Name)})
		}
	}
	if len(shots) < b.opts.DriftChanges {
		return nil, fmt.Errorf("%d shots in %s, want %d", len(shots), ns, b.opts.DriftChanges)
	}
	return shots, nil
}

// applyDrift changes the description of every shot through oob, interval apart, and returns
// for each the time from the change's commit until the emulator holds the spec's value again.
func (b *bench) applyDrift(ctx context.Context, oob *ftrack.Session, shots []driftShot, interval, timeout time.Duration) ([]time.Duration, error) {
	var mu sync.Mutex
	changedAt := make([]time.Time, len(shots))
	took := make([]time.Duration, len(shots))
	done := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		// Watch the emulator's store for corrections.
		deadline := time.Now().Add(timeout + time.Duration(len(shots))*interval)
		remaining := len(shots)
		for remaining > 0 {
			if time.Now().After(deadline) {
				done <- fmt.Errorf("%d of %d changes not corrected within %s", remaining, len(shots), timeout)
				return
			}
			remaining = 0
			mu.Lock()
			for i, s := range shots {
				if took[i] > 0 {
					continue
				}
				if changedAt[i].IsZero() {
					remaining++
					continue
				}
				rec, ok := b.emulator.Get("Shot", s.id)
				if ok && rec["description"] == s.want {
					took[i] = time.Since(changedAt[i])
					continue
				}
				remaining++
			}
			mu.Unlock()
			select {
			case <-stop:
				done <- ctx.Err()
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
		done <- nil
	}()
	for i, s := range shots {
		_, err := oob.Call(ctx, []map[string]any{{
			"action": "update", "entity_type": "Shot", "entity_key": []any{s.id},
			"entity_data": map[string]any{"description": "changed in ftrack " + strconv.Itoa(i)},
		}})
		if err != nil {
			close(stop)
			return nil, errors.Join(fmt.Errorf("out-of-band change %d: %w", i, err), <-done)
		}
		mu.Lock()
		changedAt[i] = time.Now()
		mu.Unlock()
		if interval > 0 {
			if err := sleep(ctx, interval); err != nil {
				close(stop)
				return nil, errors.Join(err, <-done)
			}
		}
	}
	if err := <-done; err != nil {
		return nil, err
	}
	return took, nil
}

// countActions counts the operations of requests by action.
func countActions(reqs []ftracktest.RequestInfo) map[string]int {
	ops := map[string]int{}
	for _, r := range reqs {
		for _, a := range r.Actions {
			ops[a]++
		}
	}
	return ops
}

func percentiles(d []time.Duration) Percentiles {
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(q float64) float64 {
		if len(s) == 0 {
			return 0
		}
		i := int(q*float64(len(s))+0.5) - 1
		i = min(max(i, 0), len(s)-1)
		return float64(s[i]) / float64(time.Millisecond)
	}
	return Percentiles{N: len(s), P50ms: at(0.50), P99ms: at(0.99), MaxMs: at(1)}
}

// runMemory measures the process with the manager, then stops the manager and measures again.
func (b *bench) runMemory(ctx context.Context) error {
	b.emulator.ResetRequests()
	rss, heap := measureMemory()
	if b.opts.memprofile != "" {
		if err := writeHeapProfile(b.opts.memprofile); err != nil {
			return err
		}
	}
	if err := b.mgr.stop(); err != nil {
		return err
	}
	b.mgr = nil
	rss2, heap2 := measureMemory()
	b.results.Memory = &MemoryResult{
		Entities: b.managed, ProcessRSSMiB: rss, ProcessHeapMiB: heap,
		WithoutManagerRSSMiB: rss2, WithoutManagerHeapMiB: heap2,
		ManagerRSSMiB: rss - rss2, ManagerHeapMiB: heap - heap2,
	}
	b.logf("memory at %d entities: process RSS %.1f MiB, heap %.1f MiB; without the manager %.1f / %.1f MiB; the manager's share %.1f / %.1f MiB",
		b.managed, rss, heap, rss2, heap2, rss-rss2, heap-heap2)
	return nil
}

// measureMemory collects garbage, returns free memory to the OS and reads the RSS and the
// heap in use, in MiB.
func measureMemory() (rssMiB, heapMiB float64) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(readRSS()) / (1 << 20), float64(ms.HeapInuse) / (1 << 20)
}

// readRSS returns VmRSS of /proc/self/status in bytes, 0 where there is none.
func readRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// latencyByType summarises, per entity type, the time from each object's create until the
// manager's cache showed it Ready.
func latencyByType(objs []*v1alpha1.FtrackEntity, createdAt *sync.Map, ready *readyTracker) string {
	byType := map[string][]time.Duration{}
	var types []string
	for _, o := range objs {
		c, ok := createdAt.Load(o.Name)
		if !ok {
			continue
		}
		r, ok := ready.readyTime(o.Namespace, o.Name)
		if !ok {
			continue
		}
		if _, seen := byType[o.Spec.EntityType]; !seen {
			types = append(types, o.Spec.EntityType)
		}
		byType[o.Spec.EntityType] = append(byType[o.Spec.EntityType], r.Sub(c.(time.Time)))
	}
	parts := make([]string, 0, len(types))
	for _, t := range types {
		d := byType[t]
		slices.Sort(d)
		q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))].Round(time.Millisecond) }
		parts = append(parts, fmt.Sprintf("%s (%d) p50 %s p90 %s max %s", t, len(d), q(0.5), q(0.9), d[len(d)-1].Round(time.Millisecond)))
	}
	return strings.Join(parts, "; ")
}
