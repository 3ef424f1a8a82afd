package manager

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
)

var env *testenv.Environment

// logs collects what every manager of the tests logs.
var logs = &testenv.Buffer{}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if _, err := testenv.BinaryAssets(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var err error
	if env, err = testenv.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	return m.Run()
}

// managerRole is config/rbac's ClusterRole, as controller-gen writes it, under name, with
// the resources drop removed from its rules.
func managerRole(t *testing.T, name string, drop ...string) *rbacv1.ClusterRole {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(bytes.TrimPrefix(data, []byte("---\n")), &role); err != nil {
		t.Fatal(err)
	}
	role.ObjectMeta = metav1.ObjectMeta{Name: name}
	for i := range role.Rules {
		role.Rules[i].Resources = slices.DeleteFunc(role.Rules[i].Resources, func(r string) bool { return slices.Contains(drop, r) })
	}
	return &role
}

// grant binds role to user and returns a configuration that acts as user.
func grant(t *testing.T, role *rbacv1.ClusterRole, user string) *rest.Config {
	t.Helper()
	c, err := client.New(env.Config, client.Options{Scheme: Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}},
	}
	for _, o := range []client.Object{role, binding} {
		if err := c.Create(t.Context(), o); err != nil {
			t.Fatalf("creating %s: %v", o.GetName(), err)
		}
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	return cfg
}

// startManager starts a manager acting with cfg and returns its /readyz URL and a function
// that stops it and returns how long it took to stop.
func startManager(t *testing.T, cfg *rest.Config, shutdown time.Duration) (readyz string, stop func() time.Duration) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	mgr, err := New(cfg, Options{MetricsAddr: "0", ProbeAddr: addr, Concurrency: 2, GracefulShutdown: shutdown, twoInProcess: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var took time.Duration
	stopped := false
	stop = func() time.Duration {
		if stopped {
			return took
		}
		stopped = true
		start := time.Now()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Logf("manager: %v", err)
			}
		case <-time.After(time.Minute):
			t.Errorf("the manager did not stop within a minute of its first signal")
		}
		took = time.Since(start)
		return took
	}
	t.Cleanup(func() { stop() })
	return "http://" + addr + "/readyz", stop
}

// probe returns the status and body of one GET of url; 0 when it cannot be reached.
func probe(url string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"?verbose", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func init() {
	// Set once: controller-runtime's logger is global.
	ctrl.SetLogger(zap.New(zap.WriteTo(logs)))
}

// TestReadyzWaitsForCaches: with its RBAC whole, a manager's /readyz answers ok once its
// caches have synced.
func TestReadyzWaitsForCaches(t *testing.T) {
	cfg := grant(t, managerRole(t, "ftrack-operator-test-whole"), "manager-whole")
	readyz, stop := startManager(t, cfg, 5*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := probe(readyz)
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still answers %d after 30 s:\n%s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if took := stop(); took > 10*time.Second {
		t.Errorf("the manager took %v to stop, past its 5 s graceful-shutdown timeout", took)
	}
}

// TestForbiddenWatchIsReportedAndNotReady: a manager whose RBAC lacks Secrets at the cluster
// scope (config/namespaced's ClusterRole, run without --watch-namespaces) is not ready, says
// once which permission is missing, and stops on the first signal within its graceful-shutdown
// timeout.
func TestForbiddenWatchIsReportedAndNotReady(t *testing.T) {
	cfg := grant(t, managerRole(t, "ftrack-operator-test-no-secrets", "secrets"), "manager-no-secrets")
	readyz, stop := startManager(t, cfg, 5*time.Second)
	var last string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		code, body := probe(readyz)
		if code == http.StatusOK {
			t.Fatalf("/readyz answers ok although the manager may not watch Secrets:\n%s", body)
		}
		if code != 0 {
			last = body
		}
	}
	if !strings.Contains(last, "[-]caches failed") {
		t.Errorf("/readyz does not say that the caches failed:\n%s", last)
	}
	if took := stop(); took > 10*time.Second {
		t.Errorf("the manager took %v to stop on its first signal, past its 5 s graceful-shutdown timeout", took)
	}
	const report = "does not allow a watch it needs"
	n := 0
	for line := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(line, report) && strings.Contains(line, "manager-no-secrets") {
			n++
			if !strings.Contains(line, `cannot list resource \"secrets\"`) || !strings.Contains(line, "cluster scope") {
				t.Errorf("the report does not name the missing permission: %s", line)
			}
		}
	}
	if n != 1 {
		t.Errorf("the forbidden watch was reported %d times in 15 s, want once; the log:\n%s", n, logs)
	}
}

// TestNoSecretDataInTheCache: the manager reads Secrets from the API server and watches them
// for their metadata alone, without annotations: `kubectl apply` copies a Secret's data into
// its last-applied-configuration annotation, and none of it may sit in the manager's memory.
func TestNoSecretDataInTheCache(t *testing.T) {
	cfg := grant(t, managerRole(t, "ftrack-operator-test-cache"), "manager-cache")
	mgr, err := New(cfg, Options{MetricsAddr: "0", ProbeAddr: "0", Concurrency: 2, GracefulShutdown: 5 * time.Second, twoInProcess: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() { cancel(); <-done }()

	admin, err := client.New(env.Config, client.Options{Scheme: Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	const sentinel = "k3y-that-must-not-be-cached"
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "cache-probe", Annotations: map[string]string{
			"kubectl.kubernetes.io/last-applied-configuration": `{"stringData":{"apiKey":"` + sentinel + `"}}`,
		}},
		StringData: map[string]string{"apiKey": sentinel},
	}
	if err := admin.Create(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	if !mgr.GetCache().WaitForCacheSync(t.Context()) {
		t.Fatal("the caches did not sync")
	}
	var got corev1.Secret
	if err := mgr.GetClient().Get(t.Context(), client.ObjectKeyFromObject(secret), &got); err != nil || string(got.Data["apiKey"]) != sentinel {
		t.Fatalf("the manager's client reads the Secret as %v, %v", got.Data, err)
	}
	// What the cache holds of Secrets: metadata, without the annotation.
	list := &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "SecretList"}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := mgr.GetCache().List(t.Context(), list, client.InNamespace("default")); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range list.Items {
			if m.Name == secret.Name {
				found = true
				if len(m.Annotations) > 0 || len(m.ManagedFields) > 0 {
					t.Errorf("the cached metadata of the Secret keeps annotations %v and %d managed fields", m.Annotations, len(m.ManagedFields))
				}
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the Secret's metadata never reached the cache")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if strings.Contains(fmt.Sprint(list), sentinel) {
		t.Error("the cache holds the Secret's key")
	}
}
