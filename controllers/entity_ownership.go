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

// Ownership rule. An ftrack entity has at most one owner, an FtrackEntity object:
//
//  1. The object whose UID the entity's managed-by mark names owns it while that object
//     exists and uses the same ftrack server. A UID is given by the API server and cannot be
//     chosen, and only the operator writes the mark, so no one who can only write
//     FtrackEntity objects can forge it.
//  2. Without a mark (types without metadata, a mark removed in ftrack, or an entity not
//     created yet), the objects that point at the entity (their id annotation, status.id
//     or spec.adopt.id) are ranked: the object whose UID the entity's id derives from (the
//     operator chose that id for it), then an object whose status records that it holds
//     the entity, then the oldest object, then the smallest UID. The first one owns it.
//  3. A mark naming an object that no longer exists is replaced: the object that points at
//     the entity now takes it over with an OwnerReplaced Event (a restore from backup gives
//     objects new UIDs).
//
// Every other object that points at the entity stalls with OwnershipConflict and writes
// nothing to ftrack.

// claim is one FtrackEntity object's claim on an entity id.
type claim struct {
	obj *v1alpha1.FtrackEntity
}

// derived reports whether id is the one the operator chose for the object.
func (c claim) derived(id string) bool { return EntityIDFor(c.obj.UID) == id }

// holds reports whether the object's status says it created or adopted id.
func (c claim) holds(id string) bool {
	return c.obj.Status.ID == id && (c.obj.Status.Ownership == v1alpha1.OwnershipCreated || c.obj.Status.Ownership == v1alpha1.OwnershipAdopted)
}

// outranks reports whether a's claim on id goes before b's (rule 2).
func (a claim) outranks(b claim, id string) bool {
	if ad, bd := a.derived(id), b.derived(id); ad != bd {
		return ad
	}
	if ah, bh := a.holds(id), b.holds(id); ah != bh {
		return ah
	}
	at, bt := a.obj.CreationTimestamp.Time, b.obj.CreationTimestamp.Time
	if !at.Equal(bt) {
		return at.Before(bt)
	}
	return a.obj.UID < b.obj.UID
}

// claimsID reports whether obj points at id: through its annotation, status or adopt.id.
func claimsID(obj *v1alpha1.FtrackEntity, id string) bool {
	if id == "" {
		return false
	}
	if obj.Annotations[v1alpha1.AnnotationEntityID] == id || obj.Status.ID == id {
		return true
	}
	return obj.Spec.Adopt != nil && obj.Spec.Adopt.ID == id
}

// objectRef names an object for messages: namespace/name.
func objectRef(o *v1alpha1.FtrackEntity) string { return o.Namespace + "/" + o.Name }

// ownershipConflict is the spec error of an object whose entity belongs to other.
func ownershipConflict(typ, id string, other *v1alpha1.FtrackEntity, how string) *SpecError {
	return specErrorf(v1alpha1.ReasonOwnershipConflict,
		"%s %s belongs to FtrackEntity %s (%s); this object writes nothing to it. Point this object at another entity, or delete %s first",
		typ, id, objectRef(other), how, objectRef(other))
}

// ownershipView is what the reconciler knows of the other objects that point at an id.
type ownershipView struct {
	// rivals are the other objects of the same ftrack server that point at the id.
	rivals []*v1alpha1.FtrackEntity
}

// leader returns the rival that outranks obj for id, or nil when obj goes first.
func (v ownershipView) leader(obj *v1alpha1.FtrackEntity, id string) *v1alpha1.FtrackEntity {
	var best *v1alpha1.FtrackEntity
	for _, r := range v.rivals {
		if !(claim{r}).outranks(claim{obj}, id) {
			continue
		}
		if best == nil || (claim{r}).outranks(claim{best}, id) {
			best = r
		}
	}
	return best
}

// rivalsOf returns the other objects that point at id on obj's ftrack server, from the
// cache, whatever their namespace.
func (r *EntityReconciler) rivalsOf(ctx context.Context, obj *v1alpha1.FtrackEntity, id string) (ownershipView, error) {
	var list v1alpha1.FtrackEntityList
	if err := r.List(ctx, &list, client.MatchingFields{IndexFtrackEntityByID: id}); err != nil {
		return ownershipView{}, fmt.Errorf("listing the FtrackEntity objects that point at %s: %w", id, err)
	}
	var v ownershipView
	for i := range list.Items {
		o := &list.Items[i]
		if o.UID == obj.UID || !claimsID(o, id) {
			continue
		}
		same, err := r.sameServer(ctx, obj, o)
		if err != nil {
			return ownershipView{}, err
		}
		if same {
			v.rivals = append(v.rivals, o)
		}
	}
	return v, nil
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
	ka, kb := ConnectionKeyFor(a.Namespace, a.Spec.ConnectionRef), ConnectionKeyFor(b.Namespace, b.Spec.ConnectionRef)
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
func (r *EntityReconciler) serverURL(ctx context.Context, key ConnectionKey) (string, bool) {
	var raw string
	switch key.Kind {
	case KindClusterFtrackConnection:
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
		if err := r.List(ctx, &list, client.MatchingFields{IndexFtrackEntityByID: id}); err != nil {
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
