package dev

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftrackv1alpha1 "github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/manifests"
)

// renderSamples renders the kustomization in dir, as kubectl apply -k or Flux would.
func renderSamples(dir string) ([]*unstructured.Unstructured, error) {
	objs, err := manifests.Kustomize(dir)
	if err != nil {
		return nil, fmt.Errorf("rendering the samples: %w", err)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("the samples in %s render no object", dir)
	}
	return objs, nil
}

// defaultNamespace is the namespace of the first FtrackEntity, else of the first namespaced
// object: the kubeconfig's default namespace.
func defaultNamespace(objs []*unstructured.Unstructured) string {
	for _, o := range objs {
		if o.GetKind() == "FtrackEntity" && o.GetNamespace() != "" {
			return o.GetNamespace()
		}
	}
	for _, o := range objs {
		if o.GetNamespace() != "" {
			return o.GetNamespace()
		}
	}
	return "default"
}

// isFtrackKind reports whether obj is one of the operator's kinds.
func isFtrackKind(obj *unstructured.Unstructured, kinds ...string) bool {
	return obj.GroupVersionKind().Group == ftrackv1alpha1.GroupVersion.Group && slices.Contains(kinds, obj.GetKind())
}

// credentialsSecret is a Secret a connection of the samples reads its credentials from.
type credentialsSecret struct {
	namespace, name, userKey, keyKey string
}

// connectionSecrets points every connection of objs at serverURL and returns the Secrets they
// name, so that the samples keep the serverURL a studio would commit while dev runs them against
// its own server.
func connectionSecrets(objs []*unstructured.Unstructured, serverURL string) ([]credentialsSecret, error) {
	var secrets []credentialsSecret
	for _, o := range objs {
		if !isFtrackKind(o, "FtrackConnection", "ClusterFtrackConnection") {
			continue
		}
		if err := unstructured.SetNestedField(o.Object, serverURL, "spec", "serverURL"); err != nil {
			return nil, fmt.Errorf("%s %s: %w", o.GetKind(), o.GetName(), err)
		}
		s := credentialsSecret{namespace: o.GetNamespace(), userKey: ftrackv1alpha1.DefaultAPIUserKey, keyKey: ftrackv1alpha1.DefaultAPIKeyKey}
		s.name, _, _ = unstructured.NestedString(o.Object, "spec", "secretRef", "name")
		if ns, ok, _ := unstructured.NestedString(o.Object, "spec", "secretRef", "namespace"); ok {
			s.namespace = ns
		}
		if k, ok, _ := unstructured.NestedString(o.Object, "spec", "secretRef", "apiUserKey"); ok && k != "" {
			s.userKey = k
		}
		if k, ok, _ := unstructured.NestedString(o.Object, "spec", "secretRef", "apiKeyKey"); ok && k != "" {
			s.keyKey = k
		}
		if s.name == "" || s.namespace == "" {
			return nil, fmt.Errorf("%s %s names no credentials Secret", o.GetKind(), o.GetName())
		}
		secrets = append(secrets, s)
	}
	return secrets, nil
}

// annotationDependsOn lists objects that must be Ready before an object is applied, in the
// format of cli-utils (kpt live apply, Config Sync): comma-separated
// <group>/namespaces/<namespace>/<kind>/<name> or <group>/<kind>/<name> references.
const annotationDependsOn = "config.kubernetes.io/depends-on"

// parseDependsOn parses the value of the depends-on annotation of obj. A reference without a
// namespace to a namespaced kind of the samples is taken to be in obj's namespace.
func parseDependsOn(obj *unstructured.Unstructured) ([]trackedObject, error) {
	raw := obj.GetAnnotations()[annotationDependsOn]
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var refs []trackedObject
	for item := range strings.SplitSeq(raw, ",") {
		parts := strings.Split(strings.TrimSpace(item), "/")
		var ref trackedObject
		switch {
		case len(parts) == 5 && parts[1] == "namespaces":
			ref = trackedObject{group: parts[0], namespace: parts[2], kind: parts[3], name: parts[4]}
		case len(parts) == 3:
			ref = trackedObject{group: parts[0], kind: parts[1], name: parts[2]}
		default:
			return nil, fmt.Errorf("%s %s: annotation %s: %q is not <group>/namespaces/<namespace>/<kind>/<name> or <group>/<kind>/<name>", obj.GetKind(), obj.GetName(), annotationDependsOn, item)
		}
		if ref.kind == "" || ref.name == "" {
			return nil, fmt.Errorf("%s %s: annotation %s: %q names no kind or name", obj.GetKind(), obj.GetName(), annotationDependsOn, item)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

// sampleApplier applies the samples with server-side apply: first the namespaces, the
// connections' credentials Secrets and every object without dependencies, then each object
// whose depends-on annotation names objects that are all Ready.
type sampleApplier struct {
	k8s      client.Client
	objs     []*unstructured.Unstructured
	secrets  []*unstructured.Unstructured
	deps     map[*unstructured.Unstructured][]trackedObject
	pending  []*unstructured.Unstructured
	waitedOn map[trackedObject]string // pending object → what it waits for
}

// newSampleApplier points the samples' connections at serverURL and prepares their Secrets.
func newSampleApplier(k8s client.Client, objs []*unstructured.Unstructured, serverURL string, creds credentials) (*sampleApplier, error) {
	secrets, err := connectionSecrets(objs, serverURL)
	if err != nil {
		return nil, err
	}
	a := &sampleApplier{k8s: k8s, objs: objs, deps: map[*unstructured.Unstructured][]trackedObject{}, waitedOn: map[trackedObject]string{}}
	for _, s := range secrets {
		a.secrets = append(a.secrets, secretObject(s, creds))
	}
	for _, o := range objs {
		refs, err := parseDependsOn(o)
		if err != nil {
			return nil, err
		}
		if len(refs) > 0 {
			a.deps[o] = refs
		}
	}
	return a, nil
}

// applyBase applies the namespaces, the Secrets and every object without dependencies, and
// returns how many sample objects it applied.
func (a *sampleApplier) applyBase(ctx context.Context) (int, error) {
	namespaces := map[string]bool{}
	for _, o := range a.objs {
		if o.GetKind() == "Namespace" && o.GroupVersionKind().Group == "" {
			namespaces[o.GetName()] = true
		}
	}
	var first []*unstructured.Unstructured
	for _, o := range slices.Concat(a.objs, a.secrets) {
		if ns := o.GetNamespace(); ns != "" && !namespaces[ns] {
			namespaces[ns] = true
			first = append(first, namespaceObject(ns))
		}
	}
	// Namespaces before what lives in them; Secrets before the connections that read them.
	ordered := slices.Concat(first, filterKind(a.objs, true, "Namespace"), a.secrets)
	applied := 0
	for _, o := range filterKind(a.objs, false, "Namespace") {
		if _, waits := a.deps[o]; waits {
			a.pending = append(a.pending, o)
			continue
		}
		ordered = append(ordered, o)
	}
	for _, o := range ordered {
		if err := a.apply(ctx, o); err != nil {
			return 0, err
		}
	}
	// Counted as the progress lines count: the ftrack-operator.dev objects.
	for _, o := range a.objs {
		if _, waits := a.deps[o]; !waits && o.GroupVersionKind().Group == ftrackv1alpha1.GroupVersion.Group {
			applied++
		}
	}
	return applied, nil
}

// applyReady applies the pending objects whose dependencies are all Ready, and returns how many
// it applied.
func (a *sampleApplier) applyReady(ctx context.Context) (int, error) {
	applied := 0
	var still []*unstructured.Unstructured
	clear(a.waitedOn)
	for _, o := range a.pending {
		waiting := ""
		for _, dep := range a.deps[o] {
			ready, err := a.isReady(ctx, dep, o.GetNamespace())
			if err != nil {
				return applied, err
			}
			if !ready {
				waiting = dep.String()
				break
			}
		}
		if waiting != "" {
			still = append(still, o)
			a.waitedOn[trackedOf(o)] = waiting
			continue
		}
		if err := a.apply(ctx, o); err != nil {
			return applied, err
		}
		applied++
	}
	a.pending = still
	return applied, nil
}

// isReady reports whether the object dep names is Ready; namespace completes a reference
// without one.
func (a *sampleApplier) isReady(ctx context.Context, dep trackedObject, namespace string) (bool, error) {
	obj := &unstructured.Unstructured{}
	gv := ftrackv1alpha1.GroupVersion
	if dep.group != gv.Group {
		return false, fmt.Errorf("depends-on %s: the dev command waits only for objects of %s", dep, gv.Group)
	}
	obj.SetGroupVersionKind(gv.WithKind(dep.kind))
	key := client.ObjectKey{Namespace: dep.namespace, Name: dep.name}
	if key.Namespace == "" && dep.kind != "ClusterFtrackConnection" {
		key.Namespace = namespace
	}
	if err := a.k8s.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return readinessOf(obj, dep).ready, nil
}

func (a *sampleApplier) apply(ctx context.Context, o *unstructured.Unstructured) error {
	if err := a.k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner(devFieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", o.GetKind(), client.ObjectKeyFromObject(o), err)
	}
	return nil
}

// filterKind returns the objects of objs whose kind is among kinds (keep) or is not (!keep).
func filterKind(objs []*unstructured.Unstructured, keep bool, kinds ...string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if slices.Contains(kinds, o.GetKind()) == keep {
			out = append(out, o)
		}
	}
	return out
}

func namespaceObject(name string) *unstructured.Unstructured {
	o := &unstructured.Unstructured{}
	o.SetAPIVersion("v1")
	o.SetKind("Namespace")
	o.SetName(name)
	return o
}

func secretObject(s credentialsSecret, c credentials) *unstructured.Unstructured {
	o := &unstructured.Unstructured{Object: map[string]any{
		"type":       "Opaque",
		"stringData": map[string]any{s.userKey: c.user, s.keyKey: c.key},
	}}
	o.SetAPIVersion("v1")
	o.SetKind("Secret")
	o.SetNamespace(s.namespace)
	o.SetName(s.name)
	o.SetLabels(map[string]string{"app.kubernetes.io/managed-by": devFieldOwner})
	return o
}

// trackedObject names an object of the operator's API group.
type trackedObject struct {
	group, kind, namespace, name string
}

func (t trackedObject) String() string {
	if t.namespace == "" {
		return t.kind + "/" + t.name
	}
	return t.kind + " " + t.namespace + "/" + t.name
}

// trackedOf names obj.
func trackedOf(o *unstructured.Unstructured) trackedObject {
	return trackedObject{group: o.GroupVersionKind().Group, kind: o.GetKind(), namespace: o.GetNamespace(), name: o.GetName()}
}

// trackedObjects are the connections and entities of objs: the samples whose readiness dev
// reports.
func trackedObjects(objs []*unstructured.Unstructured) []trackedObject {
	var out []trackedObject
	for _, o := range objs {
		if isFtrackKind(o, "FtrackConnection", "ClusterFtrackConnection", "FtrackEntity") {
			out = append(out, trackedOf(o))
		}
	}
	return out
}

// ConvergeSamples applies the samples of the kustomization in dir through k8s as dev does —
// their connections pointed at serverURL with the API user and key given, each object once
// its depends-on objects are Ready — and waits until every sample is Ready, for tests that
// run a manager of their own (an install's manifests, under its RBAC). The error names
// what is not Ready when timeout passes.
func ConvergeSamples(ctx context.Context, k8s client.Client, dir, serverURL, user, key string, timeout time.Duration) error {
	objs, err := renderSamples(dir)
	if err != nil {
		return err
	}
	applier, err := newSampleApplier(k8s, objs, serverURL, credentials{user: user, key: key})
	if err != nil {
		return err
	}
	if _, err := applier.applyBase(ctx); err != nil {
		return err
	}
	progress := newDevProgress(k8s, trackedObjects(objs), io.Discard)
	deadline := time.Now().Add(timeout)
	for {
		if len(applier.pending) > 0 {
			if _, err := applier.applyReady(ctx); err != nil {
				return err
			}
		}
		state, err := progress.poll(ctx, applier.waitedOn)
		if err == nil && state.allReady() {
			return nil
		}
		if time.Now().After(deadline) {
			return &notReadyError{timeout: timeout, notReady: state.notReady}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(devProgressInterval):
		}
	}
}
