package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// options are the bench's flags.
type options struct {
	Scenarios      []string      `json:"scenarios"`
	Sizes          []int         `json:"sizes"`
	Latency        time.Duration `json:"latency"`
	Concurrency    int           `json:"concurrency"`
	Creators       int           `json:"creators"`
	RPS            int           `json:"requestsPerSecond"`
	Burst          int           `json:"burst"`
	IdleWindow     time.Duration `json:"idleWindow"`
	IdleSettle     time.Duration `json:"idleSettle"`
	DriftChanges   int           `json:"driftChanges"`
	DriftInterval  time.Duration `json:"driftInterval"`
	DriftBaseline  bool          `json:"driftBaseline"`
	BatchingOff    bool          `json:"batchingOff"`
	BatchingOffMax int           `json:"batchingOffMax"`
	PollResync     time.Duration `json:"pollResync"`
	PhaseTimeout   time.Duration `json:"phaseTimeout"`
	Constrained    bool          `json:"constrained"`
	Webhooks       bool          `json:"webhooks"`

	out, cpuprofile, memprofile, managerLog, apiserverProfile string
}

var allScenarios = []string{"bulk", "plan", "export", "idle", "drift", "memory"}

// The in-flight limits of --constrained (kube-apiserver's defaults are 200 and 400).
const (
	constrainedMutating = 20
	constrainedReadOnly = 50
)

const usage = `Usage: go run ./hack/bench [flags]

Runs the operator against envtest and the ftrack emulator and measures, each against its
baseline in the same run: bulk convergence (against the API server's floor), plan of the
converged show and export of an unmanaged one (against one paged query pass), the adoption
of that export, idle requests, drift correction (events against resync polling) and memory.
Prints a table; --out writes JSON.

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	o := &options{}
	scenarios := fs.String("scenarios", strings.Join(allScenarios, ","), "Comma-separated scenarios to run: "+strings.Join(allScenarios, ", ")+".")
	sizes := fs.String("sizes", "1000,10000", "Comma-separated numbers of FtrackEntity objects for the bulk scenario; memory is measured after the largest.")
	fs.DurationVar(&o.Latency, "latency", 30*time.Millisecond, "Latency the emulator adds to every /api request.")
	fs.IntVar(&o.Concurrency, "concurrency", 100, "MaxConcurrentReconciles of the manager (the manager's --concurrency default is 100).")
	fs.IntVar(&o.Creators, "creators", 16, "Goroutines creating objects, as a GitOps tool applying a directory.")
	fs.IntVar(&o.RPS, "rps", 0, "Request budget of the connections (requests per second); 0 keeps the CRD default.")
	fs.IntVar(&o.Burst, "burst", 0, "Burst of the connections' request budget; 0 keeps the CRD default.")
	fs.DurationVar(&o.IdleWindow, "idle-window", time.Minute, "Measured window of the idle scenario.")
	fs.DurationVar(&o.IdleSettle, "idle-settle", 10*time.Second, "Wait after convergence before the idle window.")
	fs.IntVar(&o.DriftChanges, "drift-changes", 200, "Out-of-band changes of the drift scenario.")
	fs.DurationVar(&o.DriftInterval, "drift-interval", 100*time.Millisecond, "Time between two out-of-band changes with events.")
	fs.BoolVar(&o.DriftBaseline, "drift-baseline", true, "Also measure drift with the event hub off and resync polling.")
	fs.BoolVar(&o.BatchingOff, "batching-off", true, "Also converge each bulk show with batching off (a second manager sending one operation per request).")
	fs.IntVar(&o.BatchingOffMax, "batching-off-max", 0, "Largest show converged with batching off; 0: every size. Unbatched, the request budget alone makes 10,000 objects take about half an hour: --batching-off-max 1000 gives a shorter run.")
	fs.DurationVar(&o.PollResync, "poll-resync", time.Minute, "Resync interval of the polling baseline (the operator's minimum is 1m).")
	fs.DurationVar(&o.PhaseTimeout, "phase-timeout", time.Hour, "Longest wait for a convergence (10,000 objects with batching off take about half an hour).")
	fs.StringVar(&o.out, "out", "", "Write the results as JSON to this file.")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "Write a CPU profile of the whole run to this file.")
	fs.StringVar(&o.memprofile, "memprofile", "", "Write a heap profile, taken at the memory measurement, to this file.")
	fs.StringVar(&o.managerLog, "manager-log", "", "File the manager logs to (default: discarded).")
	fs.BoolVar(&o.Constrained, "constrained", false, "Run kube-apiserver and etcd as a busy shared cluster would: both on one CPU (the last one), with at most "+strconv.Itoa(constrainedMutating)+" mutating and "+strconv.Itoa(constrainedReadOnly)+" read-only requests in flight.")
	fs.BoolVar(&o.Webhooks, "webhooks", true, "Install the admission webhooks (config/webhook) and serve them from the manager, as an install with cert-manager does; --webhooks=false measures without them.")
	fs.StringVar(&o.apiserverProfile, "apiserver-cpuprofile", "", "Write a 30 s CPU profile of kube-apiserver, taken from the first create of the largest bulk show, to this file.")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for s := range strings.SplitSeq(*scenarios, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(allScenarios, s) {
			return nil, fmt.Errorf("--scenarios: unknown scenario %q; known: %s", s, strings.Join(allScenarios, ", "))
		}
		o.Scenarios = append(o.Scenarios, s)
	}
	for s := range strings.SplitSeq(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 {
			return nil, fmt.Errorf("--sizes: %q is not a number of objects (at least 2)", s)
		}
		o.Sizes = append(o.Sizes, n)
	}
	slices.Sort(o.Sizes)
	o.Sizes = slices.Compact(o.Sizes)
	switch {
	case o.Latency < 0:
		return nil, errors.New("--latency must not be negative")
	case o.Concurrency < 1 || o.Creators < 1:
		return nil, errors.New("--concurrency and --creators must be at least 1")
	case o.DriftChanges < 1:
		return nil, errors.New("--drift-changes must be at least 1")
	case o.IdleWindow <= 0:
		return nil, errors.New("--idle-window must be positive")
	case o.PollResync < time.Minute:
		return nil, errors.New("--poll-resync must be at least 1m, the operator's minimum")
	case (o.has("plan") || o.has("export")) && !o.has("bulk"):
		return nil, errors.New("--scenarios: plan and export run at the bulk sizes, after the bulk show; add bulk")
	}
	return o, nil
}

func (o *options) has(s string) bool { return slices.Contains(o.Scenarios, s) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			err = errors.Join(err, f.Close())
		}()
	}
	logOut := io.Discard
	if o.managerLog != "" {
		f, err := os.Create(o.managerLog)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, f.Close()) }()
		logOut = f
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(logOut), zap.Level(zapcore.InfoLevel)))

	started := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "[%6.1fs] %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
	}
	res := &results{Machine: describeMachine(), Settings: *o, Started: started.UTC()}

	logf("starting kube-apiserver and etcd")
	var envOpts []testenv.Option
	if o.Constrained {
		envOpts = append(envOpts, testenv.WithAPIServerArgs(map[string]string{
			"max-mutating-requests-inflight": strconv.Itoa(constrainedMutating),
			"max-requests-inflight":          strconv.Itoa(constrainedReadOnly),
		}))
	}
	if o.Webhooks {
		root, err := testenv.ModuleRoot()
		if err != nil {
			return err
		}
		envOpts = append(envOpts, testenv.WithWebhooks(filepath.Join(root, "config", "webhook", "manifests.yaml")))
	}
	env, err := testenv.Start(ctx, envOpts...)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, env.Stop()) }()
	var hooks *webhookServer
	if o.Webhooks {
		host, port, dir := env.WebhookServer()
		hooks = &webhookServer{host: host, port: port, certDir: dir}
	}
	if o.Constrained {
		cpu := runtime.NumCPU() - 1
		n, err := pinChildren(cpu, "kube-apiserver", "etcd")
		if err != nil {
			return fmt.Errorf("--constrained: %w", err)
		}
		if n != 2 {
			return fmt.Errorf("--constrained: pinned %d processes, want kube-apiserver and etcd", n)
		}
		logf("constrained: kube-apiserver and etcd pinned to CPU %d, %d mutating and %d read-only requests in flight", cpu, constrainedMutating, constrainedReadOnly)
	}
	emulator, err := ftracktest.NewServer(ftracktest.WithLatency(o.Latency, 0))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, emulator.Close()) }()
	k8s, err := client.New(unthrottled(env.Config), client.Options{Scheme: newScheme()})
	if err != nil {
		return err
	}
	var namespaces []string
	sizes := o.Sizes
	if !o.has("bulk") {
		sizes = nil
	}
	for _, n := range sizes {
		namespaces = append(namespaces, fmt.Sprintf("bench-op-%d", n))
		if o.has("export") {
			namespaces = append(namespaces, adoptNamespace(n))
		}
	}
	namespaces = append(namespaces, "bench-op-1000", "bench-drift", "bench-drift-poll")
	slices.Sort(namespaces)
	namespaces = slices.Compact(namespaces)
	for _, ns := range namespaces {
		if err := createNamespace(ctx, k8s, ns); err != nil {
			return err
		}
	}
	mgr, err := startManager(ctx, env.Config, o.Concurrency, namespaces, hooks)
	if err != nil {
		return err
	}
	b := &bench{opts: *o, cfg: env.Config, k8s: k8s, emulator: emulator, mgr: mgr, results: res, logf: logf}
	defer func() {
		if b.mgr != nil {
			err = errors.Join(err, b.mgr.stop())
		}
	}()
	logf("emulator at %s with %s latency; manager with %d concurrent reconciles", emulator.URL, o.Latency, o.Concurrency)

	for _, n := range sizes {
		if err := b.runBulk(ctx, n); err != nil {
			return fmt.Errorf("bulk %d: %w", n, err)
		}
		if o.has("plan") {
			if err := b.runPlan(ctx, n); err != nil {
				return fmt.Errorf("plan %d: %w", n, err)
			}
		}
		if o.has("export") {
			if err := b.runExport(ctx, n); err != nil {
				return fmt.Errorf("export %d: %w", n, err)
			}
		}
	}
	if o.has("idle") {
		if err := b.runIdle(ctx); err != nil {
			return fmt.Errorf("idle: %w", err)
		}
	}
	if o.has("drift") {
		if err := b.runDrift(ctx); err != nil {
			return fmt.Errorf("drift: %w", err)
		}
	}
	if o.has("memory") {
		if err := b.runMemory(ctx); err != nil {
			return fmt.Errorf("memory: %w", err)
		}
	}
	res.Seconds = time.Since(started).Seconds()
	printTable(stdout, res)
	if o.out != "" {
		data, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.out, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// machine describes where the figures come from.
type machine struct {
	CPUs      int    `json:"cpus"`
	MemoryMiB int64  `json:"memoryMiB"`
	Go        string `json:"go"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUModel  string `json:"cpuModel,omitempty"`
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(data)) {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					kb, _ := strconv.ParseInt(f[0], 10, 64)
					m.MemoryMiB = kb >> 10
				}
			}
		}
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(data)) {
			if rest, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPUModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
				break
			}
		}
	}
	return m
}

// printTable writes the results with the goals they are held against.
func printTable(w io.Writer, r *results) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	defer func() { _ = tw.Flush() }()
	fmt.Fprintf(tw, "machine\t%d CPUs, %d MiB, %s %s/%s\t\t\n", r.Machine.CPUs, r.Machine.MemoryMiB, r.Machine.Go, r.Machine.OS, r.Machine.Arch)
	fmt.Fprintf(tw, "settings\tlatency %s, concurrency %d, creators %d, webhooks %t, constrained %t\t\t\n", r.Settings.Latency, r.Settings.Concurrency, r.Settings.Creators, r.Settings.Webhooks, r.Settings.Constrained)
	fmt.Fprintln(tw, "figure\tmeasured\tbaseline\tgoal")
	for _, b := range r.Bulk {
		fmt.Fprintf(tw, "bulk %d: seconds until all Ready\t%.1f s (%.2f× floor)\tfloor %.1f s\t≤ 1.3× floor\n", b.N, b.OperatorSeconds, b.Ratio, b.FloorSeconds)
		fmt.Fprintf(tw, "bulk %d: seconds until the operator is quiet\t%.1f s (%.2f× floor)\t\t\n", b.N, b.QuietSeconds, b.QuietSeconds/b.FloorSeconds)
		off := "batching off: not measured"
		if b.BatchingOffSkipped != "" {
			off = "batching off: " + b.BatchingOffSkipped
		}
		if o := b.BatchingOff; o != nil {
			off = fmt.Sprintf("batching off: %d (%.4f per entity)", o.Requests, o.RequestsPerEntity)
		}
		fmt.Fprintf(tw, "bulk %d: ftrack requests\t%d (%.4f per entity; %d until all Ready)\t%s\t≤ 0.05 per entity\n", b.N, b.Requests, b.RequestsPerEntity, b.RequestsUntilReady, off)
		fmt.Fprintf(tw, "bulk %d: API server writes per object\t%.2f (%.0f)\tfloor %.2f (%.0f)\t\n", b.N, b.APIWritesPerObject, b.APIWrites.total(), b.FloorAPIWritesPerObject, b.FloorAPIWrites.total())
		if o := b.BatchingOff; o != nil {
			fmt.Fprintf(tw, "bulk %d: batched / batching off\ttime %.2f×, requests %.3f×\tbatching off: all Ready after %.1f s\t\n", b.N, o.TimeRatio, o.RequestRatio, o.OperatorSeconds)
		}
	}
	for _, l := range lifecycleLines(r) {
		fmt.Fprintln(tw, l)
	}
	if i := r.Idle; i != nil {
		fmt.Fprintf(tw, "idle: requests per entity per hour\t%.5f (%d in %.0f s, %d entities)\t\t≤ 0.01\n", i.RequestsPerEntityPerHour, i.Requests, i.WindowSeconds, i.Entities)
	}
	if d := r.Drift; d != nil {
		base := "not measured"
		if d.Polling != nil {
			base = fmt.Sprintf("polling every %.0f s: p50 %.0f ms, p99 %.0f ms", d.PollingResyncSeconds, d.Polling.P50ms, d.Polling.P99ms)
		}
		fmt.Fprintf(tw, "drift: correction time (%d changes)\tp50 %.0f ms, p99 %.0f ms\t%s\tp50 ≤ 200 ms, p99 ≤ 1000 ms\n", d.Changes, d.Events.P50ms, d.Events.P99ms, base)
	}
	if m := r.Memory; m != nil {
		fmt.Fprintf(tw, "memory at %d entities: manager RSS\t%.1f MiB (heap %.1f MiB)\tprocess %.1f MiB, without manager %.1f MiB\t≤ 200 MiB\n", m.Entities, m.ManagerRSSMiB, m.ManagerHeapMiB, m.ProcessRSSMiB, m.WithoutManagerRSSMiB)
	}
	fmt.Fprintf(tw, "run took\t%.0f s\t\t\n", r.Seconds)
}
