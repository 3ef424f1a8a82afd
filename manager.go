package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	ftrackv1alpha1 "github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/controllers"
	"github.com/ftrack-operator/ftrack-operator/internal/webhook"
)

// DefaultConcurrency is the default of --concurrency. Measured with `make bench` on 1,000 and
// 10,000 objects (docs/benchmarks.md): 8 at once leave the commit coalescer too little to
// batch (4.5× the API server's floor at 1,000 objects, 0.13 requests per entity); about a
// hundred let a bulk change travel in batches of dozens of entities.
const DefaultConcurrency = 100

// newScheme returns the scheme of every kind the manager reads or writes.
func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(ftrackv1alpha1.AddToScheme(scheme))
	return scheme
}

// managerOptions are the manager's command-line settings.
type managerOptions struct {
	metricsAddr             string
	probeAddr               string
	leaderElect             bool
	leaderElectionNamespace string
	concurrency             int
	gracefulShutdown        time.Duration
	webhookPort             int
	webhookCertDir          string
	zap                     zap.Options
}

func (o *managerOptions) bind(fs *flag.FlagSet) {
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "Address the Prometheus metrics endpoint binds to; 0 disables it.")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "Elect a leader so that only one replica reconciles at a time.")
	fs.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader-election Lease; empty means the namespace the manager runs in.")
	fs.IntVar(&o.concurrency, "concurrency", DefaultConcurrency, "Number of objects of one kind reconciled at the same time. Reconciles of one connection share /api batches, so a bulk change needs many at once; most of them wait for a batch, not for a CPU.")
	fs.DurationVar(&o.gracefulShutdown, "graceful-shutdown-timeout", 30*time.Second, "How long the manager waits for reconciles in flight when it is asked to stop.")
	fs.IntVar(&o.webhookPort, "webhook-port", 9443, "Port the admission webhooks serve on (every replica serves them); 0 disables them.")
	fs.StringVar(&o.webhookCertDir, "webhook-cert-dir", "", "Directory of the webhooks' serving certificate (tls.crt, tls.key); default "+defaultWebhookCertDir+". Without a certificate there the webhooks are disabled.")
	o.zap.BindFlags(fs)
}

// runManager parses the manager's flags and runs it until ctx is cancelled.
func runManager(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := managerOptions{zap: zap.Options{Development: false}}
	opts.bind(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("unexpected argument %q; see 'ftrack-operator manager -h'", fs.Arg(0))}
	}
	if opts.concurrency < 1 {
		return &usageError{msg: fmt.Sprintf("--concurrency must be at least 1, got %d", opts.concurrency)}
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts.zap), zap.WriteTo(stderr)))

	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading the Kubernetes client configuration: %w", err)
	}
	mgr, err := newManager(cfg, opts)
	if err != nil {
		return err
	}
	ctrl.Log.WithName("setup").Info("starting manager", "metrics", opts.metricsAddr, "probes", opts.probeAddr, "leaderElection", opts.leaderElect)
	return mgr.Start(ctx)
}

// defaultWebhookCertDir is where the webhooks' certificate is mounted (controller-runtime's
// default, and config/default's).
const defaultWebhookCertDir = "/tmp/k8s-webhook-server/serving-certs"

func webhookCertDir(opts managerOptions) string {
	if opts.webhookCertDir != "" {
		return opts.webhookCertDir
	}
	return defaultWebhookCertDir
}

// newManager builds the controller-runtime manager with every reconciler registered.
func newManager(cfg *rest.Config, opts managerOptions) (ctrl.Manager, error) {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  newScheme(),
		WebhookServer:           ctrlwebhook.NewServer(ctrlwebhook.Options{Port: opts.webhookPort, CertDir: webhookCertDir(opts)}),
		Metrics:                 metricsserver.Options{BindAddress: opts.metricsAddr},
		HealthProbeBindAddress:  opts.probeAddr,
		LeaderElection:          opts.leaderElect,
		LeaderElectionID:        "ftrack-operator.ftrack-operator.dev",
		LeaderElectionNamespace: opts.leaderElectionNamespace,
		GracefulShutdownTimeout: &opts.gracefulShutdown,
		Controller:              config.Controller{MaxConcurrentReconciles: opts.concurrency},
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
	if opts.webhookPort != 0 {
		if _, err := os.Stat(filepath.Join(webhookCertDir(opts), "tls.crt")); err != nil {
			ctrl.Log.WithName("setup").Info("admission webhooks disabled: no serving certificate", "dir", webhookCertDir(opts))
		} else if err := webhook.Setup(mgr, conns.Pool); err != nil {
			return nil, fmt.Errorf("setting up the admission webhooks: %w", err)
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding the readiness check: %w", err)
	}
	return mgr, nil
}
