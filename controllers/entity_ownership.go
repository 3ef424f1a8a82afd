package controllers

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/internal/plan"
)

// IndexFtrackEntityByUID indexes FtrackEntity objects by their UID, so that the owner a
// managed-by mark names is found without a list of every object.
const IndexFtrackEntityByUID = "ftrack-operator.dev/uid"

// uidIndexValues is the IndexFtrackEntityByUID value of an object.
func uidIndexValues(o client.Object) []string {
	if o.GetUID() == "" {
		return nil
	}
	return []string{string(o.GetUID())}
}

// ownershipFacts gathers what the planner needs to apply the ownership rule (see
// plan.Decide) to in.Object and in.Desired.ID: the object the entity's managed-by mark
// names, and the other objects that point at the entity, from the cache, whatever their
// namespace.
func (r *EntityReconciler) ownershipFacts(ctx context.Context, in *plan.Input) error {
	obj, id := in.Object, in.Desired.ID
	in.MarkOwner, in.Rivals = nil, nil
	if in.Observed != nil {
		owner, err := r.markOwner(ctx, obj, in.Observed.Metadata[v1alpha1.MetadataManagedBy])
		if err != nil {
			return err
		}
		in.MarkOwner = owner
	}
	var list v1alpha1.FtrackEntityList
	if err := r.List(ctx, &list, client.MatchingFields{connection.IndexFtrackEntityByID: id}); err != nil {
		return fmt.Errorf("listing the FtrackEntity objects that point at %s: %w", id, err)
	}
	for i := range list.Items {
		o := &list.Items[i]
		if o.UID == obj.UID || !plan.ClaimsID(o, id) {
			continue
		}
		same, err := r.sameServer(ctx, obj, o)
		if err != nil {
			return err
		}
		if same {
			in.Rivals = append(in.Rivals, o)
		}
	}
	return nil
}

// markOwner returns the object a managed-by mark names when it exists and uses obj's ftrack
// server; nil when it is gone (or is obj).
func (r *EntityReconciler) markOwner(ctx context.Context, obj *v1alpha1.FtrackEntity, uid string) (*v1alpha1.FtrackEntity, error) {
	if uid == "" || uid == string(obj.UID) {
		return nil, nil
	}
	var list v1alpha1.FtrackEntityList
	if err := r.List(ctx, &list, client.MatchingFields{IndexFtrackEntityByUID: uid}); err != nil {
		return nil, fmt.Errorf("looking up the FtrackEntity with UID %s: %w", uid, err)
	}
	for i := range list.Items {
		o := &list.Items[i]
		same, err := r.sameServer(ctx, obj, o)
		if err != nil {
			return nil, err
		}
		if same {
			return o, nil
		}
	}
	return nil, nil
}

// sameServer reports whether a and b reach the same ftrack server: the same connection, or
// connections whose server URLs are equal. A connection that cannot be read counts as the
// same server: an ownership that cannot be disproved is respected.
func (r *EntityReconciler) sameServer(ctx context.Context, a, b *v1alpha1.FtrackEntity) (bool, error) {
	ka, kb := connection.KeyFor(a.Namespace, a.Spec.ConnectionRef), connection.KeyFor(b.Namespace, b.Spec.ConnectionRef)
	if ka == kb {
		return true, nil
	}
	ua, oka := r.serverURL(ctx, ka)
	ub, okb := r.serverURL(ctx, kb)
	if !oka || !okb {
		return true, nil
	}
	return ua == ub, nil
}

// serverURL returns the normalised server URL of a connection, from the cache.
func (r *EntityReconciler) serverURL(ctx context.Context, key connection.Key) (string, bool) {
	var raw string
	switch key.Kind {
	case connection.KindClusterFtrackConnection:
		var c v1alpha1.ClusterFtrackConnection
		if err := r.Get(ctx, types.NamespacedName{Name: key.Name}, &c); err != nil {
			return "", false
		}
		raw = c.Spec.ServerURL
	default:
		var c v1alpha1.FtrackConnection
		if err := r.Get(ctx, key.NamespacedName(), &c); err != nil {
			return "", false
		}
		raw = c.Spec.ServerURL
	}
	return normalizeServerURL(raw), true
}

// normalizeServerURL makes equal URLs of one server compare equal: scheme and host in
// lower case, no trailing slash.
func normalizeServerURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return strings.TrimRight(strings.ToLower(raw), "/")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	return u.String()
}

// claimantsOfDeleted maps a deleted (or deleting) FtrackEntity to the other objects that
// point at its entity: one of them may own it now.
func (r *EntityReconciler) claimantsOfDeleted(ctx context.Context, o client.Object) []reconcile.Request {
	e, ok := o.(*v1alpha1.FtrackEntity)
	if !ok {
		return nil
	}
	ids := []string{e.Status.ID, e.Annotations[v1alpha1.AnnotationEntityID]}
	if e.Spec.Adopt != nil {
		ids = append(ids, e.Spec.Adopt.ID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var out []reconcile.Request
	for _, id := range ids {
		if id == "" {
			continue
		}
		var list v1alpha1.FtrackEntityList
		if err := r.List(ctx, &list, client.MatchingFields{connection.IndexFtrackEntityByID: id}); err != nil {
			continue
		}
		for i := range list.Items {
			c := &list.Items[i]
			if c.UID == e.UID || (r.Filter != nil && !r.Filter(c)) {
				continue
			}
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(c)})
		}
	}
	return out
}

// blockedDeletes remembers which deletions wait for which blocking objects, so that a
// blocker that is deleted or changes its deletionPolicy wakes them.
type blockedDeletes struct {
	mu sync.Mutex
	// by maps a blocker to the deleting objects it holds back.
	by map[types.NamespacedName]map[types.NamespacedName]bool
}

// wait records that waiter's deletion waits for blockers.
func (b *blockedDeletes) wait(waiter types.NamespacedName, blockers []*v1alpha1.FtrackEntity) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.forgetLocked(waiter)
	if b.by == nil {
		b.by = map[types.NamespacedName]map[types.NamespacedName]bool{}
	}
	for _, o := range blockers {
		k := client.ObjectKeyFromObject(o)
		if b.by[k] == nil {
			b.by[k] = map[types.NamespacedName]bool{}
		}
		b.by[k][waiter] = true
	}
}

// forget drops waiter.
func (b *blockedDeletes) forget(waiter types.NamespacedName) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.forgetLocked(waiter)
}

func (b *blockedDeletes) forgetLocked(waiter types.NamespacedName) {
	for k, ws := range b.by {
		delete(ws, waiter)
		if len(ws) == 0 {
			delete(b.by, k)
		}
	}
}

// waiters maps a blocker to the deletions it holds back.
func (b *blockedDeletes) waiters(_ context.Context, o client.Object) []reconcile.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	ws := b.by[client.ObjectKeyFromObject(o)]
	out := make([]reconcile.Request, 0, len(ws))
	for w := range ws {
		out = append(out, reconcile.Request{NamespacedName: w})
	}
	return out
}

// deleteBlockers returns the other objects that keep an entity ftrack would delete with
// the entity id of obj: objects of the same server whose deletionPolicy is not Delete (or
// that only observe) and whose entity descends from id.
func (r *EntityReconciler) deleteBlockers(ctx context.Context, ec *connection.Entities, obj *v1alpha1.FtrackEntity, es plan.EntityType, id string) ([]*v1alpha1.FtrackEntity, error) {
	var list v1alpha1.FtrackEntityList
	if err := r.List(ctx, &list); err != nil {
		return nil, err
	}
	candidates := map[string]string{}
	keepers := map[string][]*v1alpha1.FtrackEntity{}
	for i := range list.Items {
		o := &list.Items[i]
		eid := o.Status.ID
		if eid == "" {
			eid = o.Annotations[v1alpha1.AnnotationEntityID]
		}
		if o.UID == obj.UID || eid == "" || eid == id {
			continue
		}
		if o.Spec.DeletionPolicy == v1alpha1.DeletionPolicyDelete && o.Spec.Management != v1alpha1.ManagementObserve {
			continue
		}
		same, err := r.sameServer(ctx, obj, o)
		if err != nil {
			return nil, err
		}
		if !same {
			continue
		}
		candidates[eid] = o.Spec.EntityType
		keepers[eid] = append(keepers[eid], o)
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	ids, err := ec.Descendants(ctx, es, id, candidates)
	if err != nil {
		return nil, err
	}
	var out []*v1alpha1.FtrackEntity
	for _, d := range ids {
		out = append(out, keepers[d]...)
	}
	slices.SortFunc(out, func(a, b *v1alpha1.FtrackEntity) int { return strings.Compare(plan.ObjectRef(a), plan.ObjectRef(b)) })
	return out, nil
}
