// Package config_test checks the deployable manifests of config/ against a real kube-apiserver:
// the CRDs serve every kind, and config/default renders and applies with a server-side dry run.
package config_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	ftrackv1alpha1 "github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/manifests"
	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
)

var k8s client.Client

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := testenv.ModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env, err := testenv.Start(context.Background(), testenv.WithCRDs(filepath.Join(root, "config", "testdata", "cert-manager-crds.yaml")))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		panic(err)
	}
	if err := ftrackv1alpha1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	k8s, err = client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// TestCRDsServeEachKind creates one object of each kind and reads it back: what was set
// comes back, and the status defaults so that kstatus reads the new object as InProgress.
func TestCRDsServeEachKind(t *testing.T) {
	ctx := t.Context()
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName("smoke")
	if err := k8s.Create(ctx, ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}

	objects := map[string]map[string]any{
		"FtrackConnection": {
			"metadata": map[string]any{"name": "studio", "namespace": "smoke"},
			"spec": map[string]any{
				"serverURL": "https://studio.ftrackapp.com",
				"secretRef": map[string]any{"name": "studio-credentials"},
			},
		},
		"ClusterFtrackConnection": {
			"metadata": map[string]any{"name": "studio"},
			"spec": map[string]any{
				"serverURL": "https://studio.ftrackapp.com",
				"secretRef": map[string]any{"name": "studio-credentials", "namespace": "smoke"},
			},
		},
		"FtrackEntity": {
			"metadata": map[string]any{"name": "show", "namespace": "smoke"},
			"spec": map[string]any{
				"connectionRef": map[string]any{"kind": "FtrackConnection", "name": "studio"},
				"entityType":    "Project",
			},
		},
	}
	for kind, content := range objects {
		t.Run(kind, func(t *testing.T) {
			obj := &unstructured.Unstructured{Object: content}
			obj.SetAPIVersion(ftrackv1alpha1.GroupVersion.String())
			obj.SetKind(kind)
			want := obj.DeepCopy()
			if err := k8s.Create(ctx, obj); err != nil {
				t.Fatalf("create: %v", err)
			}
			read := &unstructured.Unstructured{}
			read.SetGroupVersionKind(want.GroupVersionKind())
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), read); err != nil {
				t.Fatalf("read back: %v", err)
			}
			// The apiserver may add defaults; everything the test set must come back as it was.
			if diff := cmp.Diff(want.Object["spec"], read.Object["spec"], cmpopts.IgnoreMapEntries(func(k string, _ any) bool {
				return !hasKey(want.Object["spec"], k)
			})); diff != "" {
				t.Errorf("spec read back differs (-created +read):\n%s", diff)
			}
			// No operator runs here: an object no reconcile has seen must not read as Current
			// to kstatus (Flux and Argo CD would take it as healthy before anything happened).
			if og, found, err := unstructured.NestedInt64(read.Object, "status", "observedGeneration"); err != nil || !found || og != 0 {
				t.Errorf("status.observedGeneration of a new object = %d (found %v, %v), want the default 0", og, found, err)
			}
			res, err := status.Compute(read)
			if err != nil {
				t.Fatalf("kstatus: %v", err)
			}
			if res.Status != status.InProgressStatus {
				t.Errorf("kstatus of a new object = %s (%s), want InProgress", res.Status, res.Message)
			}
		})
	}
}

// hasKey reports whether k is a key of m or of any map nested in it.
func hasKey(m any, k string) bool {
	mm, ok := m.(map[string]any)
	if !ok {
		return false
	}
	for key, v := range mm {
		if key == k || hasKey(v, k) {
			return true
		}
	}
	return false
}

// TestCRDValidationRejectsBadURL shows that the CEL rule on serverURL is served.
func TestCRDValidationRejectsBadURL(t *testing.T) {
	conn := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "bad-url", "namespace": "default"},
		"spec": map[string]any{
			"serverURL": "ftp://studio.example",
			"secretRef": map[string]any{"name": "studio-credentials"},
		},
	}}
	conn.SetAPIVersion(ftrackv1alpha1.GroupVersion.String())
	conn.SetKind("FtrackConnection")
	err := k8s.Create(t.Context(), conn)
	if err == nil {
		t.Fatal("a serverURL with the ftp scheme was accepted")
	}
	if !strings.Contains(err.Error(), "serverURL") {
		t.Errorf("the refusal does not name serverURL: %v", err)
	}
}

// TestDefaultKustomizationAppliesWithServerSideDryRun renders config/default and applies every
// object with a server-side dry run, so a manifest the apiserver would refuse fails here.
func TestDefaultKustomizationAppliesWithServerSideDryRun(t *testing.T) {
	objs := render(t, "default")
	dryRunApply(t, "default", objs)
}

// TestNamespacedKustomization: config/namespaced is config/default whose ClusterRole grants no
// Secret or ConfigMap, with that access granted by a Role in each watched namespace, and the
// manager told to watch those namespaces alone.
func TestNamespacedKustomization(t *testing.T) {
	objs := render(t, "namespaced")
	var watch []string
	roleNamespaces := map[string]bool{}
	for _, obj := range objs {
		switch obj.GetKind() {
		case "ClusterRole":
			if obj.GetName() != "ftrack-operator-manager-role" {
				continue
			}
			rules, _, _ := unstructured.NestedFieldNoCopy(obj.Object, "rules")
			for _, r := range rules.([]any) {
				res, _ := r.(map[string]any)["resources"].([]any)
				for _, x := range res {
					if x == "secrets" || x == "configmaps" {
						t.Errorf("the namespaced ClusterRole still grants %s: %v", x, r)
					}
				}
			}
		case "Role":
			rules, _, _ := unstructured.NestedFieldNoCopy(obj.Object, "rules")
			for _, r := range rules.([]any) {
				res, _ := r.(map[string]any)["resources"].([]any)
				for _, x := range res {
					if x == "secrets" {
						roleNamespaces[obj.GetNamespace()] = true
					}
				}
			}
		case "Deployment":
			containers, _, _ := unstructured.NestedFieldNoCopy(obj.Object, "spec", "template", "spec", "containers")
			for _, a := range containers.([]any)[0].(map[string]any)["args"].([]any) {
				if v, ok := strings.CutPrefix(a.(string), "--watch-namespaces="); ok {
					watch = append(watch, strings.Split(v, ",")...)
				}
			}
		}
	}
	if len(watch) == 0 {
		t.Fatal("the namespaced Deployment has no --watch-namespaces")
	}
	for _, ns := range watch {
		if !roleNamespaces[ns] {
			t.Errorf("namespace %s is watched but no Role grants Secret access in it", ns)
		}
	}
	for ns := range roleNamespaces {
		if err := k8s.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	dryRunApply(t, "namespaced", objs)
}

// dryRunApply applies objs (rendered from config/dir) with a server-side dry run.
func dryRunApply(t *testing.T, dir string, objs []*unstructured.Unstructured) {
	t.Helper()
	kinds := map[string]int{}
	for _, obj := range objs {
		kinds[obj.GetKind()]++
	}
	for _, kind := range []string{"Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment", "Service",
		"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "Issuer", "Certificate"} {
		if kinds[kind] == 0 {
			t.Errorf("config/%s renders no %s (kinds rendered: %v)", dir, kind, kinds)
		}
	}
	if kinds["CustomResourceDefinition"] != 3 {
		t.Errorf("config/%s renders %d CRDs, want 3", dir, kinds["CustomResourceDefinition"])
	}
	ctx := t.Context()
	// The namespace must exist for a dry run of the namespaced objects to be admitted.
	for _, obj := range objs {
		if obj.GetKind() == "Namespace" {
			if err := k8s.Create(ctx, obj.DeepCopy()); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("creating namespace %s: %v", obj.GetName(), err)
			}
		}
	}
	for _, obj := range objs {
		if err := k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner("config-test"), client.ForceOwnership, client.DryRunAll); err != nil {
			t.Errorf("server-side dry-run apply of %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
}

func render(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifests.Kustomize(filepath.Join(root, "config", dir))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestCRDDescriptionsAreReflowed: `kubectl explain` prints a description's line breaks as
// they are, so a paragraph of the CRDs' descriptions is one line (make manifests runs
// hack/crd-reflow after controller-gen). Breaks stay between paragraphs, before list items
// and around indented lines.
func TestCRDDescriptionsAreReflowed(t *testing.T) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRD files: %v", err)
	}
	listItem := regexp.MustCompile(`^([-*]|\d+\.)\s`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "description" {
					lines := strings.Split(s, "\n")
					for i := 1; i < len(lines); i++ {
						prev, line := lines[i-1], lines[i]
						if strings.TrimSpace(prev) == "" || strings.TrimSpace(line) == "" || listItem.MatchString(strings.TrimSpace(line)) ||
							strings.HasPrefix(line, " ") || strings.HasPrefix(prev, " ") || strings.HasPrefix(line, "\t") || strings.HasPrefix(prev, "\t") {
							continue
						}
						t.Errorf("%s: a line break inside a paragraph (run make manifests): %q / %q", path, prev, line)
						break
					}
					continue
				}
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		walk(filepath.Base(f), doc)
	}
}
