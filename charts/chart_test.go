// Package charts_test tests the Helm chart charts/ftrack-operator: helm lint, what it renders
// with default and other values, that bad values fail, that it grants what config/default
// and install.yaml grant, and (install_test.go) that it installs into a control plane where
// the manager, running under its RBAC, converges the samples.
package charts_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/ftrack-operator/ftrack-operator/internal/manifests"
	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
)

const (
	chartPath   = "charts/ftrack-operator"
	releaseName = "ftrack-operator"
	releaseNS   = "ftrack-operator-system"
)

func root(t *testing.T) string {
	t.Helper()
	r, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// helm runs the helm binary of testenv.Helm with its caches and configuration in a
// temporary directory, and returns its standard output; stderr goes into the error.
func helm(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	bin, err := testenv.Helm()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(home, "cache"), "HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// render runs helm template on the chart (CRDs included) with the release name and
// namespace of config/default and the --set values given.
func render(t *testing.T, set ...string) []*unstructured.Unstructured {
	t.Helper()
	out, err := renderErr(t, set...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func renderErr(t *testing.T, set ...string) ([]*unstructured.Unstructured, error) {
	t.Helper()
	args := []string{"template", releaseName, chartPath, "--namespace", releaseNS, "--include-crds"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, err := helm(t, root(t), args...)
	if err != nil {
		return nil, err
	}
	return decodeYAML(t, []byte(out)), nil
}

// decodeYAML decodes a multi-document stream (helm template's output, install.yaml).
func decodeYAML(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	objs, err := manifests.Decode(bytes.NewReader(data), "rendered manifests")
	if err != nil {
		t.Fatal(err)
	}
	return normalizeAll(t, objs)
}

// kustomize renders config/<dir>.
func kustomize(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := manifests.Kustomize(filepath.Join(root(t), "config", dir))
	if err != nil {
		t.Fatal(err)
	}
	return normalizeAll(t, objs)
}

func normalizeAll(t *testing.T, objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	t.Helper()
	for i, o := range objs {
		objs[i] = normalize(t, o.Object)
	}
	return objs
}

// normalize makes m an object as the API machinery reads it (integers int64), whatever
// decoded it.
func normalize(t *testing.T, m map[string]any) *unstructured.Unstructured {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return u
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && (name == "" || o.GetName() == name) {
			return o
		}
	}
	return nil
}

func count(objs []*unstructured.Unstructured, kind string) int {
	n := 0
	for _, o := range objs {
		if o.GetKind() == kind {
			n++
		}
	}
	return n
}

func managerContainer(t *testing.T, objs []*unstructured.Unstructured) map[string]any {
	t.Helper()
	d := find(objs, "Deployment", "")
	if d == nil {
		t.Fatal("no Deployment rendered")
	}
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	for _, c := range cs {
		if m, _ := c.(map[string]any); m["name"] == "manager" {
			return m
		}
	}
	t.Fatal("the Deployment has no container named manager")
	return nil
}

func args(c map[string]any) []string {
	var out []string
	raw, _ := c["args"].([]any)
	for _, a := range raw {
		s, _ := a.(string)
		out = append(out, s)
	}
	return out
}

func TestChartLints(t *testing.T) {
	for name, set := range map[string][]string{
		"Default":    nil,
		"Namespaced": {"installMode=namespaced", "watchNamespaces={studio,commercials}", "webhook.certManager.enabled=true", "metrics.serviceMonitor.enabled=true", "replicaCount=1"},
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"lint", "--strict", chartPath}
			for _, s := range set {
				args = append(args, "--set", s)
			}
			out, err := helm(t, root(t), args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(out, "0 chart(s) failed") {
				t.Errorf("helm lint:\n%s", out)
			}
		})
	}
}

// TestChartCRDsAreTheGeneratedCRDs: crds/ holds config/crd/bases as make manifests copies it
// (make verify fails when they differ; this says which file).
func TestChartCRDsAreTheGeneratedCRDs(t *testing.T) {
	r := root(t)
	want, _ := filepath.Glob(filepath.Join(r, "config", "crd", "bases", "*.yaml"))
	got, _ := filepath.Glob(filepath.Join(r, chartPath, "crds", "*.yaml"))
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("the chart has %d CRD files, config/crd/bases %d; run make manifests", len(got), len(want))
	}
	for _, w := range want {
		a, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(r, chartPath, "crds", filepath.Base(w)))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s/crds/%s differs from config/crd/bases (%v); run make manifests", chartPath, filepath.Base(w), err)
		}
	}
}

func TestChartDefaultValues(t *testing.T) {
	objs := render(t)
	for kind, n := range map[string]int{
		"CustomResourceDefinition": 3, "ServiceAccount": 1, "ClusterRole": 3, "ClusterRoleBinding": 1, "Role": 1, "RoleBinding": 1,
		"Deployment": 1, "Service": 2, "Secret": 1, "MutatingWebhookConfiguration": 1, "ValidatingWebhookConfiguration": 1,
		"PodDisruptionBudget": 1, "Issuer": 0, "Certificate": 0, "ServiceMonitor": 0, "Namespace": 0,
	} {
		if got := count(objs, kind); got != n {
			t.Errorf("%d %s rendered, want %d", got, kind, n)
		}
	}
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" && !strings.HasPrefix(o.GetName(), "ftrack-operator-") {
			t.Errorf("%s %s is not named ftrack-operator-…", o.GetKind(), o.GetName())
		}
	}
	c := managerContainer(t, objs)
	if c["image"] != "ftrack-operator:"+chartAppVersion(t) {
		t.Errorf("image %v, want ftrack-operator:%s", c["image"], chartAppVersion(t))
	}
	a := args(c)
	for _, want := range []string{"--leader-elect", "--metrics-bind-address=:8080", "--health-probe-bind-address=:8081", "--webhook-port=9443", "--leader-elect-lease-duration=15s"} {
		if !slices.Contains(a, want) {
			t.Errorf("manager args %v lack %s", a, want)
		}
	}
	if slices.ContainsFunc(a, func(s string) bool { return strings.HasPrefix(s, "--watch-namespaces") }) {
		t.Errorf("the cluster install limits the namespaces: %v", a)
	}

	// The generated certificate serves the webhook Service's names and chains to the
	// caBundle of both webhook configurations.
	secret := find(objs, "Secret", "ftrack-operator-webhook-server-cert")
	if secret == nil {
		t.Fatal("no Secret ftrack-operator-webhook-server-cert")
	}
	data, _, _ := unstructured.NestedStringMap(secret.Object, "data")
	pool := x509.NewCertPool()
	caPEM := mustB64(t, data["ca.crt"])
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.crt holds no certificate")
	}
	block, _ := pem.Decode(mustB64(t, data["tls.crt"]))
	if block == nil {
		t.Fatal("tls.crt holds no certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, dns := range []string{"ftrack-operator-webhook-service.ftrack-operator-system.svc", "ftrack-operator-webhook-service.ftrack-operator-system.svc.cluster.local"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: dns, Roots: pool}); err != nil {
			t.Errorf("the serving certificate does not verify for %s: %v", dns, err)
		}
	}
	if len(mustB64(t, data["tls.key"])) == 0 {
		t.Error("tls.key is empty")
	}
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		wh, _, _ := unstructured.NestedSlice(find(objs, kind, "").Object, "webhooks")
		for _, w := range wh {
			cc, _, _ := unstructured.NestedMap(w.(map[string]any), "clientConfig")
			if cc["caBundle"] != data["ca.crt"] {
				t.Errorf("%s: caBundle is not the Secret's ca.crt", kind)
			}
			svc, _, _ := unstructured.NestedMap(cc, "service")
			if svc["name"] != "ftrack-operator-webhook-service" || svc["namespace"] != releaseNS {
				t.Errorf("%s points at %v", kind, svc)
			}
		}
	}
}

// sortedByName sorts a list of objects by their mountPath or name (kustomize's patches
// reorder them); anything else is returned as it is.
func sortedByName(v any) any {
	l, ok := v.([]any)
	if !ok {
		return v
	}
	key := func(x any) string {
		m, _ := x.(map[string]any)
		return fmt.Sprint(m["mountPath"], m["name"])
	}
	out := slices.Clone(l)
	slices.SortFunc(out, func(a, b any) int { return strings.Compare(key(a), key(b)) })
	return out
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("decoding base64: %v", err)
	}
	return b
}

func chartAppVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root(t), chartPath, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c.AppVersion
}

func TestChartOtherValues(t *testing.T) {
	objs := render(t,
		"installMode=namespaced", "watchNamespaces={studio,commercials}",
		"webhook.certManager.enabled=true", "metrics.serviceMonitor.enabled=true", "metrics.serviceMonitor.labels.release=prom",
		"image.repository=registry.example.com/ftrack-operator", "image.digest=sha256:"+strings.Repeat("ab", 32),
		"replicaCount=1", "logLevel=debug", "extraArgs={--concurrency=50}", "leaderElection.leaseDuration=30s",
		"nodeSelector.kubernetes\\.io/os=linux", "serviceAccount.annotations.team=pipeline", "rbac.userRoles=false")
	for kind, n := range map[string]int{
		"ClusterRole": 1, "Role": 3, "RoleBinding": 3, "Secret": 0, "Issuer": 1, "Certificate": 1, "ServiceMonitor": 1, "PodDisruptionBudget": 0,
	} {
		if got := count(objs, kind); got != n {
			t.Errorf("%d %s rendered, want %d", got, kind, n)
		}
	}
	rules, _, _ := unstructured.NestedSlice(find(objs, "ClusterRole", "ftrack-operator-manager-role").Object, "rules")
	for _, r := range rules {
		res, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "resources")
		if slices.Contains(res, "secrets") || slices.Contains(res, "configmaps") {
			t.Errorf("the namespaced ClusterRole grants %v", res)
		}
	}
	for _, ns := range []string{"studio", "commercials"} {
		found := false
		for _, o := range objs {
			if o.GetKind() == "Role" && o.GetNamespace() == ns && o.GetName() == "ftrack-operator-secret-access" {
				found = true
			}
		}
		if !found {
			t.Errorf("no Role ftrack-operator-secret-access in %s", ns)
		}
	}
	c := managerContainer(t, objs)
	if want := "registry.example.com/ftrack-operator@sha256:" + strings.Repeat("ab", 32); c["image"] != want {
		t.Errorf("image %v, want %s", c["image"], want)
	}
	a := args(c)
	for _, want := range []string{"--watch-namespaces=studio,commercials", "--zap-log-level=debug", "--concurrency=50", "--leader-elect-lease-duration=30s"} {
		if !slices.Contains(a, want) {
			t.Errorf("manager args %v lack %s", a, want)
		}
	}
	d := find(objs, "Deployment", "")
	if r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); r != 1 {
		t.Errorf("replicas %d, want 1", r)
	}
	if ns, _, _ := unstructured.NestedStringMap(d.Object, "spec", "template", "spec", "nodeSelector"); ns["kubernetes.io/os"] != "linux" {
		t.Errorf("nodeSelector %v", ns)
	}
	cert := find(objs, "Certificate", "")
	if secretName, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName"); secretName != "ftrack-operator-webhook-server-cert" {
		t.Errorf("the Certificate writes %q", secretName)
	}
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		if got := find(objs, kind, "").GetAnnotations()["cert-manager.io/inject-ca-from"]; got != releaseNS+"/ftrack-operator-serving-cert" {
			t.Errorf("%s inject-ca-from %q", kind, got)
		}
	}
	if l := find(objs, "ServiceMonitor", "").GetLabels()["release"]; l != "prom" {
		t.Errorf("ServiceMonitor label release=%q", l)
	}

	// An issuer of one's own replaces the chart's.
	objs = render(t, "webhook.certManager.enabled=true", "webhook.certManager.issuerRef.name=studio-ca", "webhook.certManager.issuerRef.kind=ClusterIssuer")
	if count(objs, "Issuer") != 0 {
		t.Error("the chart's Issuer is rendered although issuerRef names another")
	}
	if ref, _, _ := unstructured.NestedStringMap(find(objs, "Certificate", "").Object, "spec", "issuerRef"); ref["name"] != "studio-ca" || ref["kind"] != "ClusterIssuer" {
		t.Errorf("issuerRef %v", ref)
	}

	// Another release name prefixes every name; webhooks off leave no webhook object.
	objs = render(t, "webhook.enabled=false", "metrics.enabled=false")
	for _, kind := range []string{"Secret", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "Service"} {
		if n := count(objs, kind); n != 0 {
			t.Errorf("%d %s rendered with the webhooks and metrics off", n, kind)
		}
	}
	if a := args(managerContainer(t, objs)); !slices.Contains(a, "--webhook-port=0") || !slices.Contains(a, "--metrics-bind-address=0") {
		t.Errorf("manager args %v", a)
	}
}

// TestChartRefusesBadValues: values.schema.json (and the template's own checks) fail the
// install with what is wrong.
func TestChartRefusesBadValues(t *testing.T) {
	for name, tc := range map[string]struct{ set, want string }{
		"UnknownMode":             {"installMode=global", "installMode"},
		"NamespacedWithoutList":   {"installMode=namespaced", "watchNamespaces"},
		"ClusterWithList":         {"watchNamespaces={studio}", "watchNamespaces"},
		"BadNamespaceName":        {"watchNamespaces={Studio_1}", "watchNamespaces/0"},
		"MisspeltKey":             {"replicas=3", "additional properties 'replicas' not allowed"},
		"NoReplica":               {"replicaCount=0", "replicaCount"},
		"DurationWithoutUnit":     {"leaderElection.leaseDuration=15", "leaseDuration"},
		"PullPolicy":              {"image.pullPolicy=Sometimes", "pullPolicy"},
		"FailurePolicy":           {"webhook.failurePolicy=Retry", "failurePolicy"},
		"IssuerWithoutKind":       {"webhook.certManager.issuerRef.name=ca", "issuerRef"},
		"ArgWithoutDashes":        {"extraArgs={concurrency=5}", "extraArgs/0"},
		"MetricsOnTheProbePort":   {"metrics.port=8081", "metrics/port"},
		"LogLevel":                {"logLevel=verbose", "logLevel"},
		"DigestWithoutAlgorithm":  {"image.digest=abc", "digest"},
		"EmptyRepository":         {"image.repository=", "repository"},
		"ServiceMonitorInterval":  {"metrics.serviceMonitor.interval=often", "interval"},
		"NamespacedEmptyListFail": {"installMode=namespaced,watchNamespaces=null", "watchNamespaces"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := renderErr(t, tc.set)
			if err == nil {
				t.Fatalf("--set %s rendered", tc.set)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("--set %s: the error does not name %q:\n%v", tc.set, tc.want, err)
			}
		})
	}
}

// TestChartValuesAreDocumented: every value of values.yaml is in the schema and in the
// chart's README table, and the README lists no value that does not exist.
func TestChartValuesAreDocumented(t *testing.T) {
	r := root(t)
	var values map[string]any
	data, err := os.ReadFile(filepath.Join(r, chartPath, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	data, err = os.ReadFile(filepath.Join(r, chartPath, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(r, chartPath, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	_, table, _ := strings.Cut(string(readme), "\n## Values\n")
	for line := range strings.SplitSeq(table, "\n") {
		if strings.HasPrefix(line, "| `") {
			documented[strings.Trim(strings.Split(line, "|")[1], " `")] = true
		}
	}
	leaves := valueLeaves("", values)
	for _, leaf := range leaves {
		if !documented[leaf] {
			t.Errorf("value %s is not in the table of %s/README.md", leaf, chartPath)
		}
		if !inSchema(schema, strings.Split(leaf, ".")) {
			t.Errorf("value %s is not in values.schema.json", leaf)
		}
	}
	for d := range documented {
		if !slices.Contains(leaves, d) && d != "Value" {
			t.Errorf("README documents %s, which values.yaml does not have", d)
		}
	}
}

// valueLeaves lists the dotted paths of values: a map with keys is walked into, anything
// else (lists, empty maps, scalars) is a value, as is resources (one value in the README).
func valueLeaves(prefix string, v map[string]any) []string {
	var out []string
	for k, x := range v {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		if m, ok := x.(map[string]any); ok && len(m) > 0 && p != "resources" {
			out = append(out, valueLeaves(p, m)...)
			continue
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func inSchema(schema map[string]any, path []string) bool {
	for _, p := range path {
		props, _ := schema["properties"].(map[string]any)
		next, ok := props[p].(map[string]any)
		if !ok {
			return false
		}
		schema = next
	}
	return true
}

// grants lists what the RBAC objects of an install grant, one line per subject (or
// aggregation label), scope, API group, resource and verb, so that two installs compare
// regardless of how their roles are split or ordered.
func grants(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	type key struct{ kind, ns, name string }
	roles := map[key][]any{}
	for _, o := range objs {
		if o.GetKind() == "ClusterRole" || o.GetKind() == "Role" {
			rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
			roles[key{o.GetKind(), o.GetNamespace(), o.GetName()}] = rules
			for l, v := range o.GetLabels() {
				if strings.HasPrefix(l, "rbac.authorization.k8s.io/aggregate-to-") && v == "true" {
					roles[key{"aggregate", "", l}] = append(roles[key{"aggregate", "", l}], rules...)
				}
			}
		}
	}
	set := map[string]bool{}
	expand := func(who, scope string, rules []any) {
		for _, r := range rules {
			m := r.(map[string]any)
			groups, _, _ := unstructured.NestedStringSlice(m, "apiGroups")
			resources, _, _ := unstructured.NestedStringSlice(m, "resources")
			verbs, _, _ := unstructured.NestedStringSlice(m, "verbs")
			names, _, _ := unstructured.NestedStringSlice(m, "resourceNames")
			for _, g := range groups {
				for _, res := range resources {
					for _, v := range verbs {
						set[fmt.Sprintf("%s | %s | %s/%s %s %v", who, scope, g, res, v, names)] = true
					}
				}
			}
		}
	}
	for k, rules := range roles {
		if k.kind == "aggregate" {
			expand(k.name, "*", rules)
		}
	}
	for _, o := range objs {
		if o.GetKind() != "ClusterRoleBinding" && o.GetKind() != "RoleBinding" {
			continue
		}
		ref, _, _ := unstructured.NestedStringMap(o.Object, "roleRef")
		k := key{ref["kind"], "", ref["name"]}
		scope := "*"
		if o.GetKind() == "RoleBinding" {
			scope = o.GetNamespace()
			if k.kind == "Role" {
				k.ns = o.GetNamespace()
			}
		}
		rules, ok := roles[k]
		if !ok {
			t.Errorf("%s %s/%s binds %v, which the install does not have", o.GetKind(), o.GetNamespace(), o.GetName(), ref)
		}
		subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
		for _, s := range subjects {
			sm := s.(map[string]any)
			expand(fmt.Sprintf("%s %v/%v", sm["kind"], sm["namespace"], sm["name"]), scope, rules)
		}
	}
	out := make([]string, 0, len(set))
	for g := range set {
		out = append(out, g)
	}
	slices.Sort(out)
	return out
}

// TestInstallsGrantTheSamePermissions: the chart, install.yaml and config/default grant the
// same permissions to the same subjects; the namespaced chart the same as config/namespaced.
func TestInstallsGrantTheSamePermissions(t *testing.T) {
	configDefault := grants(t, kustomize(t, "default"))
	if len(configDefault) < 20 {
		t.Fatalf("config/default grants only %d permissions:\n%s", len(configDefault), strings.Join(configDefault, "\n"))
	}
	compare := func(name string, got, want []string) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			var missing, extra []string
			for _, g := range want {
				if !slices.Contains(got, g) {
					missing = append(missing, g)
				}
			}
			for _, g := range got {
				if !slices.Contains(want, g) {
					extra = append(extra, g)
				}
			}
			t.Errorf("%s grants differently.\nmissing:\n%s\nextra:\n%s", name, strings.Join(missing, "\n"), strings.Join(extra, "\n"))
		}
	}
	compare("the chart (default values)", grants(t, render(t)), configDefault)
	compare("the chart (installMode namespaced, watchNamespaces studio)", grants(t, render(t, "installMode=namespaced", "watchNamespaces={studio}")), grants(t, kustomize(t, "namespaced")))
	compare("install.yaml", grants(t, decodeYAML(t, releaseInstallYAML(t))), configDefault)
}

// TestChartMatchesConfigDefault: the chart's webhooks and manager pod are config/default's
// (the same webhook rules and paths; the same security settings, probes and resources).
func TestChartMatchesConfigDefault(t *testing.T) {
	chart, config := render(t), kustomize(t, "default")
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		a, _, _ := unstructured.NestedSlice(find(chart, kind, "").Object, "webhooks")
		b, _, _ := unstructured.NestedSlice(find(config, kind, "").Object, "webhooks")
		if len(a) != len(b) {
			t.Fatalf("%s: the chart has %d webhooks, config/default %d", kind, len(a), len(b))
		}
		for i := range a {
			wa, wb := a[i].(map[string]any), b[i].(map[string]any)
			for _, f := range []string{"name", "rules", "failurePolicy", "sideEffects", "timeoutSeconds", "admissionReviewVersions", "reinvocationPolicy"} {
				if !reflect.DeepEqual(wa[f], wb[f]) {
					t.Errorf("%s %v: %s is %v in the chart, %v in config/default", kind, wa["name"], f, wa[f], wb[f])
				}
			}
			pa, _, _ := unstructured.NestedString(wa, "clientConfig", "service", "path")
			pb, _, _ := unstructured.NestedString(wb, "clientConfig", "service", "path")
			if pa != pb {
				t.Errorf("%s %v: path %s in the chart, %s in config/default", kind, wa["name"], pa, pb)
			}
		}
	}
	dc, dd := find(chart, "Deployment", ""), find(config, "Deployment", "")
	for _, f := range [][]string{{"spec", "replicas"}, {"spec", "template", "spec", "securityContext"}, {"spec", "template", "spec", "terminationGracePeriodSeconds"}} {
		a, _, _ := unstructured.NestedFieldNoCopy(dc.Object, f...)
		b, _, _ := unstructured.NestedFieldNoCopy(dd.Object, f...)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("Deployment %s: %v in the chart, %v in config/default", strings.Join(f, "."), a, b)
		}
	}
	cc, cd := managerContainer(t, chart), managerContainer(t, config)
	for _, f := range []string{"securityContext", "livenessProbe", "readinessProbe", "resources", "volumeMounts"} {
		if !reflect.DeepEqual(sortedByName(cc[f]), sortedByName(cd[f])) {
			t.Errorf("manager container %s: %v in the chart, %v in config/default", f, cc[f], cd[f])
		}
	}
	for _, a := range args(cd) {
		if !slices.Contains(args(cc), a) {
			t.Errorf("config/default runs the manager with %s, the chart does not (%v)", a, args(cc))
		}
	}
}
