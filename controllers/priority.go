package controllers

import (
	"context"

	"k8s.io/client-go/util/workqueue"
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
