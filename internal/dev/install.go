package dev

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Install modes of the dev command (--install): the manager runs with the permissions of
// config/default (cluster) or config/namespaced (namespaced), impersonating their
// ServiceAccount, so that a missing permission shows up locally as it would in a cluster; or
// as the control plane's administrator (admin).
const (
	installCluster    = "cluster"
	installNamespaced = "namespaced"
	installAdmin      = "admin"
)

// installDirs are the kustomizations whose RBAC each install mode applies.
var installDirs = map[string]string{installCluster: "default", installNamespaced: "namespaced"}

// rbacKinds are the kinds of an install that make the manager's permissions.
var rbacKinds = []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}

// installRBAC applies the RBAC of install mode mode (with the namespaces it lives in) through
// k8s, and returns the manager's configuration: cfg impersonating the install's
// ServiceAccount, and the namespaces its Deployment watches (--watch-namespaces).
func installRBAC(ctx context.Context, k8s client.Client, cfg *rest.Config, root, mode string) (*rest.Config, []string, error) {
	dir, ok := installDirs[mode]
	if !ok {
		return cfg, nil, nil
	}
	objs, err := renderSamples(filepath.Join(root, "config", dir))
	if err != nil {
		return nil, nil, fmt.Errorf("--install %s: %w", mode, err)
	}
	var sa string
	var watch []string
	var rbac []*unstructured.Unstructured
	namespaces := map[string]bool{}
	for _, o := range objs {
		switch {
		case o.GetKind() == "Deployment":
			watch = append(watch, watchNamespacesArg(o)...)
		case slices.Contains(rbacKinds, o.GetKind()):
			// The leader-election Role is for the in-cluster manager; dev runs one replica.
			if strings.Contains(o.GetName(), "leader-election") {
				continue
			}
			rbac = append(rbac, o)
			if ns := o.GetNamespace(); ns != "" {
				namespaces[ns] = true
			}
			if o.GetKind() == "ServiceAccount" {
				sa = "system:serviceaccount:" + o.GetNamespace() + ":" + o.GetName()
			}
		}
	}
	if sa == "" {
		return nil, nil, fmt.Errorf("--install %s: config/%s has no ServiceAccount", mode, dir)
	}
	for _, ns := range slices.Sorted(maps.Keys(namespaces)) {
		if err := k8s.Create(ctx, namespaceObject(ns)); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, nil, fmt.Errorf("--install %s: creating namespace %s: %w", mode, ns, err)
		}
	}
	for _, o := range rbac {
		if err := k8s.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, nil, fmt.Errorf("--install %s: creating %s %s: %w", mode, o.GetKind(), o.GetName(), err)
		}
	}
	mcfg := rest.CopyConfig(cfg)
	mcfg.Impersonate = rest.ImpersonationConfig{UserName: sa}
	return mcfg, watch, nil
}

// watchNamespacesArg returns the namespaces of a Deployment's --watch-namespaces argument.
func watchNamespacesArg(o *unstructured.Unstructured) []string {
	v, _, _ := unstructured.NestedFieldNoCopy(o.Object, "spec", "template", "spec", "containers")
	containers, _ := v.([]any)
	var out []string
	for _, c := range containers {
		m, _ := c.(map[string]any)
		args, _ := m["args"].([]any)
		for _, a := range args {
			s, _ := a.(string)
			if v, ok := strings.CutPrefix(s, "--watch-namespaces="); ok {
				for n := range strings.SplitSeq(v, ",") {
					if n = strings.TrimSpace(n); n != "" {
						out = append(out, n)
					}
				}
			}
		}
	}
	return out
}
