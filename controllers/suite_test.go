package controllers

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/prometheus/common/expfmt"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// The envtest suite of package controllers: one control plane, one ftracktest server and one
// manager running the real reconcilers, shared by every test; each test works in its own
// namespace (newNamespace).
var (
	// k8sClient talks to the API server directly, without a cache.
	k8sClient client.Client
	// ftrackServer is the suite's emulator. Tests that break it (drop connections, stop it)
	// start their own with newFtrackServer.
	ftrackServer *ftracktest.Server
	// suiteConnections is the connection side of the running manager.
	suiteConnections *Connections
	// suiteCache reads through the running manager's cache, with its field indexes.
	suiteCache client.Reader
	// suiteLogs holds everything the manager logged.
	suiteLogs = &testenv.Buffer{}
)

// Users of the suite's emulator.
const (
	rotatedUser   = "rotated"
	rotatedAPIKey = "rotated-api-key-6c1f0e"
)

// testReconcilers are more reconcilers the suite registers with the manager, after the
// connection side: tests of other reconcilers of this package append theirs from an init
// function, e.g.
//
//	func init() {
//		testReconcilers = append(testReconcilers, func(mgr ctrl.Manager, c *Connections) error {
//			return (&EntityReconciler{Pool: c.Pool, Bridge: c.Bridge}).SetupWithManager(mgr)
//		})
//	}
var testReconcilers []func(mgr ctrl.Manager, c *Connections) error

// secretValues are API keys that must never appear in logs, Events, conditions or metrics;
// tests add the keys they use with rememberSecret.
var secretValues = struct {
	sync.Mutex
	keys map[string]bool
}{keys: map[string]bool{ftracktest.DefaultAPIKey: true, rotatedAPIKey: true}}

func rememberSecret(key string) {
	secretValues.Lock()
	defer secretValues.Unlock()
	secretValues.keys[key] = true
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var logOut io.Writer = suiteLogs
	if testing.Verbose() {
		logOut = io.MultiWriter(suiteLogs, os.Stderr)
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(logOut), zap.UseDevMode(false), zap.Level(zapcore.Level(-5))))

	env, err := testenv.Start(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "controllers suite:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	ftrackServer, err = ftracktest.NewServer(
		ftracktest.WithUser(ftracktest.DefaultUser, ftracktest.DefaultAPIKey),
		ftracktest.WithUser(rotatedUser, rotatedAPIKey),
		ftracktest.WithHeartbeatInterval(time.Second),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "controllers suite:", err)
		return 1
	}
	defer func() { _ = ftrackServer.Close() }()

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	if k8sClient, err = client.New(env.Config, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, "controllers suite:", err)
		return 1
	}
	skip := true
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Client:                 ClientOptions(),
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: &skip},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "controllers suite:", err)
		return 1
	}
	suiteCache = mgr.GetClient()
	if suiteConnections, err = SetupConnections(mgr); err != nil {
		fmt.Fprintln(os.Stderr, "controllers suite:", err)
		return 1
	}
	for _, setup := range testReconcilers {
		if err := setup(mgr, suiteConnections); err != nil {
			fmt.Fprintln(os.Stderr, "controllers suite:", err)
			return 1
		}
	}
	mgrCtx, stopMgr := context.WithCancel(ctx)
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(mgrCtx) }()
	syncCtx, cancelSync := context.WithTimeout(ctx, time.Minute)
	synced := mgr.GetCache().WaitForCacheSync(syncCtx)
	cancelSync()
	if !synced {
		fmt.Fprintln(os.Stderr, "controllers suite: the manager's cache did not sync")
		stopMgr()
		return 1
	}

	code := m.Run()

	if code == 0 {
		if err := checkNoSecretLeaks(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "controllers suite: FAIL:", err)
			code = 1
		}
	}
	stopMgr()
	select {
	case err := <-mgrDone:
		if err != nil {
			fmt.Fprintln(os.Stderr, "controllers suite: manager:", err)
		}
	case <-time.After(time.Minute):
		fmt.Fprintln(os.Stderr, "controllers suite: the manager did not stop within a minute")
	}
	return code
}

// checkNoSecretLeaks looks for every remembered API key in what the operator produced during
// the suite: its logs, the Events, the connections' conditions and the metrics.
func checkNoSecretLeaks(ctx context.Context) error {
	var haystacks []struct{ what, text string }
	add := func(what, text string) { haystacks = append(haystacks, struct{ what, text string }{what, text}) }
	add("logs", suiteLogs.String())

	var evs eventsv1.EventList
	if err := k8sClient.List(ctx, &evs); err != nil {
		return err
	}
	for _, e := range evs.Items {
		add("event "+e.Namespace+"/"+e.Name, e.Reason+" "+e.Note)
	}
	var cevs corev1.EventList
	if err := k8sClient.List(ctx, &cevs); err != nil {
		return err
	}
	for _, e := range cevs.Items {
		add("event "+e.Namespace+"/"+e.Name, e.Reason+" "+e.Message)
	}
	var conns v1alpha1.FtrackConnectionList
	if err := k8sClient.List(ctx, &conns); err != nil {
		return err
	}
	for _, c := range conns.Items {
		add("FtrackConnection "+c.Namespace+"/"+c.Name, conditionsText(c.Status.Conditions))
	}
	var cconns v1alpha1.ClusterFtrackConnectionList
	if err := k8sClient.List(ctx, &cconns); err != nil {
		return err
	}
	for _, c := range cconns.Items {
		add("ClusterFtrackConnection "+c.Name, conditionsText(c.Status.Conditions))
	}
	families, err := metrics.Registry.Gather()
	if err != nil {
		return err
	}
	var m bytes.Buffer
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&m, f); err != nil {
			return err
		}
	}
	add("metrics", m.String())

	secretValues.Lock()
	defer secretValues.Unlock()
	var errs []error
	for key := range secretValues.keys {
		for _, h := range haystacks {
			if strings.Contains(h.text, key) {
				errs = append(errs, fmt.Errorf("an API key appears in %s", h.what))
			}
		}
	}
	// The check must look at something: a capture that stayed empty proves nothing.
	if len(suiteLogs.String()) == 0 || m.Len() == 0 {
		errs = append(errs, errors.New("nothing was captured: the logs or the metrics are empty"))
	}
	return errors.Join(errs...)
}

func conditionsText(cs []metav1.Condition) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s %s %s %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

// newNamespace creates a namespace for one test and deletes it afterwards.
func newNamespace(t *testing.T, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "ctrl-test-", Labels: labels}}
	if err := k8sClient.Create(t.Context(), ns); err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), ns) })
	return ns.Name
}

// waitFor polls cond every 25ms until it returns nil or timeout passes, then fails the test
// with the last error.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s: %v", what, timeout, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%s: %v", what, t.Context().Err())
		case <-tick.C:
		}
	}
}

// createSecret creates a credentials Secret.
func createSecret(t *testing.T, namespace, name string, data map[string]string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, StringData: data}
	if err := k8sClient.Create(t.Context(), s); err != nil {
		t.Fatalf("creating Secret %s/%s: %v", namespace, name, err)
	}
	return s
}

// credentialsData is a Secret's data for user and key.
func credentialsData(user, key string) map[string]string {
	rememberSecret(key)
	return map[string]string{v1alpha1.DefaultAPIUserKey: user, v1alpha1.DefaultAPIKeyKey: key}
}

// createConnection creates an FtrackConnection reading Secret secret.
func createConnection(t *testing.T, namespace, name, serverURL, secret string, mutate ...func(*v1alpha1.FtrackConnection)) *v1alpha1.FtrackConnection {
	t.Helper()
	c := &v1alpha1.FtrackConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha1.FtrackConnectionSpec{
			ConnectionSettings: v1alpha1.ConnectionSettings{ServerURL: serverURL},
			SecretRef:          v1alpha1.CredentialsSecretReference{Name: secret},
		},
	}
	for _, m := range mutate {
		m(c)
	}
	if err := k8sClient.Create(t.Context(), c); err != nil {
		t.Fatalf("creating FtrackConnection %s/%s: %v", namespace, name, err)
	}
	t.Cleanup(func() { deleteConnection(t, c) })
	return c
}

// deleteConnection deletes a connection and waits until it is gone (its finalizer removed).
func deleteConnection(t *testing.T, c client.Object) {
	ctx := context.Background()
	if err := k8sClient.Delete(ctx, c); err != nil {
		return
	}
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(c), c); err != nil {
			return
		}
		select {
		case <-tick.C:
			continue
		case <-deadline:
		}
		break
	}
	t.Errorf("connection %s was not deleted within 30s", client.ObjectKeyFromObject(c))
}

// connectionStatus reads the status of a connection of either kind.
func connectionStatus(ctx context.Context, key connection.Key) (*v1alpha1.ConnectionStatus, int64, error) {
	if key.Kind == connection.KindClusterFtrackConnection {
		var c v1alpha1.ClusterFtrackConnection
		if err := k8sClient.Get(ctx, key.NamespacedName(), &c); err != nil {
			return nil, 0, err
		}
		return &c.Status, c.Generation, nil
	}
	var c v1alpha1.FtrackConnection
	if err := k8sClient.Get(ctx, key.NamespacedName(), &c); err != nil {
		return nil, 0, err
	}
	return &c.Status, c.Generation, nil
}

// conditionIs returns a waitFor condition: the connection's condition typ has status and
// reason, for the current generation.
func conditionIs(ctx context.Context, key connection.Key, typ string, status metav1.ConditionStatus, reason string) func() error {
	return func() error {
		st, gen, err := connectionStatus(ctx, key)
		if err != nil {
			return err
		}
		c := meta.FindStatusCondition(st.Conditions, typ)
		if c == nil {
			return fmt.Errorf("no %s condition", typ)
		}
		if c.Status != status || c.Reason != reason || c.ObservedGeneration != gen || st.ObservedGeneration != gen {
			return fmt.Errorf("%s is %s/%s (generation %d, observed %d): %s", typ, c.Status, c.Reason, gen, c.ObservedGeneration, c.Message)
		}
		return nil
	}
}
