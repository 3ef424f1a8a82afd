package controllers

import (
	"context"

	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// wakePriority is the queue priority of a reconcile woken because something it waited for
// is there now (a referenced object became Ready). It goes before the first reconciles of
// objects just created: under a bulk change those mostly find their own references not
// Ready yet and wait, and the woken ones are what moves the change on, level by level.
const wakePriority = 10

// enqueueWithPriority is handler.EnqueueRequestsFromMapFunc, but adds its requests with
// priority when the controller's queue is a priority queue (controller-runtime's default).
type enqueueWithPriority struct {
	fn       handler.MapFunc
	priority int
}

var _ handler.EventHandler = enqueueWithPriority{}

func (e enqueueWithPriority) add(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], objs ...client.Object) {
	seen := map[reconcile.Request]bool{}
	for _, o := range objs {
		for _, r := range e.fn(ctx, o) {
			if seen[r] {
				continue
			}
			seen[r] = true
			if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
				p := e.priority
				pq.AddWithOpts(priorityqueue.AddOpts{Priority: &p}, r)
				continue
			}
			q.Add(r)
		}
	}
}

// Create implements handler.EventHandler.
func (e enqueueWithPriority) Create(ctx context.Context, evt event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	e.add(ctx, q, evt.Object)
}

// Update implements handler.EventHandler.
func (e enqueueWithPriority) Update(ctx context.Context, evt event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	e.add(ctx, q, evt.ObjectOld, evt.ObjectNew)
}

// Delete implements handler.EventHandler.
func (e enqueueWithPriority) Delete(ctx context.Context, evt event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	e.add(ctx, q, evt.Object)
}

// Generic implements handler.EventHandler.
func (e enqueueWithPriority) Generic(ctx context.Context, evt event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	e.add(ctx, q, evt.Object)
}

// entityEnqueue is the handler of the reconciler's own FtrackEntity watch. It puts off the
// first reconcile of a new object whose references by name are not Ready yet: under a bulk
// change that is most children, and reconciling them now would only find them waiting. They
// leave the queue's way to the objects that can go on (parents first), and the parent's
// Ready wakes them at once (see referrers); waitGrace later they are reconciled regardless,
// so that a long wait is written down. Objects from the informer's first list go after the
// rest, as controller-runtime's own handler does.
type entityEnqueue struct {
	// waits reports whether a new object waits for a reference.
	waits func(context.Context, client.Object) bool
}

var _ handler.EventHandler = entityEnqueue{}

func (h entityEnqueue) add(q workqueue.TypedRateLimitingInterface[reconcile.Request], o client.Object, opts priorityqueue.AddOpts) {
	r := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)}
	if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
		pq.AddWithOpts(opts, r)
		return
	}
	if opts.After > 0 {
		q.AddAfter(r, opts.After)
		return
	}
	q.Add(r)
}

// Create implements handler.EventHandler.
func (h entityEnqueue) Create(ctx context.Context, evt event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	var opts priorityqueue.AddOpts
	if evt.IsInInitialList {
		opts.Priority = ptr.To(handler.LowPriority)
	}
	if h.waits != nil && h.waits(ctx, evt.Object) {
		opts.Priority, opts.After = ptr.To(handler.LowPriority), waitGrace
	}
	h.add(q, evt.Object, opts)
}

// Update implements handler.EventHandler.
func (h entityEnqueue) Update(_ context.Context, evt event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.add(q, evt.ObjectNew, priorityqueue.AddOpts{})
}

// Delete implements handler.EventHandler.
func (h entityEnqueue) Delete(_ context.Context, evt event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.add(q, evt.Object, priorityqueue.AddOpts{})
}

// Generic implements handler.EventHandler.
func (h entityEnqueue) Generic(_ context.Context, evt event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.add(q, evt.Object, priorityqueue.AddOpts{})
}
