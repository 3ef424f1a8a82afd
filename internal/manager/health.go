package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"

	ftrackv1alpha1 "github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
)

// watchedKinds are the kinds the manager's controllers watch, as its cache holds them:
// Secrets and ConfigMaps by their metadata alone.
func watchedKinds() []client.Object {
	meta := func(kind string) client.Object {
		return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: kind}}
	}
	return []client.Object{
		&ftrackv1alpha1.FtrackEntity{},
		&ftrackv1alpha1.FtrackConnection{},
		&ftrackv1alpha1.ClusterFtrackConnection{},
		&corev1.Namespace{},
		meta("Secret"),
		meta("ConfigMap"),
	}
}

// cachesSynced is the manager's readiness check: it fails until the cache of every watched
// kind has synced. A replica waiting for the leader's lease warms the same caches, so it is
// ready to take over (and to serve the admission webhooks) once they are in; a manager whose
// RBAC forbids one of them never is.
func cachesSynced(c cache.Cache, kinds []client.Object) healthz.Checker {
	return func(req *http.Request) error {
		var pending []string
		for _, obj := range kinds {
			inf, err := c.GetInformer(req.Context(), obj, cache.BlockUntilSynced(false))
			if err != nil {
				return fmt.Errorf("watching %s: %w", kindName(obj), err)
			}
			if !inf.HasSynced() {
				pending = append(pending, kindName(obj))
			}
		}
		if len(pending) > 0 {
			return fmt.Errorf("the caches of %s have not synced", strings.Join(pending, ", "))
		}
		return nil
	}
}

func kindName(obj client.Object) string {
	if k := obj.GetObjectKind().GroupVersionKind().Kind; k != "" {
		return k
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", obj), "*")
}

// forbiddenOnce is the cache's watch error handler. A list or watch the manager's RBAC
// forbids is retried by its informer with back-off for as long as the manager runs; it is
// logged once per kind, with the API server's message, which names the verb, the resource
// and the scope that are missing. Other errors are logged as client-go logs them.
type forbiddenOnce struct {
	mu     sync.Mutex
	logged map[string]bool
}

func (f *forbiddenOnce) handle(ctx context.Context, r *toolscache.Reflector, err error) {
	if !apierrors.IsForbidden(err) {
		toolscache.DefaultWatchErrorHandler(ctx, r, err)
		return
	}
	f.mu.Lock()
	first := !f.logged[r.TypeDescription()]
	if f.logged == nil {
		f.logged = map[string]bool{}
	}
	f.logged[r.TypeDescription()] = true
	f.mu.Unlock()
	if !first {
		return
	}
	var status apierrors.APIStatus
	msg := err.Error()
	if errors.As(err, &status) {
		msg = status.Status().Message
	}
	ctrl.Log.WithName("setup").Error(nil, "the manager's RBAC does not allow a watch it needs; it is retried, and /readyz fails until it is allowed (see README, Install into a cluster)",
		"type", r.TypeDescription(), "forbidden", msg)
}
