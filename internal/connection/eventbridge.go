package connection

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	ftevent "github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
)

// Field indexes registered by SetupConnections, for List with client.MatchingFields.
const (
	// IndexFtrackEntityByID indexes FtrackEntity objects by the ftrack id they manage
	// (status.id and the entity-id annotation).
	IndexFtrackEntityByID = "ftrack-operator.dev/entity-id"
	// IndexFtrackEntityByConnection indexes FtrackEntity objects by the Key.String()
	// of the connection their spec.connectionRef names.
	IndexFtrackEntityByConnection = "ftrack-operator.dev/connection"
	// IndexConnectionBySecret indexes FtrackConnection and ClusterFtrackConnection objects by
	// the Secrets and ConfigMaps they read, as "Secret/<namespace>/<name>" and
	// "ConfigMap/<namespace>/<name>".
	IndexConnectionBySecret = "ftrack-operator.dev/secret"
)

// Defaults of the EventBridge.
const (
	// DefaultTriggerBuffer is the capacity of a reconcile-trigger channel.
	DefaultTriggerBuffer = 1024
	// DefaultStatusInterval is the shortest time between two status updates of a connection
	// caused by events (last event time).
	DefaultStatusInterval = 5 * time.Second
)

// EventBridge turns each pooled session's event hub into reconcile triggers. An
// ftrack.update event names changed entities; each entity id maps, through the
// IndexFtrackEntityByID field index, to the FtrackEntity objects of that connection that hold
// it, which are sent as GenericEvents to every subscriber (the entity controller consumes them
// with Source). Events caused by the operator's own writes (its client token in
// data.clientToken or source.clientToken) are dropped. After an event hub reconnection (the
// server does not replay missed events) and whenever a connection becomes Ready, every entity
// of the connection is sent once. Hub state changes and, throttled, event arrival times are
// passed to the connection reconcilers so that they write them into the connection status.
type EventBridge struct {
	reader         client.Reader
	pool           *Pool
	statusInterval time.Duration
	log            logr.Logger

	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	nextID int
	sinks  map[int]chan event.GenericEvent

	connTriggers map[string]chan event.GenericEvent // by connection kind
}

// NewEventBridge returns a bridge for the sessions of pool that reads FtrackEntity objects
// through r (the manager's cached client, with the IndexFtrackEntityByID and
// IndexFtrackEntityByConnection indexes). Add it to the manager (it is a Runnable) so that it
// stops with it.
func NewEventBridge(r client.Reader, pool *Pool, log logr.Logger) *EventBridge {
	ctx, cancel := context.WithCancel(context.Background())
	b := &EventBridge{
		reader:         r,
		pool:           pool,
		statusInterval: DefaultStatusInterval,
		log:            log,
		ctx:            ctx,
		cancel:         cancel,
		sinks:          map[int]chan event.GenericEvent{},
		connTriggers: map[string]chan event.GenericEvent{
			KindFtrackConnection:        make(chan event.GenericEvent, DefaultTriggerBuffer),
			KindClusterFtrackConnection: make(chan event.GenericEvent, DefaultTriggerBuffer),
		},
	}
	pool.onOpened(b.attach)
	pool.OnRefusedCredentials(b.triggerConnection)
	pool.OnReady(func(key Key) {
		if _, err := b.EnqueueConnection(b.ctx, key); err != nil && b.ctx.Err() == nil {
			b.log.Error(err, "enqueueing the entities of a connection that became ready", "connection", key.String())
		}
	})
	return b
}

// Start implements manager.Runnable: it runs until ctx ends, then stops the bridge's
// background work.
func (b *EventBridge) Start(ctx context.Context) error {
	select {
	case <-ctx.Done():
	case <-b.ctx.Done():
	}
	b.cancel()
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: triggers are only useful to
// the reconcilers, which run on the leader.
func (b *EventBridge) NeedLeaderElection() bool { return true }

// Events returns a new channel that receives every FtrackEntity reconcile trigger for as long
// as the bridge runs. It must be drained: a full channel holds the bridge back (the event hub
// then drops its oldest events and signals a resync).
func (b *EventBridge) Events() <-chan event.GenericEvent {
	ch, _ := b.Subscribe(DefaultTriggerBuffer)
	return ch
}

// Subscribe is Events with a buffer size and a function that ends the subscription.
func (b *EventBridge) Subscribe(buffer int) (<-chan event.GenericEvent, func()) {
	ch := make(chan event.GenericEvent, max(buffer, 1))
	b.mu.Lock()
	id := b.nextID
	b.nextID++
	b.sinks[id] = ch
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.sinks, id)
			b.mu.Unlock()
		})
	}
}

// Source returns a controller source of the FtrackEntity triggers, for
// builder.WatchesRawSource; h is usually &handler.EnqueueRequestForObject{}.
func (b *EventBridge) Source(h handler.EventHandler) source.Source {
	return source.Channel(b.Events(), h)
}

// ConnectionSource returns the source of the triggers of the connection reconciler of kind:
// event hub state changes, event arrival times and refused credentials.
func (b *EventBridge) ConnectionSource(kind string) source.Source {
	return source.Channel(b.connTriggers[kind], &handler.EnqueueRequestForObject{})
}

// send delivers obj to every subscriber, waiting for room; it gives up when ctx ends.
func (b *EventBridge) send(ctx context.Context, obj client.Object) bool {
	b.mu.Lock()
	sinks := make([]chan event.GenericEvent, 0, len(b.sinks))
	for _, s := range b.sinks {
		sinks = append(sinks, s)
	}
	b.mu.Unlock()
	for _, s := range sinks {
		select {
		case s <- event.GenericEvent{Object: obj}:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// EnqueueConnection sends every FtrackEntity of the connection and returns how many.
func (b *EventBridge) EnqueueConnection(ctx context.Context, key Key) (int, error) {
	var list v1alpha1.FtrackEntityList
	if err := b.reader.List(ctx, &list, client.MatchingFields{IndexFtrackEntityByConnection: key.String()}); err != nil {
		return 0, err
	}
	n := 0
	for i := range list.Items {
		if !b.send(ctx, &list.Items[i]) {
			return n, ctx.Err()
		}
		n++
	}
	return n, nil
}

// triggerConnection asks the connection's reconciler to look at it again.
func (b *EventBridge) triggerConnection(key Key) {
	ch, ok := b.connTriggers[key.Kind]
	if !ok {
		return
	}
	var obj client.Object
	switch key.Kind {
	case KindFtrackConnection:
		obj = &v1alpha1.FtrackConnection{}
	default:
		obj = &v1alpha1.ClusterFtrackConnection{}
	}
	obj.SetNamespace(key.Namespace)
	obj.SetName(key.Name)
	select {
	case ch <- event.GenericEvent{Object: obj}:
	case <-b.ctx.Done():
	}
}

// attachment is the bridge's state for one pooled connection.
type attachment struct {
	conn          *Connection
	statusPending atomic.Bool
}

// attach subscribes to the connection's event hub and connects it in the background.
func (b *EventBridge) attach(c *Connection) {
	if !c.hubEnabled {
		return
	}
	a := &attachment{conn: c}
	hub := c.session.EventHub()
	label := c.key.String()
	eventHubConnected.WithLabelValues(label).Set(0)
	if _, err := hub.Subscribe(c.subscription, b.handleEvent(a)); err != nil {
		// The subscription was validated before the session was opened.
		b.log.Error(err, "subscribing to the event hub", "connection", label)
		return
	}
	state := func(up bool) ftevent.Handler {
		return func(context.Context, *ftevent.Delivery) (any, error) {
			if up {
				eventHubConnected.WithLabelValues(label).Set(1)
			} else {
				eventHubConnected.WithLabelValues(label).Set(0)
			}
			if !isDone(c.done) {
				go b.triggerConnection(c.key)
			}
			return nil, nil
		}
	}
	if _, err := hub.Subscribe("topic="+ftevent.TopicConnected, state(true)); err != nil {
		b.log.Error(err, "subscribing to event hub state", "connection", label)
	}
	if _, err := hub.Subscribe("topic="+ftevent.TopicDisconnected, state(false)); err != nil {
		b.log.Error(err, "subscribing to event hub state", "connection", label)
	}
	go b.maintain(a)
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// maintain starts the hub (it connects in the background, retrying with back-off, and
// reconnects by itself after a loss), then enqueues the connection's entities after every
// reconnection until the session is replaced or closed.
func (b *EventBridge) maintain(a *attachment) {
	c := a.conn
	defer eventHubConnected.WithLabelValues(c.key.String()).Set(0)
	hub := c.session.EventHub()
	if err := hub.Start(); err != nil && !errors.Is(err, ftevent.ErrAlreadyConnected) {
		if !errors.Is(err, ftevent.ErrClosed) {
			b.log.Error(err, "starting the event hub", "connection", c.key.String())
		}
		return
	}
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-c.done:
			return
		case <-hub.Resync():
			n, err := b.EnqueueConnection(b.ctx, c.key)
			if err != nil {
				if b.ctx.Err() != nil {
					return
				}
				b.log.Error(err, "enqueueing the entities of a connection after an event hub reconnection", "connection", c.key.String())
				continue
			}
			b.log.V(1).Info("event hub resynchronised", "connection", c.key.String(), "entities", n)
		}
	}
}

// handleEvent is the hub handler of a connection's subscription.
func (b *EventBridge) handleEvent(a *attachment) ftevent.Handler {
	c := a.conn
	label := c.key.String()
	return func(ctx context.Context, d *ftevent.Delivery) (any, error) {
		arrived := time.Now()
		c.lastEvent.Store(arrived.UnixNano())
		b.scheduleStatus(a)
		ev := d.Event
		if ev.Topic != ftevent.TopicUpdate {
			eventsReceived.WithLabelValues(label, "ignored").Inc()
			return nil, nil
		}
		if isEcho(ev, c.ClientToken()) {
			eventsReceived.WithLabelValues(label, "echo").Inc()
			return nil, nil
		}
		sent := 0
		for _, id := range updatedEntityIDs(ev) {
			var list v1alpha1.FtrackEntityList
			if err := b.reader.List(ctx, &list, client.MatchingFields{IndexFtrackEntityByID: id}); err != nil {
				return nil, err
			}
			for i := range list.Items {
				e := &list.Items[i]
				if KeyFor(e.Namespace, e.Spec.ConnectionRef) != c.key {
					continue
				}
				if !b.send(ctx, e) {
					return nil, ctx.Err()
				}
				sent++
			}
		}
		if sent == 0 {
			eventsReceived.WithLabelValues(label, "unmanaged").Inc()
			return nil, nil
		}
		eventsReceived.WithLabelValues(label, "enqueued").Inc()
		start := arrived
		if t, ok := sentTime(ev); ok && t.Before(arrived) {
			start = t
		}
		eventLag.WithLabelValues(label).Observe(time.Since(start).Seconds())
		return nil, nil
	}
}

// scheduleStatus asks for a status update of the connection at most once per interval.
func (b *EventBridge) scheduleStatus(a *attachment) {
	if !a.statusPending.CompareAndSwap(false, true) {
		return
	}
	time.AfterFunc(b.statusInterval, func() {
		a.statusPending.Store(false)
		if !isDone(a.conn.done) {
			b.triggerConnection(a.conn.key)
		}
	})
}

// isEcho reports whether ev was caused by a request carrying token.
func isEcho(ev ftevent.Event, token string) bool {
	if token == "" {
		return false
	}
	if t, _ := ev.Data["clientToken"].(string); t == token {
		return true
	}
	t, _ := ev.Source["clientToken"].(string)
	return t == token
}

// updatedEntityIDs returns data.entities[].entityId of an ftrack.update event, without
// duplicates; the parents are not included.
func updatedEntityIDs(ev ftevent.Event) []string {
	entities, _ := ev.Data["entities"].([]any)
	ids := make([]string, 0, len(entities))
	seen := make(map[string]bool, len(entities))
	for _, raw := range entities {
		m, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		var id string
		switch v := m["entityId"].(type) {
		case string:
			id = v
		case []any: // a composite primary key is sent as a list
		}
		if typ, _ := m["entity_type"].(string); typ == "Metadata" {
			// A metadata row (the managed-by mark among them) belongs to the entity it
			// describes: that entity's object must look again.
			id, _ = m["parentId"].(string)
		} else if _, composite := m["entityId"].([]any); composite {
			continue
		}
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// sentTime reads the event's sent field when the server filled it (RFC 3339 text or Unix
// seconds).
func sentTime(ev ftevent.Event) (time.Time, bool) {
	switch v := ev.Sent.(type) {
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t, true
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
			return time.Unix(0, int64(f*1e9)), true
		}
	case float64:
		if v > 0 {
			return time.Unix(0, int64(v*1e9)), true
		}
	}
	return time.Time{}, false
}

// EntityIDIndexValues are the IndexFtrackEntityByID values of an entity: its status.id, its
// id annotation and its adopt.id.
func EntityIDIndexValues(obj client.Object) []string {
	e, ok := obj.(*v1alpha1.FtrackEntity)
	if !ok {
		return nil
	}
	var out []string
	if e.Status.ID != "" {
		out = append(out, e.Status.ID)
	}
	if id := e.GetAnnotations()[v1alpha1.AnnotationEntityID]; id != "" && id != e.Status.ID {
		out = append(out, id)
	}
	if a := e.Spec.Adopt; a != nil && a.ID != "" && !slices.Contains(out, a.ID) {
		// An object that will adopt the entity claims it before it has reconciled.
		out = append(out, a.ID)
	}
	return out
}

// EntityConnectionIndexValues is the IndexFtrackEntityByConnection value of an entity.
func EntityConnectionIndexValues(obj client.Object) []string {
	e, ok := obj.(*v1alpha1.FtrackEntity)
	if !ok || e.Spec.ConnectionRef.Name == "" {
		return nil
	}
	return []string{KeyFor(e.Namespace, e.Spec.ConnectionRef).String()}
}
