// Package manager builds and runs the operator's controller-runtime manager: the reconcilers
// of internal/connection and controllers, the admission webhooks, metrics and probes. The
// ftrack-operator binary runs it by default; the dev command runs it in process.
package manager

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	ftrackv1alpha1 "github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/controllers"
	"github.com/ftrack-operator/ftrack-operator/internal/cli"
	"github.com/ftrack-operator/ftrack-operator/internal/webhook"
)

// DefaultConcurrency is the default of --concurrency. Measured with `make bench` on 1,000 and
// 10,000 objects (docs/benchmarks.md): 8 at once leave the commit coalescer too little to
// batch (4.5× the API server's floor at 1,000 objects, 0.13 requests per entity); about a
// hundred let a bulk change travel in batches of dozens of entities.
const DefaultConcurrency = 100

// Scheme returns the scheme of every kind the manager reads or writes.
func Scheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(ftrackv1alpha1.AddToScheme(scheme))
	return scheme
}

// Options are the manager's command-line settings.
type Options struct {
	// MetricsAddr is the address of the metrics endpoint; "0" disables it.
	MetricsAddr string
	// ProbeAddr is the address of the /healthz and /readyz probes; "0" disables them.
	ProbeAddr string
	// LeaderElect elects a leader among replicas; LeaderElectionNamespace holds its Lease.
	LeaderElect             bool
	LeaderElectionNamespace string
	// LeaseDuration, RenewDeadline and RetryPeriod time the leader election (see Bind).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Concurrency is how many objects of one kind are reconciled at once.
	Concurrency int
	// GracefulShutdown bounds the wait for reconciles in flight at shutdown.
	GracefulShutdown time.Duration
	// WebhookHost and WebhookPort are where the admission webhooks serve (port 0: not at
	// all), with the certificate in WebhookCertDir.
	WebhookHost    string
	WebhookPort    int
	WebhookCertDir string
	// WatchNamespaces, when not empty, limits the namespaced objects the manager watches
	// and reads (FtrackConnections, FtrackEntities, Secrets, ConfigMaps) to these namespaces:
	// the namespaced install, whose RBAC grants Secret access in them alone.
	WatchNamespaces []string
	// Zap configures the logger.
	Zap zap.Options
	// twoInProcess lets a second manager run in the same process (tests).
	twoInProcess bool
}

// Bind defines the manager's flags on fs.
func (o *Options) Bind(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8080", "Address the Prometheus metrics endpoint binds to; 0 disables it.")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", false, "Elect a leader so that only one replica reconciles at a time.")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader-election Lease; empty means $POD_NAMESPACE (set by the Deployment), else the namespace of the pod's ServiceAccount.")
	fs.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", 15*time.Second, "How long a standby replica waits after the leader's last renewal before it takes the Lease: the takeover time when the leader dies without releasing it (a stopped leader releases it at once).")
	fs.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", 10*time.Second, "How long the leader keeps trying to renew the Lease before it stops leading (and exits); shorter than the lease duration.")
	fs.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", 2*time.Second, "How often replicas try to take or renew the Lease.")
	fs.IntVar(&o.Concurrency, "concurrency", DefaultConcurrency, "Number of objects of one kind reconciled at the same time. Reconciles of one connection share /api batches, so a bulk change needs many at once; most of them wait for a batch, not for a CPU.")
	fs.DurationVar(&o.GracefulShutdown, "graceful-shutdown-timeout", 30*time.Second, "How long the manager waits for reconciles in flight when it is asked to stop.")
	fs.IntVar(&o.WebhookPort, "webhook-port", 9443, "Port the admission webhooks serve on (every replica serves them); 0 disables them.")
	fs.StringVar(&o.WebhookCertDir, "webhook-cert-dir", "", "Directory of the webhooks' serving certificate (tls.crt, tls.key); default "+defaultWebhookCertDir+". Without a certificate there the webhooks are disabled.")
	fs.Func("watch-namespaces", "Comma-separated namespaces whose FtrackConnections, FtrackEntities, Secrets and ConfigMaps the manager watches; empty: every namespace. The namespaced install (config/namespaced) sets it and grants Secret access in these namespaces only. A ClusterFtrackConnection's Secret must be in one of them.", func(v string) error {
		ns, err := parseNamespaces(v)
		o.WatchNamespaces = append(o.WatchNamespaces, ns...)
		return err
	})
	o.Zap.BindFlags(fs)
}

// parseNamespaces splits a --watch-namespaces value; every name must be a valid namespace
// name.
func parseNamespaces(v string) ([]string, error) {
	var out []string
	for n := range strings.SplitSeq(v, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
			return nil, fmt.Errorf("%q is not a namespace name: %s", n, strings.Join(errs, "; "))
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("no namespace given")
	}
	return out, nil
}

// Run parses the manager's flags and runs it until ctx is cancelled.
func Run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := Options{Zap: zap.Options{Development: false}}
	opts.Bind(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q; see 'ftrack-operator manager -h'", fs.Arg(0))
	}
	if opts.LeaderElectionNamespace == "" {
		// The Deployment passes its namespace; a manager run outside a pod (tests, a
		// developer's machine) has no ServiceAccount file to take it from.
		opts.LeaderElectionNamespace = os.Getenv("POD_NAMESPACE")
	}
	if opts.Concurrency < 1 {
		return cli.Usagef("--concurrency must be at least 1, got %d", opts.Concurrency)
	}
	if opts.LeaderElect && (opts.RetryPeriod <= 0 || opts.RetryPeriod >= opts.RenewDeadline || opts.RenewDeadline >= opts.LeaseDuration) {
		return cli.Usagef("leader election needs 0 < --leader-elect-retry-period (%v) < --leader-elect-renew-deadline (%v) < --leader-elect-lease-duration (%v)", opts.RetryPeriod, opts.RenewDeadline, opts.LeaseDuration)
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts.Zap), zap.WriteTo(stderr)))

	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading the Kubernetes client configuration: %w", err)
	}
	mgr, err := New(cfg, opts)
	if err != nil {
		return err
	}
	ctrl.Log.WithName("setup").Info("starting manager", "metrics", opts.MetricsAddr, "probes", opts.ProbeAddr, "leaderElection", opts.LeaderElect)
	return mgr.Start(ctx)
}

// defaultWebhookCertDir is where the webhooks' certificate is mounted (controller-runtime's
// default, and config/default's).
const defaultWebhookCertDir = "/tmp/k8s-webhook-server/serving-certs"

func webhookCertDir(opts Options) string {
	if opts.WebhookCertDir != "" {
		return opts.WebhookCertDir
	}
	return defaultWebhookCertDir
}

// cacheOptions are the manager's cache settings: the namespaces watched, and what is kept of
// each object.
func cacheOptions(opts Options) cache.Options {
	o := cache.Options{DefaultTransform: stripForCache, DefaultWatchErrorHandler: (&forbiddenOnce{}).handle}
	if len(opts.WatchNamespaces) > 0 {
		o.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range opts.WatchNamespaces {
			o.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return o
}

// stripForCache drops what the manager never reads from cached objects: managed fields (as
// controller-runtime's default transform does) and, from objects watched for their metadata
// alone (Secrets, ConfigMaps), every annotation — `kubectl apply` keeps a copy of the whole
// object, a Secret's data included, in kubectl.kubernetes.io/last-applied-configuration.
func stripForCache(in any) (any, error) {
	out, err := cache.TransformStripManagedFields()(in)
	if err != nil {
		return out, err
	}
	if m, ok := out.(*metav1.PartialObjectMetadata); ok {
		m.Annotations = nil
	}
	return out, nil
}

// positive is d when it is above zero, nil (controller-runtime's default) otherwise.
func positive(d time.Duration) *time.Duration {
	if d <= 0 {
		return nil
	}
	return &d
}

// boundedStop is the manager New returns: its Start returns at most its graceful-shutdown
// timeout (and a second) after ctx ends. controller-runtime's manager does not: while a
// cache it waits for has not synced (a watch its RBAC forbids), its Start ignores the end of
// ctx, so a pod would outlive its first SIGTERM until the kubelet kills it.
type boundedStop struct {
	ctrl.Manager
	timeout time.Duration
}

// Start runs the manager until ctx ends.
func (m boundedStop) Start(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- m.Manager.Start(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	timer := time.NewTimer(m.timeout + time.Second)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return fmt.Errorf("the manager did not stop within its graceful-shutdown timeout (%v): it was still waiting for its caches to sync (see the log for a watch its RBAC forbids)", m.timeout)
	}
}

// New builds the controller-runtime manager with every reconciler registered.
func New(cfg *rest.Config, opts Options) (ctrl.Manager, error) {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  Scheme(),
		WebhookServer:           ctrlwebhook.NewServer(ctrlwebhook.Options{Host: opts.WebhookHost, Port: opts.WebhookPort, CertDir: webhookCertDir(opts)}),
		Metrics:                 metricsserver.Options{BindAddress: opts.MetricsAddr},
		HealthProbeBindAddress:  opts.ProbeAddr,
		LeaderElection:          opts.LeaderElect,
		LeaderElectionID:        "ftrack-operator.ftrack-operator.dev",
		LeaderElectionNamespace: opts.LeaderElectionNamespace,
		// A replica that is asked to stop hands the Lease over at once instead of letting
		// it expire: a rolling update moves the leader without a takeover delay.
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 positive(opts.LeaseDuration),
		RenewDeadline:                 positive(opts.RenewDeadline),
		RetryPeriod:                   positive(opts.RetryPeriod),
		GracefulShutdownTimeout:       &opts.GracefulShutdown,
		Controller:                    config.Controller{MaxConcurrentReconciles: opts.Concurrency, SkipNameValidation: &opts.twoInProcess},
		Cache:                         cacheOptions(opts),
		// Secrets and ConfigMaps are read straight from the API server when a connection
		// needs them; their watches carry metadata only: no Secret's data is held in the
		// manager's memory.
		Client: controllers.ClientOptions(),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	conns, err := controllers.SetupConnections(mgr)
	if err != nil {
		return nil, err
	}
	if err := controllers.SetupEntities(mgr, conns); err != nil {
		return nil, fmt.Errorf("setting up the FtrackEntity reconciler: %w", err)
	}
	if opts.WebhookPort != 0 {
		if _, err := os.Stat(filepath.Join(webhookCertDir(opts), "tls.crt")); err != nil {
			ctrl.Log.WithName("setup").Info("admission webhooks disabled: no serving certificate", "dir", webhookCertDir(opts))
		} else if err := webhook.Setup(mgr, conns.Pool); err != nil {
			return nil, fmt.Errorf("setting up the admission webhooks: %w", err)
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("caches", cachesSynced(mgr.GetCache(), watchedKinds())); err != nil {
		return nil, fmt.Errorf("adding the readiness check: %w", err)
	}
	return boundedStop{Manager: mgr, timeout: opts.GracefulShutdown}, nil
}
