package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
)

// The budget of Normal Events of single FtrackEntity objects, per connection.
const (
	// entityEventBurst Normal Events of single objects are recorded at once; then
	// entityEventRate per second.
	entityEventBurst = 20
	entityEventRate  = 1
	// entityEventSummaryInterval is how often the Events held back are summarised.
	entityEventSummaryInterval = 30 * time.Second
)

// entityEvents records the Normal Events of FtrackEntity objects (Created, Updated,
// Adopted, DriftCorrected, Deleted) within a budget per connection. A bulk change — a show
// of 10,000 objects applied at once — would otherwise cost the API server one Event write
// per object, as many as the objects themselves, for information each object's status
// already holds (ownership, lastSyncTime). Above the budget, Events are counted and, every
// entityEventSummaryInterval, summarised in one Normal Event on the connection. Warnings
// are never held back: they go to the recorder directly.
//
// It is a manager.Runnable: it summarises until its context ends, then once more.
type entityEvents struct {
	recorder events.EventRecorder
	reader   client.Reader
	interval time.Duration

	mu    sync.Mutex
	conns map[connection.Key]*connectionEvents
}

// connectionEvents is the budget of one connection and what it held back.
type connectionEvents struct {
	limiter *rate.Limiter
	held    map[string]int // reason → Events held back
}

func newEntityEvents(recorder events.EventRecorder, reader client.Reader) *entityEvents {
	return &entityEvents{recorder: recorder, reader: reader, interval: entityEventSummaryInterval, conns: map[connection.Key]*connectionEvents{}}
}

// normal records a Normal Event on obj if its connection's budget allows, and counts it
// otherwise.
func (e *entityEvents) normal(obj *v1alpha1.FtrackEntity, reason, action, note string, args ...any) {
	key := connection.KeyFor(obj.Namespace, obj.Spec.ConnectionRef)
	e.mu.Lock()
	c := e.conns[key]
	if c == nil {
		c = &connectionEvents{limiter: rate.NewLimiter(entityEventRate, entityEventBurst), held: map[string]int{}}
		e.conns[key] = c
	}
	if !c.limiter.Allow() {
		c.held[reason]++
		e.mu.Unlock()
		return
	}
	e.mu.Unlock()
	e.recorder.Eventf(obj, nil, corev1.EventTypeNormal, reason, action, note, args...)
}

// Start summarises held Events every interval until ctx ends.
func (e *entityEvents) Start(ctx context.Context) error {
	t := time.NewTicker(e.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// The manager's client may be gone already; summarise with what remains.
			e.summarize(context.WithoutCancel(ctx))
			return nil
		case <-t.C:
			e.summarize(ctx)
		}
	}
}

// summarize records one Event per connection that held Events back, on the connection
// object, and forgets the budgets of connections that are full again and held nothing.
func (e *entityEvents) summarize(ctx context.Context) {
	type summary struct {
		key  connection.Key
		held map[string]int
	}
	var todo []summary
	e.mu.Lock()
	for key, c := range e.conns {
		if len(c.held) > 0 {
			todo = append(todo, summary{key: key, held: c.held})
			c.held = map[string]int{}
			continue
		}
		if c.limiter.Tokens() >= entityEventBurst {
			delete(e.conns, key)
		}
	}
	e.mu.Unlock()
	for _, s := range todo {
		obj, err := e.connectionObject(ctx, s.key)
		if err != nil {
			if !apierrors.IsNotFound(err) {
				ctrl.LoggerFrom(ctx).Error(err, "reading a connection to summarise the Events of its entities", "connection", s.key.String())
			}
			continue
		}
		e.recorder.Eventf(obj, nil, corev1.EventTypeNormal, v1alpha1.EventReasonEntityEventsSummarized, "Summarize",
			"%s of FtrackEntity objects of this connection, held back by the budget of %d at once and %d per second", describeHeld(s.held), entityEventBurst, entityEventRate)
	}
}

// connectionObject reads the connection object of key.
func (e *entityEvents) connectionObject(ctx context.Context, key connection.Key) (client.Object, error) {
	var obj client.Object = &v1alpha1.FtrackConnection{}
	if key.Kind == connection.KindClusterFtrackConnection {
		obj = &v1alpha1.ClusterFtrackConnection{}
	}
	if err := e.reader.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: key.Name}, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// describeHeld says how many Events of each reason were held back: "4,312 Created and 3
// Updated Events".
func describeHeld(held map[string]int) string {
	reasons := make([]string, 0, len(held))
	for r := range held {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if held[reasons[i]] != held[reasons[j]] {
			return held[reasons[i]] > held[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	total := 0
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%s %s", groupThousands(held[r]), r)
		total += held[r]
	}
	noun := "Events"
	if total == 1 {
		noun = "Event"
	}
	return strings.Join(parts, ", ") + " " + noun
}

// groupThousands writes a count with commas between groups of three digits.
func groupThousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
