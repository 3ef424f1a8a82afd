package export_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/controllers"
	"github.com/ftrack-operator/ftrack-operator/internal/cli"
	"github.com/ftrack-operator/ftrack-operator/internal/export"
	"github.com/ftrack-operator/ftrack-operator/internal/manifests"
	"github.com/ftrack-operator/ftrack-operator/internal/planrun"
	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

var (
	env       *testenv.Environment
	k8s       client.Client
	adminKube string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx := context.Background()
	var err error
	if env, err = testenv.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	if k8s, err = client.New(env.Config, client.Options{Scheme: manifests.Scheme()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "export-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	adminKube = filepath.Join(dir, "admin.kubeconfig")
	if err := env.WriteKubeConfig(adminKube); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	skip := true
	ctrl.SetLogger(logr.Discard())
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Client: controllers.ClientOptions(),
		Scheme: manifests.Scheme(), Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Controller: config.Controller{SkipNameValidation: &skip, MaxConcurrentReconciles: 50},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	conns, err := controllers.SetupConnections(mgr)
	if err == nil {
		err = controllers.SetupEntities(mgr, conns)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = mgr.Start(mctx); close(done) }()
	defer func() { cancel(); <-done }()
	return m.Run()
}

// Ids of the seeded site.
const (
	projectID   = "00000000-0000-4000-8000-00000000e001"
	fstartID    = "00000000-0000-4000-8000-00000000e002"
	sq010ID     = "00000000-0000-4000-8000-00000000e010"
	sq020ID     = "00000000-0000-4000-8000-00000000e020"
	sqOddID     = "00000000-0000-4000-8000-00000000e030"
	sqUpperID   = "00000000-0000-4000-8000-00000000e040"
	shotBaseID  = "00000000-0000-4000-8000-00000000e1"
	taskBaseID  = "00000000-0000-4000-8000-00000000e2"
	fstartValue = 1009
)

// seededSite is a show of several sequences (one whose name has spaces, dots and upper case;
// two whose names differ only by case), shots with tasks, custom attribute values and
// metadata, as a studio's site holds it.
func seededSite() []ftracktest.Record {
	recs := []ftracktest.Record{
		{Type: "CustomAttributeConfiguration", Data: map[string]any{"id": fstartID, "key": "fstart", "label": "Frame start", "entity_type": "task", "object_type_id": builtin.ShotObjectTypeID, "type_id": builtin.NumberCustomAttributeTypeID, "default": 1001, "config": "{}", "core": false}},
		{Type: "Project", Data: map[string]any{"id": projectID, "name": "gullwing", "full_name": "Gullwing", "project_schema_id": builtin.DefaultProjectSchemaID}},
		{Type: "Sequence", Data: map[string]any{"id": sq010ID, "name": "sq010", "parent_id": projectID, "description": "Harbour at dawn"}},
		{Type: "Sequence", Data: map[string]any{"id": sq020ID, "name": "SQ010", "parent_id": projectID}},
		{Type: "Sequence", Data: map[string]any{"id": sqOddID, "name": "Reel 2.v3 plané", "parent_id": projectID}},
		{Type: "Sequence", Data: map[string]any{"id": sqUpperID, "name": "sq040", "parent_id": projectID}},
	}
	n := 0
	for _, seq := range []string{sq010ID, sq020ID, sqOddID} {
		for s := range 3 {
			n++
			shotID := fmt.Sprintf("%s%010d", shotBaseID, n)
			recs = append(recs, ftracktest.Record{Type: "Shot", Data: map[string]any{"id": shotID, "name": fmt.Sprintf("sh%03d", (s+1)*10), "parent_id": seq, "description": "shot " + shotID[len(shotID)-3:], "status_id": builtin.InProgressStatusID}})
			recs = append(recs, ftracktest.Record{Type: "Metadata", Data: map[string]any{"parent_id": shotID, "parent_type": "Shot", "key": "lens", "value": "35mm"}})
			if s == 0 {
				recs = append(recs, ftracktest.Record{Type: "ContextCustomAttributeValue", Data: map[string]any{"configuration_id": fstartID, "entity_id": shotID, "value": fstartValue}})
			}
			for t, typ := range []string{builtin.CompositingTypeID, builtin.AnimationTypeID} {
				recs = append(recs, ftracktest.Record{Type: "Task", Data: map[string]any{
					"id": fmt.Sprintf("%s%010d", taskBaseID, n*10+t), "name": []string{"comp", "anim"}[t], "parent_id": shotID, "type_id": typ, "status_id": builtin.ReadyToStartStatusID,
				}})
			}
		}
	}
	return recs
}

// exportTree runs the export command with --server against srv into a new directory.
func exportTree(t *testing.T, srv *ftracktest.Server, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tree")
	t.Setenv("FTRACK_API_USER", ftracktest.DefaultUser)
	t.Setenv("FTRACK_API_KEY", ftracktest.DefaultAPIKey)
	var out, errOut bytes.Buffer
	all := append([]string{"--server", srv.URL, "--output-dir", dir}, args...)
	if err := export.Command(t.Context(), "export", all, &out, &errOut); err != nil {
		t.Fatalf("export: %v\n%s", err, errOut.String())
	}
	return dir
}

// exportYAML runs the export command with -o yaml and returns standard output.
func exportYAML(t *testing.T, args ...string) string {
	t.Helper()
	t.Setenv("FTRACK_API_USER", ftracktest.DefaultUser)
	t.Setenv("FTRACK_API_KEY", ftracktest.DefaultAPIKey)
	var out, errOut bytes.Buffer
	if err := export.Command(t.Context(), "export", append([]string{"-o", "yaml"}, args...), &out, &errOut); err != nil {
		t.Fatalf("export %v: %v\n%s", args, err, errOut.String())
	}
	return out.String()
}

// readTree returns every file below dir by its path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// snapshot is what ftrack holds of the show, but for the operator's ownership marks.
func snapshot(srv *ftracktest.Server) map[string]any {
	out := map[string]any{}
	for _, typ := range []string{"Project", "Sequence", "Shot", "Task", "ContextCustomAttributeValue", "CustomAttributeConfiguration", "Status", "Type"} {
		out[typ] = srv.All(typ)
	}
	var meta []map[string]any
	for _, m := range srv.All("Metadata") {
		if m["key"] != v1alpha1.MetadataManagedBy {
			meta = append(meta, m)
		}
	}
	out["Metadata"] = meta
	return out
}

// apply renders the tree and creates every object in namespace ns, with the credentials
// Secret the tree leaves out.
func apply(t *testing.T, dir, ns string) []client.Object {
	t.Helper()
	ctx := t.Context()
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ftrack-credentials"},
		StringData: map[string]string{"apiUser": ftracktest.DefaultUser, "apiKey": ftracktest.DefaultAPIKey}}); err != nil {
		t.Fatal(err)
	}
	objs, err := manifests.Kustomize(dir)
	if err != nil {
		t.Fatal(err)
	}
	var entities []client.Object
	for _, u := range objs {
		if err := k8s.Create(ctx, u); err != nil {
			t.Fatalf("creating %s %s: %v", u.GetKind(), u.GetName(), err)
		}
		if u.GetKind() == "FtrackEntity" {
			entities = append(entities, u)
		}
	}
	return entities
}

func waitAllReady(t *testing.T, ns string, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var list v1alpha1.FtrackEntityList
		if err := k8s.List(t.Context(), &list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		ready, first := 0, ""
		for i := range list.Items {
			e := &list.Items[i]
			if meta.IsStatusConditionTrue(e.Status.Conditions, v1alpha1.ConditionReady) {
				ready++
			} else if first == "" {
				first = fmt.Sprintf("%s: %+v", e.Name, e.Status.Conditions)
			}
		}
		if ready == n && len(list.Items) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d objects Ready; first not Ready: %s", ready, n, first)
		}
		timer := time.NewTimer(100 * time.Millisecond)
		<-timer.C
	}
}

// roundTrip exports a site, applies the tree, and checks that nothing but the ownership
// marks reached ftrack, that plan on the tree changes nothing, and that a second export is
// byte-identical.
func roundTrip(t *testing.T, srv *ftracktest.Server, ns string, args ...string) map[string]string {
	t.Helper()
	dir := exportTree(t, srv, append([]string{"-n", ns}, args...)...)
	first := readTree(t, dir)
	before := snapshot(srv)
	srv.ResetRequests()
	entities := apply(t, dir, ns)
	if len(entities) == 0 {
		t.Fatal("the export holds no object")
	}
	waitAllReady(t, ns, len(entities))
	if diff := cmp.Diff(before, snapshot(srv)); diff != "" {
		t.Errorf("applying the export changed ftrack beyond the ownership marks (-before +after):\n%s", diff)
	}
	writes := srv.RequestCount("create") + srv.RequestCount("update") + srv.RequestCount("delete")
	t.Logf("%d objects adopted with %d write requests", len(entities), writes)
	var out, errOut bytes.Buffer
	err := planrun.Command(t.Context(), "plan", []string{"-k", dir, "--kubeconfig", adminKube, "--server", srv.URL, "--no-color"}, strings.NewReader(""), &out, &errOut)
	if code := cli.ExitCode(err); code != 0 {
		t.Errorf("plan of the applied export: exit %d, want 0:\n%s%s", code, out.String(), errOut.String())
	}
	second := readTree(t, exportTree(t, srv, append([]string{"-n", ns}, args...)...))
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("a second export differs (-first +second):\n%s", diff)
	}
	return first
}

func TestExportRoundTripSeededSite(t *testing.T) {
	srv, err := ftracktest.NewServer(ftracktest.WithSeed(seededSite()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	tree := roundTrip(t, srv, "seeded", "--project", "gullwing", "--site")
	var paths []string
	for p := range tree {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	t.Logf("tree:\n%s", strings.Join(paths, "\n"))
	for _, want := range []string{
		"kustomization.yaml", "connection/ftrackconnection.yaml", "connection/secret.example.yaml",
		"site/custom-attributes.yaml", "site/statuses.yaml", "site/types.yaml",
		"show-gullwing/project.yaml", "show-gullwing/sq010/sequence.yaml", "show-gullwing/sq010/sh010.yaml",
	} {
		if _, ok := tree[want]; !ok {
			t.Errorf("the tree has no %s", want)
		}
	}
	shot := tree["show-gullwing/sq010/sh010.yaml"]
	for _, want := range []string{"adopt:\n    id: " + shotBaseID, "fstart: 1009", "lens: 35mm", "name: gullwing-sq010-sh010-comp", "parent:\n      name: gullwing-sq010-sh010", "status:\n      name: status-in-progress"} {
		if !strings.Contains(shot, want) {
			t.Errorf("sh010.yaml lacks %q:\n%s", want, shot)
		}
	}
	for _, unwanted := range []string{"bid: 0", "sort: 0", "status: active"} {
		if strings.Contains(shot, unwanted) || strings.Contains(tree["show-gullwing/project.yaml"], unwanted) {
			t.Errorf("the export writes %q, which is ftrack's default", unwanted)
		}
	}
	// Through the connection of the cluster, the export is the same.
	viaServer, viaCluster := exportYAML(t, "--server", srv.URL, "--project", "gullwing", "--site", "-n", "seeded"),
		exportYAML(t, "--connection", "studio", "--kubeconfig", adminKube, "-n", "seeded", "--project", "gullwing", "--site")
	if diff := cmp.Diff(viaServer, viaCluster); diff != "" {
		t.Errorf("the export through the cluster's connection differs (-server +cluster):\n%s", diff)
	}
	if strings.Contains(tree["connection/secret.example.yaml"], ftracktest.DefaultAPIKey) {
		t.Error("the Secret template holds the API key")
	}
	for p, content := range tree {
		if strings.Contains(content, ftracktest.DefaultAPIKey) {
			t.Errorf("%s holds the API key", p)
		}
	}
}

// TestExportRoundTripFreshSite: a fresh site's configuration (the emulator seeds it like a
// new ftrack site) with a project made through the API, by query references to the site.
func TestExportRoundTripFreshSite(t *testing.T) {
	srv, err := ftracktest.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	s, err := ftrack.NewSession(t.Context(), ftrack.WithServerURL(srv.URL), ftrack.WithAPIUser(ftracktest.DefaultUser),
		ftrack.WithAPIKey(ftracktest.DefaultAPIKey), ftrack.WithoutSchemaCache(), ftrack.WithPluginPaths())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	const pid, qid, hid = "00000000-0000-4000-8000-00000000f101", "00000000-0000-4000-8000-00000000f102", "00000000-0000-4000-8000-00000000f103"
	if _, err := s.Do(t.Context(),
		ftrack.CreateOp("Project", map[string]any{"id": pid, "name": "fresh", "full_name": "Fresh", "project_schema_id": builtin.DefaultProjectSchemaID}),
		ftrack.CreateOp("Sequence", map[string]any{"id": qid, "name": "sq010", "parent_id": pid}),
		ftrack.CreateOp("Shot", map[string]any{"id": hid, "name": "sh010", "parent_id": qid, "description": "made through the API"}),
	); err != nil {
		t.Fatal(err)
	}
	tree := roundTrip(t, srv, "fresh", "--all-projects")
	if !strings.Contains(tree["show-fresh/sq010/sh010.yaml"], `query: Status where name is "Not started"`) {
		t.Errorf("without --site, the status is not referenced by query:\n%s", tree["show-fresh/sq010/sh010.yaml"])
	}
}

// TestExportTypesObserveYAML: --types keeps shots (their sequences are referred to by id),
// --management Observe writes observe-only objects, and -o yaml one stream with the
// connection that applies as it is; adopting it sends no write at all.
func TestExportTypesObserveYAML(t *testing.T) {
	srv, err := ftracktest.NewServer(ftracktest.WithSeed(seededSite()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	t.Setenv("FTRACK_API_USER", ftracktest.DefaultUser)
	t.Setenv("FTRACK_API_KEY", ftracktest.DefaultAPIKey)
	var out, errOut bytes.Buffer
	if err := export.Command(t.Context(), "export", []string{"--server", srv.URL, "--project", "gullwing", "--types", "Shot",
		"--management", "Observe", "-o", "yaml", "-n", "observed"}, &out, &errOut); err != nil {
		t.Fatalf("export: %v\n%s", err, errOut.String())
	}
	objs, err := manifests.Decode(bytes.NewReader(out.Bytes()), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, u := range objs {
		kind := u.GetKind()
		if kind == "FtrackEntity" {
			kind, _, _ = unstructured.NestedString(u.Object, "spec", "entityType")
			if m, _, _ := unstructured.NestedString(u.Object, "spec", "management"); m != string(v1alpha1.ManagementObserve) {
				t.Errorf("%s has management %q, want Observe", u.GetName(), m)
			}
		}
		if u.GetNamespace() != "observed" {
			t.Errorf("%s %s is in namespace %q", u.GetKind(), u.GetName(), u.GetNamespace())
		}
		kinds[kind]++
	}
	if want := map[string]int{"FtrackConnection": 1, "Project": 1, "Shot": 9}; !cmp.Equal(want, kinds) {
		t.Fatalf("the stream holds %v, want %v:\n%s", kinds, want, out.String())
	}
	if !strings.Contains(out.String(), "parent:\n      id: "+sq010ID) {
		t.Errorf("a shot whose sequence is not exported does not refer to it by id:\n%s", out.String())
	}
	if err := k8s.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "observed"}}); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(t.Context(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "observed", Name: "ftrack-credentials"},
		StringData: map[string]string{"apiUser": ftracktest.DefaultUser, "apiKey": ftracktest.DefaultAPIKey}}); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	for _, u := range objs {
		if err := k8s.Create(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	waitAllReady(t, "observed", 10)
	if n := srv.RequestCount("create") + srv.RequestCount("update") + srv.RequestCount("delete"); n != 0 {
		t.Errorf("observing the export sent %d write requests", n)
	}
}

func TestExportRefusesBadCommandLines(t *testing.T) {
	tests := map[string]struct {
		reason string
		args   []string
	}{
		"NoProjects": {"a project or --all-projects is needed", []string{"--server", "http://127.0.0.1:1"}},
		"Both":       {"--project and --all-projects exclude each other", []string{"--all-projects", "--project", "x", "--server", "http://127.0.0.1:1"}},
		"NoSource":   {"a connection or --server is needed", []string{"--all-projects"}},
		"BadFormat":  {"-o is tree or yaml", []string{"--all-projects", "-o", "json", "--server", "http://127.0.0.1:1"}},
		"BadServer":  {"--server needs a scheme", []string{"--all-projects", "--server", "studio.ftrackapp.com"}},
		"Management": {"--management is Manage or Observe", []string{"--all-projects", "--management", "Own", "--server", "http://127.0.0.1:1"}},
		"ExtraArgs":  {"no positional argument", []string{"now"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := export.Command(t.Context(), "export", tc.args, &out, &errOut)
			var u *cli.UsageError
			if !errors.As(err, &u) {
				t.Errorf("%s: %v, want a usage error", tc.reason, err)
			}
		})
	}
}
