package dev

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/manager"
	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// haReplica is one manager process of the HA test.
type haReplica struct {
	name    string
	cmd     *exec.Cmd
	metrics string
	readyz  string
	out     *testenv.Buffer
	done    chan struct{}
}

// metric returns the sum of the samples of the metric name whose labels contain every part
// of labels, from the replica's /metrics; ok is false when the replica cannot be read.
func (r *haReplica) metric(name string, labels ...string) (float64, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.metrics, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false
	}
	defer func() { _ = resp.Body.Close() }()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(line, l)
		}
		if !match {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return sum, true
}

func (r *haReplica) leading() bool {
	v, ok := r.metric("leader_election_master_status")
	return ok && v == 1
}

func (r *haReplica) ready() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.readyz, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (r *haReplica) reconciles() float64 {
	v, _ := r.metric("controller_runtime_reconcile_total", `controller="ftrackentity"`)
	return v
}

func freeLoopback(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}

// TestHAFailoverDuringBulkCreate runs two manager processes with leader election against one
// control plane and kills the leader (SIGKILL: the Lease is not released) three times while
// 2,000 FtrackEntity objects are created. Every object ends Ready with exactly one entity in
// ftrack; the takeover times (kill to the new leader's first reconcile) are logged.
func TestHAFailoverDuringBulkCreate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane and two manager processes")
	}
	const n, kills, ns = 2000, 3, "ha"
	bin := operatorBinary(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	env, err := testenv.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := env.WriteKubeConfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	srv, err := ftracktest.NewServer(ftracktest.WithLatency(20*time.Millisecond, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	const projectID = "00000000-0000-4000-8000-0000000000aa"
	if err := srv.Seed(ftracktest.Record{Type: "Project", Data: map[string]any{"id": projectID, "name": "ha", "full_name": "HA", "project_schema_id": builtin.DefaultProjectSchemaID}}); err != nil {
		t.Fatal(err)
	}
	k8s, err := client.New(env.Config, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"},
			StringData: map[string]string{v1alpha1.DefaultAPIUserKey: ftracktest.DefaultUser, v1alpha1.DefaultAPIKeyKey: ftracktest.DefaultAPIKey}},
		&v1alpha1.FtrackConnection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "studio"},
			Spec: v1alpha1.FtrackConnectionSpec{ConnectionSettings: v1alpha1.ConnectionSettings{ServerURL: srv.URL}, SecretRef: v1alpha1.CredentialsSecretReference{Name: "creds"}}},
	} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	var replicas []*haReplica
	start := func(name string) *haReplica {
		metrics, probes := freeLoopback(t), freeLoopback(t)
		r := &haReplica{name: name, metrics: "http://" + metrics + "/metrics", readyz: "http://" + probes + "/readyz", out: &testenv.Buffer{}, done: make(chan struct{})}
		r.cmd = exec.Command(bin, "--leader-elect", "--leader-election-namespace="+ns,
			"--metrics-bind-address="+metrics, "--health-probe-bind-address="+probes, "--webhook-port=0")
		r.cmd.Env = append(cleanEnv(), "KUBECONFIG="+kubeconfig)
		r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = r.cmd.Wait(); close(r.done) }()
		mu.Lock()
		replicas = append(replicas, r)
		mu.Unlock()
		return r
	}
	defer func() {
		for _, r := range replicas {
			_ = r.cmd.Process.Signal(syscall.SIGKILL)
			<-r.done
		}
		if t.Failed() {
			for _, r := range replicas {
				t.Logf("replica %s, end of its log:\n%s", r.name, tail(r.out.String(), 3000))
			}
		}
	}()
	live := []*haReplica{start("a"), start("b")}
	leader := func() *haReplica {
		for _, r := range live {
			if r.leading() {
				return r
			}
		}
		return nil
	}
	waitUntil := func(what string, timeout time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, timeout)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitUntil("a leader", time.Minute, func() bool { return leader() != nil })
	// The standby is ready too: its caches are warm for the takeover.
	waitUntil("both replicas ready", time.Minute, func() bool {
		for _, r := range live {
			if !r.ready() {
				return false
			}
		}
		return true
	})

	// The bulk create, as a GitOps tool applying a directory: 16 at a time.
	created := make(chan error, 1)
	go func() {
		next := make(chan int)
		errs := make(chan error, 16)
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					name := fmt.Sprintf("sq%04d", i)
					o := &v1alpha1.FtrackEntity{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
						Spec: v1alpha1.FtrackEntitySpec{EntityType: "Sequence", ConnectionRef: v1alpha1.ConnectionReference{Name: "studio"},
							Attributes: map[string]apiextensionsv1.JSON{"name": {Raw: []byte(strconv.Quote(name))}},
							References: map[string]v1alpha1.EntityReference{"parent": {ID: projectID}}}}
					if err := k8s.Create(ctx, o); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		for i := range n {
			next <- i
		}
		close(next)
		wg.Wait()
		close(errs)
		created <- <-errs
	}()
	ready := func() int {
		var list v1alpha1.FtrackEntityList
		if err := k8s.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return -1
		}
		c := 0
		for i := range list.Items {
			if isReadyCondition(list.Items[i].Status.Conditions) {
				c++
			}
		}
		return c
	}

	var takeovers []time.Duration
	for k := range kills {
		// Each kill lands in the middle of the work: after a further 10 % of the objects.
		target := (k + 1) * n / 10
		waitUntil(fmt.Sprintf("%d objects Ready before kill %d", target, k+1), 3*time.Minute, func() bool { return ready() >= target })
		old := leader()
		if old == nil {
			t.Fatalf("no leader before kill %d", k+1)
		}
		killed := time.Now()
		if err := old.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-old.done
		var rest []*haReplica
		for _, r := range live {
			if r != old {
				rest = append(rest, r)
			}
		}
		live = append(rest, start(fmt.Sprintf("%s+", old.name)))
		var next *haReplica
		waitUntil(fmt.Sprintf("a new leader after kill %d", k+1), 2*time.Minute, func() bool { next = leader(); return next != nil && next.reconciles() > 0 })
		took := time.Since(killed)
		takeovers = append(takeovers, took)
		t.Logf("kill %d at %d Ready: replica %s took over and reconciled %.1f s after its predecessor was killed", k+1, ready(), next.name, took.Seconds())
	}
	if err := <-created; err != nil {
		t.Fatalf("creating the objects: %v", err)
	}
	waitUntil(fmt.Sprintf("all %d objects Ready", n), 5*time.Minute, func() bool { return ready() == n })

	// Exactly one entity per object, each the one its status names.
	var list v1alpha1.FtrackEntityList
	if err := k8s.List(ctx, &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, o := range list.Items {
		if prev, dup := ids[o.Status.ID]; dup {
			t.Errorf("%s and %s name the same entity %s", prev, o.Name, o.Status.ID)
		}
		ids[o.Status.ID] = o.Name
		if r, ok := srv.Get("Sequence", o.Status.ID); !ok || r["name"] != o.Name {
			t.Errorf("%s: its entity %s in ftrack is %v", o.Name, o.Status.ID, r)
		}
	}
	if c := srv.Count("Sequence"); c != n {
		t.Errorf("%d sequences in ftrack for %d objects: duplicates or losses", c, n)
	}
	t.Logf("takeover times (SIGKILL of the leader to the new leader's first reconcile, lease duration 15 s): %v", takeovers)
}

func isReadyCondition(conds []metav1.Condition) bool {
	for _, c := range conds {
		if c.Type == v1alpha1.ConditionReady {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}
