package dev

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ftrack-operator/ftrack-operator/internal/cli"
	"github.com/ftrack-operator/ftrack-operator/internal/manager"
	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// Defaults of the dev command.
const (
	// devDefaultListen is the emulator's address: a fixed port, so that the URL a user pasted
	// into a client's configuration stays valid across runs.
	devDefaultListen = "127.0.0.1:8765"
	// devDefaultTimeout bounds --until-ready.
	devDefaultTimeout = 5 * time.Minute
	// devFieldOwner is the server-side apply field manager of everything dev applies.
	devFieldOwner = "ftrack-operator-dev"
	// devProgressInterval is how often dev reads the samples' readiness.
	devProgressInterval = time.Second
)

// devOptions are the dev command's settings.
type devOptions struct {
	listen     string
	server     string
	secretFile string
	samples    string
	stateDir   string
	kubeconfig string
	managerLog string
	metrics    string
	untilReady bool
	timeout    time.Duration
	install    string
}

// credentials are an ftrack API user and key. String never shows the key.
type credentials struct {
	user, key string
}

func (c credentials) String() string { return "user " + c.user + ", API key (hidden)" }

const devUsage = `Usage: ftrack-operator dev [flags]

Runs the whole operator locally: a kube-apiserver and etcd (built from source on first use; see
DEVELOPERS.md), the operator's CRDs, an ftrack emulator seeded like a fresh site, the manager,
and the samples of config/samples. It writes a kubeconfig and prints how to reach everything.
Ctrl-C stops it all.

To use a real ftrack server instead of the emulator, pass --server (or set FTRACK_SERVER) and
the credentials in FTRACK_API_USER and FTRACK_API_KEY, or in a file named by --secret. The
samples then create a project on that server.

Flags:
`

// bindDevFlags defines the dev command's flags on fs.
func bindDevFlags(fs *flag.FlagSet, o *devOptions) {
	fs.StringVar(&o.listen, "listen", devDefaultListen, "Address of the ftrack emulator; 127.0.0.1:0 picks a free port.")
	fs.StringVar(&o.server, "server", "", "URL of a real ftrack server to use instead of the emulator (default $FTRACK_SERVER).")
	fs.StringVar(&o.secretFile, "secret", "", "File of KEY=VALUE lines with FTRACK_API_USER and FTRACK_API_KEY for --server (default: those environment variables).")
	fs.StringVar(&o.samples, "samples", "", "Kustomize directory of the objects to apply (default config/samples of the module).")
	fs.StringVar(&o.stateDir, "state-dir", "", "Directory of the kubeconfig, the manager log and the control-plane shims (default .dev of the module).")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "Where to write the kubeconfig (default STATE-DIR/kubeconfig).")
	fs.StringVar(&o.managerLog, "manager-log", "", "File the manager logs to; - is stderr (default STATE-DIR/manager.log).")
	fs.StringVar(&o.metrics, "metrics-listen", "127.0.0.1:0", "Address the manager's Prometheus metrics are served on (port 0 picks a free one, printed at start); 0 turns them off.")
	fs.BoolVar(&o.untilReady, "until-ready", false, "Exit 0 once every sample is Ready, non-zero on --timeout: a smoke test.")
	fs.DurationVar(&o.timeout, "timeout", devDefaultTimeout, "How long --until-ready waits.")
	fs.StringVar(&o.install, "install", installCluster, "Permissions the manager runs with: cluster (config/default's RBAC), namespaced (config/namespaced's: Secrets only in its namespaces, which it alone watches) or admin (the control plane's administrator).")
}

// Run runs the local development environment until ctx is cancelled (Ctrl-C), or with
// --until-ready until every sample is Ready.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = fmt.Fprint(fs.Output(), devUsage)
		fs.PrintDefaults()
	}
	var o devOptions
	bindDevFlags(fs, &o)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &cli.UsageError{Msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return &cli.UsageError{Msg: fmt.Sprintf("unexpected argument %q; see 'ftrack-operator dev -h'", fs.Arg(0))}
	}
	if o.timeout <= 0 {
		return &cli.UsageError{Msg: fmt.Sprintf("--timeout must be positive, got %v", o.timeout)}
	}
	if o.install != installCluster && o.install != installNamespaced && o.install != installAdmin {
		return &cli.UsageError{Msg: fmt.Sprintf("--install must be %s, %s or %s, got %q", installCluster, installNamespaced, installAdmin, o.install)}
	}
	target, err := devTargetFromFlags(o, os.Getenv)
	if err != nil {
		return err
	}
	root, err := testenv.ModuleRoot()
	if err != nil {
		return fmt.Errorf("the dev command runs inside a checkout of ftrack-operator: %w", err)
	}
	o.defaults(root)
	return devSession{opts: o, target: target, root: root, stdout: stdout, stderr: stderr}.run(ctx)
}

// defaults fills the paths left empty from the module root.
func (o *devOptions) defaults(root string) {
	if o.samples == "" {
		o.samples = filepath.Join(root, "config", "samples")
	}
	if o.stateDir == "" {
		o.stateDir = filepath.Join(root, ".dev")
	}
	if o.kubeconfig == "" {
		o.kubeconfig = filepath.Join(o.stateDir, "kubeconfig")
	}
	if o.managerLog == "" {
		o.managerLog = filepath.Join(o.stateDir, "manager.log")
	}
}

// devTarget is the ftrack server the samples go to: the emulator (server empty) or a real one.
type devTarget struct {
	server string
	creds  credentials
}

// devTargetFromFlags chooses the ftrack server: --server or FTRACK_SERVER with credentials from
// --secret or the environment; else the emulator with its default user.
func devTargetFromFlags(o devOptions, getenv func(string) string) (devTarget, error) {
	server := o.server
	if server == "" {
		server = getenv("FTRACK_SERVER")
	}
	if server == "" {
		if o.secretFile != "" {
			return devTarget{}, &cli.UsageError{Msg: "--secret needs --server (or FTRACK_SERVER)"}
		}
		return devTarget{creds: credentials{user: ftracktest.DefaultUser, key: ftracktest.DefaultAPIKey}}, nil
	}
	if !strings.HasPrefix(server, "http://") && !strings.HasPrefix(server, "https://") {
		return devTarget{}, &cli.UsageError{Msg: fmt.Sprintf("--server must start with http:// or https://, got %q", server)}
	}
	creds := credentials{user: getenv("FTRACK_API_USER"), key: getenv("FTRACK_API_KEY")}
	if o.secretFile != "" {
		var err error
		if creds, err = readCredentialsFile(o.secretFile); err != nil {
			return devTarget{}, err
		}
	}
	if creds.user == "" || creds.key == "" {
		return devTarget{}, &cli.UsageError{Msg: "a real ftrack server needs FTRACK_API_USER and FTRACK_API_KEY, in the environment or in the --secret file"}
	}
	return devTarget{server: strings.TrimRight(server, "/"), creds: creds}, nil
}

// readCredentialsFile reads the credentials of --secret (see cli.ReadCredentialsFile).
func readCredentialsFile(path string) (credentials, error) {
	user, key, err := cli.ReadCredentialsFile(path)
	return credentials{user: user, key: key}, err
}

// devSession is one run of the dev command.
type devSession struct {
	opts devOptions
	// metricsURL is where the manager serves its metrics, "" when it does not.
	metricsURL string
	target     devTarget
	root       string
	stdout     io.Writer
	stderr     io.Writer
}

// run starts everything, reports, and stops everything again in reverse order.
func (d devSession) run(ctx context.Context) (err error) {
	started := time.Now()
	if err := os.MkdirAll(d.opts.stateDir, 0o700); err != nil {
		return err
	}
	objs, err := renderSamples(d.opts.samples)
	if err != nil {
		return err
	}

	serverURL, emulator := d.target.server, (*ftracktest.Server)(nil)
	if serverURL == "" {
		emulator, err = ftracktest.NewServer(
			ftracktest.WithAddress(d.opts.listen),
			ftracktest.WithUser(d.target.creds.user, d.target.creds.key),
		)
		if err != nil {
			return fmt.Errorf("starting the ftrack emulator on %s (is another dev running? --listen 127.0.0.1:0 picks a free port): %w", d.opts.listen, err)
		}
		defer func() { err = errors.Join(err, emulator.Close()) }()
		serverURL = emulator.URL
	}

	d.say("starting kube-apiserver and etcd (the first run builds them from source, about 10 minutes on 2 cores)")
	cp, err := startDevControlPlane(ctx, d.root, d.opts.stateDir)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cp.Stop()) }()

	namespace := defaultNamespace(objs)
	if err := cp.writeKubeConfig(d.opts.kubeconfig, namespace); err != nil {
		return err
	}
	defer func() { _ = os.Remove(d.opts.kubeconfig) }()
	metricsAddr, err := freeAddress(d.opts.metrics)
	if err != nil {
		return fmt.Errorf("--metrics-listen: %w", err)
	}
	if metricsAddr != "0" {
		d.metricsURL = "http://" + metricsAddr + "/metrics"
	}
	envFile := filepath.Join(d.opts.stateDir, "ftrack.env")
	if emulator != nil {
		if err := writeFtrackEnv(envFile, serverURL, d.target.creds, d.metricsURL); err != nil {
			return err
		}
		defer func() { _ = os.Remove(envFile) }()
	}

	k8s, err := client.New(cp.config, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		return fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	applier, err := newSampleApplier(k8s, objs, serverURL, d.target.creds)
	if err != nil {
		return err
	}

	logOut, closeLog, err := openManagerLog(d.opts.managerLog, d.stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(logOut)))
	shutdown := 10 * time.Second
	whHost, whPort, whCertDir := cp.webhookServer()
	mgrConfig, watchNamespaces, err := installRBAC(ctx, k8s, cp.config, d.root, d.opts.install)
	if err != nil {
		return err
	}
	mgr, err := manager.New(mgrConfig, manager.Options{
		MetricsAddr: metricsAddr, ProbeAddr: "0", Concurrency: manager.DefaultConcurrency, GracefulShutdown: shutdown,
		WebhookHost: whHost, WebhookPort: whPort, WebhookCertDir: whCertDir, WatchNamespaces: watchNamespaces,
	})
	if err != nil {
		return err
	}
	mgrCtx, stopMgr := context.WithCancel(ctx)
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(mgrCtx) }()
	defer func() {
		stopMgr()
		err = errors.Join(err, <-mgrDone)
	}()

	applied, err := applier.applyBase(ctx)
	if err != nil {
		return err
	}
	d.banner(serverURL, emulator != nil, namespace, applied, len(applier.pending), envFile, time.Since(started))

	return d.watch(ctx, newDevProgress(k8s, trackedObjects(objs), d.stdout), applier, mgrDone, started)
}

// watch applies the samples whose dependencies became Ready and reports progress every
// devProgressInterval until ctx ends, the manager stops, or (with --until-ready) every sample
// is Ready or the timeout passes.
func (d devSession) watch(ctx context.Context, progress *devProgress, applier *sampleApplier, mgrDone chan error, started time.Time) error {
	var deadline <-chan time.Time
	if d.opts.untilReady {
		timer := time.NewTimer(d.opts.timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	tick := time.NewTicker(devProgressInterval)
	defer tick.Stop()
	for {
		if len(applier.pending) > 0 {
			n, err := applier.applyReady(ctx)
			if err != nil && ctx.Err() == nil {
				return err
			}
			if n > 0 {
				d.say("applied %d samples whose dependencies are Ready", n)
			}
		}
		state, err := progress.poll(ctx, applier.waitedOn)
		if err != nil && ctx.Err() == nil {
			d.say("reading the samples' status: %v", err)
		}
		if d.opts.untilReady && err == nil && state.allReady() {
			d.say("every sample is Ready after %s", time.Since(started).Round(time.Second))
			return nil
		}
		select {
		case <-ctx.Done():
			d.say("stopping")
			if d.opts.untilReady {
				// A smoke test that was interrupted did not pass.
				return fmt.Errorf("interrupted with %d of %d samples Ready", state.ready, state.total)
			}
			return nil
		case err := <-mgrDone:
			mgrDone <- err // for the deferred stop
			if err == nil {
				err = errors.New("the manager stopped")
			}
			return fmt.Errorf("manager: %w", err)
		case <-deadline:
			return &notReadyError{timeout: d.opts.timeout, notReady: state.notReady}
		case <-tick.C:
		}
	}
}

// say prints one line of dev's own progress.
func (d devSession) say(format string, args ...any) {
	_, _ = fmt.Fprintf(d.stdout, "dev: "+format+"\n", args...)
}

// banner prints where everything is and how to use it.
func (d devSession) banner(serverURL string, emulator bool, namespace string, applied, pending int, envFile string, took time.Duration) {
	w := &strings.Builder{}
	fmt.Fprintf(w, "\nftrack-operator dev is up (%s)\n\n", took.Round(time.Second))
	if emulator {
		fmt.Fprintf(w, "  ftrack emulator  %s\n", serverURL)
		fmt.Fprintf(w, "  API user         %s\n", d.target.creds.user)
		fmt.Fprintf(w, "  API key          %s\n", d.target.creds.key)
		fmt.Fprintf(w, "  client settings  %s (source it for the Python or JavaScript client)\n", envFile)
	} else {
		fmt.Fprintf(w, "  ftrack server    %s (%s)\n", serverURL, d.target.creds)
	}
	fmt.Fprintf(w, "  kubeconfig       %s\n", d.opts.kubeconfig)
	fmt.Fprintf(w, "  manager log      %s\n", d.opts.managerLog)
	if d.metricsURL != "" {
		fmt.Fprintf(w, "  metrics          %s\n", d.metricsURL)
	}
	fmt.Fprintf(w, "  samples          %d objects from %s, namespace %s", applied, d.opts.samples, namespace)
	if pending > 0 {
		fmt.Fprintf(w, "; %d more once their dependencies are Ready", pending)
	}
	fmt.Fprintf(w, "\n\n")
	fmt.Fprintf(w, "Watch the operator:\n  kubectl --kubeconfig %s -n %s get ftrackconnections,ftrackentities\n", d.opts.kubeconfig, namespace)
	if emulator {
		fmt.Fprintf(w, "Point an ftrack client at the emulator:\n  export FTRACK_SERVER=%s FTRACK_API_USER=%s FTRACK_API_KEY=%s\n",
			serverURL, d.target.creds.user, d.target.creds.key)
	}
	if d.opts.untilReady {
		fmt.Fprintf(w, "\nWaiting up to %s for every sample to be Ready.\n", d.opts.timeout)
	} else {
		fmt.Fprintf(w, "\nPress Ctrl-C to stop everything.\n")
	}
	_, _ = io.WriteString(d.stdout, w.String())
}

// writeFtrackEnv writes the emulator's client settings as a shell file, and the manager's
// metrics URL when it serves them.
func writeFtrackEnv(path, server string, c credentials, metricsURL string) error {
	body := fmt.Sprintf("# The ftrack emulator of 'ftrack-operator dev'; removed when dev stops.\nexport FTRACK_SERVER=%s\nexport FTRACK_API_USER=%s\nexport FTRACK_API_KEY=%s\n", server, c.user, c.key)
	if metricsURL != "" {
		body += "# The operator's Prometheus metrics.\nexport FTRACK_OPERATOR_METRICS=" + metricsURL + "\n"
	}
	return os.WriteFile(path, []byte(body), 0o600)
}

// freeAddress returns addr with a free port in place of port 0 ("0" stays "0": off).
func freeAddress(addr string) (string, error) {
	if addr == "0" {
		return addr, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port != "0" {
		return addr, nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// openManagerLog opens the manager's log destination: "-" is stderr.
func openManagerLog(path string, stderr io.Writer) (io.Writer, func(), error) {
	if path == "-" {
		return stderr, func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600) //nolint:gosec // G304: the user chooses where the log goes
	if err != nil {
		return nil, nil, fmt.Errorf("opening the manager log: %w", err)
	}
	return f, func() { _ = f.Close() }, nil
}
