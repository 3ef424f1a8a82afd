package controllers

import (
	"context"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/plan"
)

// markWriteTimeout bounds one ownership-mark write made without holding its reconcile; the
// object is looked at again after it in any case.
const markWriteTimeout = 2 * time.Minute

// markWrites are the ownership-mark writes under way without holding their reconciles.
//
// Adopting a site writes one mark per entity and nothing else. A reconcile that waited for
// its own mark would hold one of the --concurrency workers until the marks' batch left, so
// one batch could carry no more marks than there are workers. Instead the reconcile hands
// its mark to the connection's mark coalescer and returns without a status write; when the
// write is answered the object is enqueued again (through done), and that reconcile carries
// the plan out — status, the Adopted Event — or reports the write's error as any write
// error is reported. Only one reconcile of an object runs at a time, so the entry of an
// object is read and removed by its own next reconcile.
type markWrites struct {
	mu      sync.Mutex
	entries map[types.NamespacedName]*markWrite
	// done carries the objects whose mark write was answered.
	done chan event.GenericEvent
	// stop ends the sends to done when the manager stops.
	stop <-chan struct{}
}

// markWrite is one mark write and the plan it carries out.
type markWrite struct {
	generation int64
	id         string
	plan       *plan.Plan
	finished   bool
	err        error
}

func newMarkWrites(stop <-chan struct{}) *markWrites {
	return &markWrites{entries: map[types.NamespacedName]*markWrite{}, done: make(chan event.GenericEvent, 1024), stop: stop}
}

// start writes obj's mark with write, without waiting, and remembers p for the reconcile
// that follows the answer.
func (m *markWrites) start(ctx context.Context, obj *v1alpha1.FtrackEntity, p *plan.Plan, write func(context.Context) error) {
	key := types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}
	w := &markWrite{generation: obj.Generation, id: p.ID, plan: p}
	m.mu.Lock()
	m.entries[key] = w
	m.mu.Unlock()
	// The write outlives the reconcile that started it, not the manager: a closed
	// connection or a stopped manager answers it with an error.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markWriteTimeout)
	go func() {
		defer cancel()
		err := write(wctx)
		m.mu.Lock()
		w.finished, w.err = true, err
		m.mu.Unlock()
		e := &v1alpha1.FtrackEntity{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
		select {
		case m.done <- event.GenericEvent{Object: e}:
		case <-m.stop:
		}
	}()
}

// take returns the mark write of key: pending when it is still under way (the entry
// stays), or its outcome once answered (the entry goes). It returns nil when there is none.
func (m *markWrites) take(key types.NamespacedName) (w *markWrite, pending bool) {
	if m == nil {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.entries[key]
	if !ok {
		return nil, false
	}
	if !w.finished {
		return w, true
	}
	delete(m.entries, key)
	return w, false
}

// forget drops what is remembered of key (the object is gone); a write under way still
// finishes, unremembered.
func (m *markWrites) forget(key types.NamespacedName) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, key)
}
