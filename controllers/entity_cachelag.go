package controllers

import (
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
)

// Waiting for the manager's cache to show the reconciler's own writes.
const (
	// cacheLagRetryDelay is how long a reconcile that found the cache behind its own last
	// write waits before it looks again.
	cacheLagRetryDelay = 100 * time.Millisecond
	// cacheLagLimit is how long the cache is waited for: past it, the object is reconciled
	// from what the cache shows.
	cacheLagLimit = 30 * time.Second
)

// ownWrites remembers, per object, the resource versions this process's last reconcile
// wrote over. A reconcile that starts from one of them starts from an object older than
// the reconciler's own last write: it would take the id for fresh and create the entity a
// second time (ftrack refuses it, and with it the whole batch it travelled in), or write a
// status the API server refuses as a conflict. It waits for the cache instead, which costs
// neither the API server nor ftrack anything.
type ownWrites struct {
	mu sync.Mutex
	m  map[types.NamespacedName]ownWrite
	// swept is when entries past cacheLagLimit were last dropped: an object that is not
	// reconciled again after its last write would otherwise keep its entry.
	swept time.Time
}

type ownWrite struct {
	uid types.UID
	// overwritten are the resource versions the writes replaced.
	overwritten []string
	at          time.Time
}

// record notes that the reconcile of obj, which began from the resource versions in
// overwritten (the cached one, then those of its own earlier writes), left obj at its
// current resource version.
func (w *ownWrites) record(obj *v1alpha1.FtrackEntity, overwritten []string, now time.Time) {
	if len(overwritten) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[types.NamespacedName]ownWrite{}
	}
	if now.Sub(w.swept) > cacheLagLimit {
		for k, e := range w.m {
			if now.Sub(e.at) > cacheLagLimit {
				delete(w.m, k)
			}
		}
		w.swept = now
	}
	w.m[types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}] = ownWrite{uid: obj.UID, overwritten: overwritten, at: now}
}

// behind reports whether obj, as the cache shows it, is a version this process has
// already written over. Once the cache is past it (or cacheLagLimit has passed, or the name
// now belongs to another object), the write is forgotten.
func (w *ownWrites) behind(obj *v1alpha1.FtrackEntity, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}
	e, ok := w.m[key]
	if !ok {
		return false
	}
	if e.uid == obj.UID && slices.Contains(e.overwritten, obj.ResourceVersion) && now.Sub(e.at) <= cacheLagLimit {
		return true
	}
	delete(w.m, key)
	return false
}

// forget drops what is remembered of the object named key.
func (w *ownWrites) forget(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.m, key)
}

// len is the number of objects whose cached version is not known to be past the writes.
func (w *ownWrites) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.m)
}
