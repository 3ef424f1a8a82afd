package charts_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/internal/dev"
	"github.com/ftrack-operator/ftrack-operator/internal/manager"
	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// releaseVersion is the version the README's install commands name.
const releaseVersion = "v0.2.0"

var (
	releaseOnce sync.Once
	releaseDir  string
	releaseErr  error
	binOnce     sync.Once
	binPath     string
	binErr      error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if releaseDir != "" {
		_ = os.RemoveAll(releaseDir)
	}
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// release writes a release for the host's platform with make release's command, once per
// test process, and returns its directory (install.yaml, the chart package, the plugin).
func release(t *testing.T) string {
	t.Helper()
	r := root(t)
	releaseOnce.Do(func() {
		releaseDir, releaseErr = os.MkdirTemp("", "ftrack-release-")
		if releaseErr != nil {
			return
		}
		out := filepath.Join(releaseDir, "dist")
		cmd := exec.Command("go", "run", "./hack/release", "--version", releaseVersion, "--platforms", runtime.GOOS+"/"+runtime.GOARCH, "--out", out)
		cmd.Dir = r
		if msg, err := cmd.CombinedOutput(); err != nil {
			releaseErr = fmt.Errorf("go run ./hack/release: %w\n%s", err, msg)
		}
	})
	if releaseErr != nil {
		t.Fatal(releaseErr)
	}
	return filepath.Join(releaseDir, "dist")
}

func releaseInstallYAML(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(release(t), "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// operatorBinary builds the ftrack-operator command once per test process: it stands in for
// the manager image.
func operatorBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ftrack-operator-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "ftrack-operator")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Dir = root(t)
		if msg, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, msg)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// readmeBlock returns the shell block of README.md between <!-- name:begin --> and
// <!-- name:end -->.
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(root(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- "+name+":begin -->")
	if !ok {
		t.Fatalf("README.md has no <!-- %s:begin --> marker", name)
	}
	section, _, ok := strings.Cut(rest, "<!-- "+name+":end -->")
	if !ok {
		t.Fatalf("README.md has no <!-- %s:end --> marker", name)
	}
	var script []string
	in := false
	for line := range strings.SplitSeq(section, "\n") {
		switch {
		case strings.TrimSpace(line) == "```sh":
			in = true
		case strings.TrimSpace(line) == "```":
			in = false
		case in:
			script = append(script, line)
		}
	}
	if len(script) == 0 {
		t.Fatalf("README.md's %s section has no sh block", name)
	}
	return strings.Join(script, "\n")
}

// installCase is one way of installing the operator into an empty control plane.
type installCase struct {
	// crds are CRDs of other projects the cluster has (cert-manager, the Prometheus
	// Operator), relative to the module's root.
	crds []string
	// install installs the operator with the administrator's kubeconfig.
	install func(t *testing.T, k8s client.Client, kubeconfig string)
}

// TestInstall installs the operator into an empty control plane — with the README's
// commands as written (helm install of the release's chart package, kubectl apply of its
// install.yaml), and with the chart rendered by helm template and applied server-side — then
// runs the manager as the installed Deployment would (its arguments and environment, as its
// ServiceAccount: the image replaced by the binary) and converges the samples. The manager
// must become ready (every watch its RBAC allows) and meet no forbidden request.
func TestInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts control planes")
	}
	for _, tool := range []string{"kubectl", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's install commands need %s on PATH", tool)
		}
	}
	cases := map[string]installCase{
		"READMEHelm":           {install: readmeInstall("install-helm")},
		"READMEHelmNamespaced": {install: readmeInstall("install-helm-namespaced")},
		"READMEInstallYAML":    {crds: []string{"config/testdata/cert-manager-crds.yaml"}, install: readmeInstall("install-yaml")},
		"RenderedOtherValues": {
			crds: []string{"config/testdata/cert-manager-crds.yaml", "charts/testdata/servicemonitor-crd.yaml"},
			install: renderedInstall("installMode=namespaced", "watchNamespaces={studio,commercials}", "webhook.certManager.enabled=true",
				"metrics.serviceMonitor.enabled=true", "replicaCount=3", "logLevel=debug"),
		},
		"RenderedDefaultValues": {install: renderedInstall()},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			installAndConverge(t, tc)
		})
	}
}

// readmeInstall runs the README section name with bash in a release's directory, with helm
// and kubectl on PATH and KUBECONFIG set.
func readmeInstall(name string) func(t *testing.T, k8s client.Client, kubeconfig string) {
	return func(t *testing.T, _ client.Client, kubeconfig string) {
		script := readmeBlock(t, name)
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(release(t))); err != nil {
			t.Fatal(err)
		}
		helmBin, err := testenv.Helm()
		if err != nil {
			t.Fatal(err)
		}
		path := t.TempDir()
		if err := os.Symlink(helmBin, filepath.Join(path, "helm")); err != nil {
			t.Fatal(err)
		}
		home := t.TempDir()
		cmd := exec.CommandContext(t.Context(), "bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+path+string(os.PathListSeparator)+os.Getenv("PATH"),
			"HELM_CACHE_HOME="+filepath.Join(home, "cache"), "HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the README's %s commands failed: %v\nscript:\n%s\noutput:\n%s", name, err, script, out)
		}
		t.Logf("%s:\n%s", name, out)
	}
}

// renderedInstall renders the chart with helm template and the values given, and applies
// every object server-side, CRDs first; the namespaces exist first, as helm install
// --create-namespace and a namespaced install's watched namespaces need.
func renderedInstall(set ...string) func(t *testing.T, k8s client.Client, kubeconfig string) {
	return func(t *testing.T, k8s client.Client, _ string) {
		ctx := t.Context()
		objs := render(t, set...)
		namespaces := map[string]bool{releaseNS: true}
		for _, o := range objs {
			if ns := o.GetNamespace(); ns != "" {
				namespaces[ns] = true
			}
		}
		for ns := range namespaces {
			if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatal(err)
			}
		}
		apply := func(o *unstructured.Unstructured) {
			if err := k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner("chart-test"), client.ForceOwnership); err != nil {
				t.Fatalf("server-side apply of %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
			}
		}
		for _, o := range objs {
			if o.GetKind() == "CustomResourceDefinition" {
				apply(o)
				waitEstablished(t, k8s, o.GetName())
			}
		}
		for _, o := range objs {
			if o.GetKind() != "CustomResourceDefinition" {
				apply(o)
			}
		}
	}
}

func waitEstablished(t *testing.T, k8s client.Client, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := k8s.Get(t.Context(), client.ObjectKey{Name: name}, &crd); err == nil {
			for _, c := range crd.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("CRD %s not established within 30 s", name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func installAndConverge(t *testing.T, tc installCase) {
	r := root(t)
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	opts := []testenv.Option{testenv.WithoutCRDs()}
	for _, c := range tc.crds {
		opts = append(opts, testenv.WithCRDs(filepath.Join(r, c)))
	}
	env, err := testenv.Start(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := env.WriteKubeConfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	scheme := manager.Scheme()
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	k8s, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}

	tc.install(t, k8s, kubeconfig)

	// The Deployment the install made, run as its pod would run.
	var deps appsv1.DeploymentList
	if err := k8s.List(ctx, &deps, client.MatchingLabels{"app.kubernetes.io/part-of": "ftrack-operator"}); err != nil {
		t.Fatal(err)
	}
	if len(deps.Items) != 1 {
		t.Fatalf("the install made %d Deployments, want 1", len(deps.Items))
	}
	dep := deps.Items[0]
	var ctr *corev1.Container
	for i := range dep.Spec.Template.Spec.Containers {
		if dep.Spec.Template.Spec.Containers[i].Name == "manager" {
			ctr = &dep.Spec.Template.Spec.Containers[i]
		}
	}
	if ctr == nil {
		t.Fatalf("Deployment %s has no container named manager", dep.Name)
	}
	sa := dep.Spec.Template.Spec.ServiceAccountName
	var account corev1.ServiceAccount
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: dep.Namespace, Name: sa}, &account); err != nil {
		t.Fatalf("the Deployment's ServiceAccount: %v", err)
	}
	saKubeconfig := filepath.Join(dir, "kubeconfig-sa")
	impersonate(t, kubeconfig, saKubeconfig, "system:serviceaccount:"+dep.Namespace+":"+sa)

	probes, metrics := freeLoopback(t), freeLoopback(t)
	var args []string
	for _, a := range ctr.Args {
		switch {
		// The pod's ports are its own; here they must not collide with other tests.
		case strings.HasPrefix(a, "--metrics-bind-address=") && a != "--metrics-bind-address=0":
			a = "--metrics-bind-address=" + metrics
		case strings.HasPrefix(a, "--health-probe-bind-address="):
			a = "--health-probe-bind-address=" + probes
		}
		args = append(args, a)
	}
	// No certificate is mounted here: the webhooks stay off (the API server's calls to the
	// Service find no endpoint and are ignored, as their failurePolicy says).
	args = append(args, "--webhook-cert-dir="+t.TempDir())
	cmdEnv := append(cleanEnv(), "KUBECONFIG="+saKubeconfig)
	for _, e := range ctr.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			cmdEnv = append(cmdEnv, e.Name+"="+dep.Namespace)
		case e.ValueFrom != nil:
			t.Fatalf("the manager's environment variable %s comes from %+v, which this test does not resolve", e.Name, e.ValueFrom)
		case e.Name == "FTRACK_API_SCHEMA_CACHE_PATH":
			cmdEnv = append(cmdEnv, e.Name+"="+t.TempDir())
		default:
			cmdEnv = append(cmdEnv, e.Name+"="+e.Value)
		}
	}
	log := &testenv.Buffer{}
	cmd := exec.Command(operatorBinary(t), args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = cmdEnv, log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Error("the manager did not stop within 20 s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("manager %v, end of its log:\n%s", args, tail(log.String(), 4000))
		}
		if strings.Contains(log.String(), "forbidden") {
			t.Errorf("the manager met a forbidden request under the install's RBAC:\n%s", tail(log.String(), 4000))
		}
	}()

	srv, err := ftracktest.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	if err := dev.ConvergeSamples(ctx, k8s, filepath.Join(r, "config", "samples"), srv.URL, ftracktest.DefaultUser, ftracktest.DefaultAPIKey, 4*time.Minute); err != nil {
		t.Fatalf("converging the samples under the install's RBAC: %v", err)
	}
	if err := waitReady(ctx, "http://"+probes+"/readyz", time.Minute); err != nil {
		t.Error(err)
	}
}

// impersonate writes a copy of the kubeconfig in that acts as user.
func impersonate(t *testing.T, in, out, user string) {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range cfg.AuthInfos {
		a.Impersonate = user
	}
	if err := clientcmd.WriteToFile(*cfg, out); err != nil {
		t.Fatal(err)
	}
}

func waitReady(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("the manager's %s did not answer ok within %v (last: %s)", url, timeout, last)
}

func freeLoopback(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// cleanEnv is this process's environment without what would point the manager elsewhere.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "FTRACK_") || strings.HasPrefix(kv, "KUBECONFIG=") || strings.HasPrefix(kv, "POD_NAMESPACE=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// TestChartUpgradeKeepsTheWebhookCertificate: helm upgrade keeps the CA and certificate the
// chart generated at install (it looks the Secret up), so that the webhooks' caBundle and the
// pods' certificate stay a pair; a deleted Secret gives a new pair.
func TestChartUpgradeKeepsTheWebhookCertificate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	ctx := t.Context()
	env, err := testenv.Start(ctx, testenv.WithoutCRDs())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := env.WriteKubeConfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	k8s, err := client.New(env.Config, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := helm(t, root(t), append(args, "--kubeconfig", kubeconfig)...); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	pair := func() (ca, mutating, validating string) {
		t.Helper()
		var s corev1.Secret
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: releaseNS, Name: "ftrack-operator-webhook-server-cert"}, &s); err != nil {
			t.Fatal(err)
		}
		var m admissionregistrationv1.MutatingWebhookConfiguration
		if err := k8s.Get(ctx, client.ObjectKey{Name: "ftrack-operator-mutating-webhook-configuration"}, &m); err != nil {
			t.Fatal(err)
		}
		var v admissionregistrationv1.ValidatingWebhookConfiguration
		if err := k8s.Get(ctx, client.ObjectKey{Name: "ftrack-operator-validating-webhook-configuration"}, &v); err != nil {
			t.Fatal(err)
		}
		return string(s.Data["ca.crt"]), string(m.Webhooks[0].ClientConfig.CABundle), string(v.Webhooks[0].ClientConfig.CABundle)
	}
	run("install", releaseName, chartPath, "--namespace", releaseNS, "--create-namespace")
	ca, m, v := pair()
	if ca == "" || m != ca || v != ca {
		t.Fatalf("after install: the webhooks' caBundle is not the Secret's ca.crt")
	}
	run("upgrade", releaseName, chartPath, "--namespace", releaseNS, "--set", "logLevel=debug")
	ca2, m2, v2 := pair()
	if ca2 != ca || m2 != ca || v2 != ca {
		t.Errorf("helm upgrade replaced the webhook CA (or left the webhooks with another)")
	}
	if err := k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: releaseNS, Name: "ftrack-operator-webhook-server-cert"}}); err != nil {
		t.Fatal(err)
	}
	run("upgrade", releaseName, chartPath, "--namespace", releaseNS)
	ca3, m3, v3 := pair()
	if ca3 == ca || m3 != ca3 || v3 != ca3 {
		t.Errorf("after the Secret was deleted, helm upgrade did not make a new pair that the webhooks trust")
	}
}
