package planrun_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/controllers"
	"github.com/ftrack-operator/ftrack-operator/internal/badspecs"
	"github.com/ftrack-operator/ftrack-operator/internal/cli"
	"github.com/ftrack-operator/ftrack-operator/internal/planrun"
	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

var update = flag.Bool("update", false, "rewrite the golden files of the output formats")

// The suite: a control plane with a manager running the operator, and one emulator.
var (
	env        *testenv.Environment
	k8s        client.Client
	emulator   *ftracktest.Server
	adminKube  string // kubeconfig of an administrator
	readerKube string // kubeconfig of a user who may only read
)

// Ids of the legacy entities the emulator holds, made in ftrack by hand.
const (
	legacyProjectID  = "00000000-0000-4000-8000-0000000000c1"
	legacySequenceID = "00000000-0000-4000-8000-0000000000c2"
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
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	if k8s, err = client.New(env.Config, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	seed := append(badspecs.Seed(),
		ftracktest.Record{Type: "Project", Data: map[string]any{"id": legacyProjectID, "name": "legacy", "full_name": "Legacy", "project_schema_id": builtin.DefaultProjectSchemaID}},
		ftracktest.Record{Type: "Sequence", Data: map[string]any{"id": legacySequenceID, "name": "sq500", "parent_id": legacyProjectID, "description": "by hand"}},
	)
	if emulator, err = ftracktest.NewServer(ftracktest.WithSeed(seed...)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = emulator.Close() }()
	dir, err := os.MkdirTemp("", "planrun-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if adminKube, err = kubeconfigFile(dir, "admin", "system:masters"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := readOnlyRBAC(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if readerKube, err = kubeconfigFile(dir, "plan-reader", "plan-readers"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stop, err := startManager(scheme)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	return m.Run()
}

func kubeconfigFile(dir, user string, groups ...string) (string, error) {
	data, err := env.UserKubeConfig(user, groups...)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, user+".kubeconfig")
	return path, os.WriteFile(path, data, 0o600)
}

// readOnlyRBAC lets the group plan-readers read what plan reads, and nothing more: a write
// of plan would be refused.
func readOnlyRBAC(ctx context.Context) error {
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "plan-reader"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"ftrackentities", "ftrackconnections", "clusterftrackconnections"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"secrets", "configmaps", "namespaces"}, Verbs: []string{"get", "list"}},
	}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "plan-reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "plan-readers"}}}
	if err := k8s.Create(ctx, role); err != nil {
		return err
	}
	return k8s.Create(ctx, binding)
}

func startManager(scheme *runtime.Scheme) (func(), error) {
	skip := true
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Client:                 controllers.ClientOptions(),
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: &skip, MaxConcurrentReconciles: 20},
	})
	if err != nil {
		return nil, err
	}
	ctrl.SetLogger(logr.Discard())
	conns, err := controllers.SetupConnections(mgr)
	if err != nil {
		return nil, err
	}
	if err := controllers.SetupEntities(mgr, conns); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = mgr.Start(ctx); close(done) }()
	return func() { cancel(); <-done }, nil
}

// namespace makes a namespace with a Ready connection "studio" to the emulator.
func namespace(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "plan-"}}
	if err := k8s.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	for _, o := range connectionObjects(ns.Name) {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "connection Ready", func() error {
		var c v1alpha1.FtrackConnection
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "studio"}, &c); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady) {
			return errors.New("not Ready")
		}
		return nil
	})
	return ns.Name
}

func connectionObjects(ns string) []client.Object {
	return []client.Object{
		&corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"},
			StringData: map[string]string{"apiUser": ftracktest.DefaultUser, "apiKey": ftracktest.DefaultAPIKey}},
		&v1alpha1.FtrackConnection{TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "FtrackConnection"}, ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "studio"},
			Spec: v1alpha1.FtrackConnectionSpec{ConnectionSettings: v1alpha1.ConnectionSettings{ServerURL: emulator.URL}, SecretRef: v1alpha1.CredentialsSecretReference{Name: "creds"}}},
	}
}

func entity(ns, name, typ string, mutate func(*v1alpha1.FtrackEntity)) *v1alpha1.FtrackEntity {
	e := &v1alpha1.FtrackEntity{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "FtrackEntity"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1alpha1.FtrackEntitySpec{ConnectionRef: v1alpha1.ConnectionReference{Name: "studio"}, EntityType: typ},
	}
	mutate(e)
	return e
}

// show is a project, a sequence and a shot with two tasks, parents by name.
func show(ns, project string, seqDescription string) []*v1alpha1.FtrackEntity {
	return []*v1alpha1.FtrackEntity{
		entity(ns, "show", "Project", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": project, "full_name": project})
			e.Spec.References = map[string]v1alpha1.EntityReference{"project_schema": {ID: builtin.DefaultProjectSchemaID}}
		}),
		entity(ns, "sq010", "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sq010", "description": seqDescription})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "show"}}
		}),
		entity(ns, "sh010", "Shot", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sh010"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sq010"}}
		}),
		entity(ns, "sh010-comp", "Task", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "comp"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sh010"}}
		}),
		entity(ns, "sh010-anim", "Task", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "anim"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sh010"}}
		}),
	}
}

// applyReady creates objs and waits until every one is Ready.
func applyReady(t *testing.T, objs ...*v1alpha1.FtrackEntity) {
	t.Helper()
	for _, o := range objs {
		if err := k8s.Create(t.Context(), o.DeepCopy()); err != nil {
			t.Fatalf("creating %s: %v", o.Name, err)
		}
	}
	for _, o := range objs {
		waitFor(t, time.Minute, o.Name+" Ready", func() error {
			var e v1alpha1.FtrackEntity
			if err := k8s.Get(t.Context(), client.ObjectKeyFromObject(o), &e); err != nil {
				return err
			}
			if !meta.IsStatusConditionTrue(e.Status.Conditions, v1alpha1.ConditionReady) || e.Status.ObservedGeneration != e.Generation {
				return fmt.Errorf("conditions %+v", e.Status.Conditions)
			}
			return nil
		})
	}
}

// manifestFile writes objs as a multi-document YAML file.
func manifestFile(t *testing.T, objs ...any) string {
	t.Helper()
	var b bytes.Buffer
	for _, o := range objs {
		data, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	path := filepath.Join(t.TempDir(), "manifests.yaml")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// plan runs the plan command and returns its output and exit code.
func plan(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := planrun.Command(t.Context(), "plan", args, strings.NewReader(""), &out, &errOut)
	if err != nil && !cli.Silent(err) {
		t.Logf("plan: %v\n%s", err, errOut.String())
	}
	return out.String(), cli.ExitCode(err)
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		timer := time.NewTimer(50 * time.Millisecond)
		<-timer.C
	}
	t.Fatalf("%s: not reached within %s: %v", what, timeout, err)
}

func writes() int {
	return emulator.RequestCount("create") + emulator.RequestCount("update") + emulator.RequestCount("delete")
}

// lines returns the output's lines that start with one of the plan's symbols.
func lines(out string) []string {
	var got []string
	for _, l := range strings.Split(out, "\n") {
		for _, p := range []string{"+ ", "~ ", "= ", "< ", "- ", "! ", "… "} {
			if strings.HasPrefix(l, p) {
				got = append(got, l)
			}
		}
	}
	return got
}

func TestPlanLineKinds(t *testing.T) {
	ns := namespace(t)
	base := show(ns, "lines", "first cut")
	applyReady(t, base...)
	prunedDelete := entity(ns, "sq090", "Sequence", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sq090"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "show"}}
		e.Spec.DeletionPolicy = v1alpha1.DeletionPolicyDelete
	})
	prunedShot := entity(ns, "sq090-sh010", "Shot", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sh010"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sq090"}}
		e.Spec.DeletionPolicy = v1alpha1.DeletionPolicyDelete
	})
	applyReady(t, prunedDelete, prunedShot)

	changed := show(ns, "lines", "second cut")
	objs := []any{changed[0], changed[1], changed[2], changed[3]} // sh010-anim is pruned (Orphan)
	objs = append(objs,
		entity(ns, "sq020", "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sq020"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "show"}}
		}),
		entity(ns, "sq020-sh010", "Shot", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sh010"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sq020"}}
		}),
		entity(ns, "legacy-sq500", "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: legacySequenceID}
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sq500", "description": "managed now"})
		}),
		entity(ns, "waits", "Shot", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sh099"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sq099"}}
		}),
		entity(ns, "typo", "Shot", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sh030", "descripton": "x"}) //nolint:misspell // the misspelt attribute is what the test is about
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sq010"}}
		}),
	)
	path := manifestFile(t, objs...)
	before := writes()
	out, code := plan(t, "--kubeconfig", readerKube, "-n", ns, "-f", path, "--prune", "--no-color")
	t.Log(out)
	if w := writes() - before; w != 0 {
		t.Errorf("plan sent %d writes to ftrack", w)
	}
	if code != 1 {
		t.Errorf("exit code %d, want 1 (an invalid object)", code)
	}
	want := []string{
		"= no change Project lines",
		"~ update Sequence lines / sq010",
		"= no change Shot lines / sq010 / sh010",
		"= no change Task lines / sq010 / sh010 / comp",
		"+ create Sequence lines / sq020",
		"+ create Shot lines / sq020 / sh010",
		"< adopt Sequence legacy / sq500",
		`… waits Shot ` + ns + `/waits (FtrackEntity ` + ns + `/waits): ReferenceNotReady: references.parent: FtrackEntity "sq099" is neither in the manifests nor in the cluster`,
		"! invalid Shot " + ns + "/typo (FtrackEntity " + ns + `/typo): InvalidAttribute: attributes.descripton: Shot has no attribute "descripton"; did you mean "description"?`, //nolint:misspell // the misspelt attribute is what the test is about
		"- remove Task lines / sq010 / sh010 / anim",
		"- delete Sequence lines / sq090",
		"- delete Shot lines / sq090 / sh010",
	}
	if diff := cmp.Diff(want, lines(out)); diff != "" {
		t.Errorf("plan lines (-want +got):\n%s", diff)
	}
	for _, detail := range []string{
		`attributes.description: "first cut" → "second cut"`,
		"under sq020 (created by this plan)",
		"the object goes; the entity is left in ftrack (deletionPolicy Orphan)",
		"deleted from ftrack with what ftrack deletes with it: 1 Shot",
		"Plan: 2 to create, 1 to update, 2 to delete, 1 invalid, 1 to adopt, 1 to remove from the cluster only, 1 waiting.",
	} {
		if !strings.Contains(out, detail) {
			t.Errorf("the plan lacks %q", detail)
		}
	}
}

func TestPlanExitCodes(t *testing.T) {
	ns := namespace(t)
	base := show(ns, "exits", "first cut")
	applyReady(t, base...)
	tests := map[string]struct {
		reason string
		objs   []*v1alpha1.FtrackEntity
		want   int
	}{
		"NoChanges": {reason: "the manifests as applied change nothing", objs: base, want: 0},
		"Changes":   {reason: "a changed description is a change", objs: show(ns, "exits", "second cut"), want: 2},
		"Invalid": {reason: "an invalid object fails the plan", want: 1, objs: append(show(ns, "exits", "first cut"), entity(ns, "bad", "Shot", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "x", "bid": "lots"})
		}))},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs := make([]any, len(tc.objs))
			for i, o := range tc.objs {
				objs[i] = o
			}
			out, code := plan(t, "--kubeconfig", readerKube, "-n", ns, "-f", manifestFile(t, objs...), "--no-color")
			if code != tc.want {
				t.Errorf("%s: exit code %d, want %d\n%s", tc.reason, code, tc.want, out)
			}
		})
	}
}

// TestPlanBadSpecs: each kind of spec the reconciler stalls on is a "!" line with the
// Stalled condition's reason and message, reaching ftrack through --server without a
// cluster.
func TestPlanBadSpecs(t *testing.T) {
	ns := "bad-specs"
	objs := []any{entity(ns, badspecs.TargetName, "Shot", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sh010"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: badspecs.ParentID}}
	})}
	cases := badspecs.Cases()
	for _, tc := range cases {
		objs = append(objs, entity(ns, strings.ToLower(tc.Name), tc.Type, tc.Mutate))
	}
	t.Setenv("FTRACK_API_USER", ftracktest.DefaultUser)
	t.Setenv("FTRACK_API_KEY", ftracktest.DefaultAPIKey)
	out, code := plan(t, "--no-cluster", "--server", emulator.URL, "-f", manifestFile(t, objs...), "--no-color", "-o", "json")
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	var res planrun.Result
	if err := yaml.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("the JSON plan does not parse: %v\n%s", err, out)
	}
	byName := map[string]planrun.Item{}
	for _, it := range res.Items {
		byName[it.Object.Name] = it
	}
	for _, tc := range cases {
		it := byName[strings.ToLower(tc.Name)]
		if it.Action != planrun.ActionInvalid || it.Reason != tc.WantReason || !strings.Contains(it.Message, tc.WantMessage) {
			t.Errorf("%s: %s %s %q, want invalid %s %q", tc.Reason, it.Action, it.Reason, it.Message, tc.WantReason, tc.WantMessage)
		}
	}
	if res.Summary.Invalid != len(cases) {
		t.Errorf("%d invalid, want %d", res.Summary.Invalid, len(cases))
	}
}

// TestPlanFormats compares the three outputs of one plan with golden files (go test
// -run TestPlanFormats -update rewrites them). The plan runs without a cluster against
// entities of fixed ids.
func TestPlanFormats(t *testing.T) {
	ns := "formats"
	objs := []any{
		entity(ns, "legacy", "Project", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: legacyProjectID}
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"full_name": "Legacy | renamed"})
		}),
		entity(ns, "sq600", "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sq600", "description": "new"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "legacy"}}
		}),
		entity(ns, "sq600-sh010", "Shot", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sh010"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sq600"}}
		}),
		entity(ns, "typo", "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sq700", "ful_name": "x"})
		}),
		&corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}, ObjectMeta: metav1.ObjectMeta{Name: "unrelated", Namespace: ns}},
	}
	path := manifestFile(t, objs...)
	t.Setenv("FTRACK_API_USER", ftracktest.DefaultUser)
	t.Setenv("FTRACK_API_KEY", ftracktest.DefaultAPIKey)
	for _, format := range []string{"text", "json", "markdown"} {
		t.Run(format, func(t *testing.T) {
			out, code := plan(t, "--no-cluster", "--server", emulator.URL, "-f", path, "--no-color", "-o", format)
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			golden := filepath.Join("testdata", "plan."+format+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -run TestPlanFormats -update writes it)", err)
			}
			if diff := cmp.Diff(string(want), out); diff != "" {
				t.Errorf("%s output (-golden +got):\n%s", format, diff)
			}
		})
	}
}

// TestPlanWithConnectionInTheManifests: the connection and its Secret in the manifests are
// used as they would be once applied, without a cluster.
func TestPlanWithConnectionInTheManifests(t *testing.T) {
	ns := "manifest-connection"
	objs := []any{}
	for _, o := range connectionObjects(ns) {
		objs = append(objs, o)
	}
	objs = append(objs, entity(ns, "sq800", "Sequence", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sq800"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: legacyProjectID}}
	}))
	before := writes()
	out, code := plan(t, "--no-cluster", "-f", manifestFile(t, objs...), "--no-color")
	if code != 2 {
		t.Errorf("exit code %d, want 2\n%s", code, out)
	}
	if diff := cmp.Diff([]string{"+ create Sequence legacy / sq800"}, lines(out)); diff != "" {
		t.Errorf("plan lines (-want +got):\n%s", diff)
	}
	if w := writes() - before; w != 0 {
		t.Errorf("plan sent %d writes to ftrack", w)
	}
}
