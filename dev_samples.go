package main

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	ftrackv1alpha1 "github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
)

// renderSamples renders the kustomization in dir, as kubectl apply -k or Flux would.
func renderSamples(dir string) ([]*unstructured.Unstructured, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("rendering the samples in %s: %w", dir, err)
	}
	objs := make([]*unstructured.Unstructured, 0, resMap.Size())
	for _, res := range resMap.Resources() {
		m, err := res.Map()
		if err != nil {
			return nil, fmt.Errorf("rendering the samples in %s: %w", dir, err)
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
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

// applySamples creates the namespaces, the connections' credentials Secrets and then every
// object of objs with server-side apply. It returns how many sample objects it applied.
func applySamples(ctx context.Context, k8s client.Client, objs []*unstructured.Unstructured, serverURL string, creds credentials) (int, error) {
	secrets, err := connectionSecrets(objs, serverURL)
	if err != nil {
		return 0, err
	}
	namespaces := map[string]bool{}
	for _, o := range objs {
		if o.GetKind() == "Namespace" && o.GroupVersionKind().Group == "" {
			namespaces[o.GetName()] = true
		}
	}
	var first []*unstructured.Unstructured
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" && !namespaces[ns] {
			namespaces[ns] = true
			first = append(first, namespaceObject(ns))
		}
	}
	for _, s := range secrets {
		if !namespaces[s.namespace] {
			namespaces[s.namespace] = true
			first = append(first, namespaceObject(s.namespace))
		}
	}
	// Namespaces before what lives in them; Secrets before the connections that read them.
	ordered := slices.Concat(first, filterKind(objs, true, "Namespace"))
	for _, s := range secrets {
		ordered = append(ordered, secretObject(s, creds))
	}
	ordered = append(ordered, filterKind(objs, false, "Namespace")...)
	for _, o := range ordered {
		if err := k8s.Patch(ctx, o, client.Apply, client.FieldOwner(devFieldOwner), client.ForceOwnership); err != nil {
			return 0, fmt.Errorf("applying %s %s: %w", o.GetKind(), client.ObjectKeyFromObject(o), err)
		}
	}
	return len(objs), nil
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

// trackedObject is a sample whose readiness dev reports.
type trackedObject struct {
	kind, namespace, name string
}

func (t trackedObject) String() string {
	if t.namespace == "" {
		return t.kind + "/" + t.name
	}
	return t.kind + " " + t.namespace + "/" + t.name
}

// trackedObjects are the connections and entities of objs.
func trackedObjects(objs []*unstructured.Unstructured) []trackedObject {
	var out []trackedObject
	for _, o := range objs {
		if isFtrackKind(o, "FtrackConnection", "ClusterFtrackConnection", "FtrackEntity") {
			out = append(out, trackedObject{kind: o.GetKind(), namespace: o.GetNamespace(), name: o.GetName()})
		}
	}
	return out
}
