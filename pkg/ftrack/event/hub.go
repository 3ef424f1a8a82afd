package event

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by Hub methods.
var (
	// ErrClosed is returned by methods of a closed Hub.
	ErrClosed = errors.New("event: hub closed")
	// ErrNotConnected is returned by Publish before Connect was called.
	ErrNotConnected = errors.New("event: hub not connected")
	// ErrAlreadyConnected is returned by a second Connect.
	ErrAlreadyConnected = errors.New("event: hub already connected")
	// ErrDuplicateSubscriber is returned by Subscribe for a subscriber id
	// that is already registered.
	ErrDuplicateSubscriber = errors.New("event: subscriber id not unique")
	// ErrUnknownSubscriber is returned by Unsubscribe for an id that is not
	// registered.
	ErrUnknownSubscriber = errors.New("event: unknown subscriber")
	// ErrUnauthorized is wrapped by connection errors when the server
	// refuses the credentials.
	ErrUnauthorized = errors.New("event: credentials refused by the event hub")
	// ErrConnectionLost is returned by Publish with WaitForAck when the
	// connection ends before the server acknowledged the event.
	ErrConnectionLost = errors.New("event: connection lost")
)

// Handler handles one event delivered to a subscriber. It runs on the Hub's
// single handler goroutine (or on the caller's goroutine for PublishLocal),
// one event at a time, in priority order; ctx ends when the Hub is closed.
//
// A non-nil result of a handler for an event received from the server is
// published as a reply to it (it must encode as a JSON object); for
// PublishLocal it is returned to the caller. An error is logged. Handlers
// must not modify the event's maps, which are shared between handlers.
type Handler func(ctx context.Context, d *Delivery) (any, error)

// Delivery is an event on its way through the local subscribers.
type Delivery struct {
	// Event is the delivered event.
	Event Event
	// Subscriber is the metadata of the subscriber being called, {"id": …}.
	Subscriber map[string]any
	stopped    bool
}

// Stop prevents subscribers of lower priority (higher number) from seeing
// the event.
func (d *Delivery) Stop() { d.stopped = true }

// Stopped reports whether Stop was called.
func (d *Delivery) Stopped() bool { return d.stopped }

type subscriber struct {
	id       string
	text     string
	expr     *Expression
	meta     map[string]any
	priority int
	seq      uint64
	handler  Handler
}

// SubscribeOption configures one subscription.
type SubscribeOption func(*subscriber) error

// WithSubscriberID sets the subscriber id (default: a fresh 32-hex id).
func WithSubscriberID(id string) SubscribeOption {
	return func(s *subscriber) error {
		if id == "" {
			return errors.New("event: empty subscriber id")
		}
		s.id = id
		return nil
	}
}

// WithSubscriberMetadata sets metadata sent with the subscription, against
// which event targets are evaluated (e.g. {"applicationId": "…"}). Its "id"
// key, if any, is replaced by the subscriber id.
func WithSubscriberMetadata(meta map[string]any) SubscribeOption {
	return func(s *subscriber) error {
		s.meta = cloneMap(meta)
		return nil
	}
}

// WithPriority sets the handler priority; lower runs first. Default 100.
func WithPriority(p int) SubscribeOption {
	return func(s *subscriber) error {
		s.priority = p
		return nil
	}
}

// PublishOption configures one Publish.
type PublishOption func(*publishConfig)

type publishConfig struct {
	onReply func(Event)
	waitAck bool
}

// OnReply registers fn to be called, on the handler goroutine, with every
// reply to the published event. The registration lasts until the Hub is
// closed (replies may come from any number of subscribers), so prefer
// PublishAndWaitForReply for one-off questions in long-lived hubs.
func OnReply(fn func(reply Event)) PublishOption {
	return func(c *publishConfig) { c.onReply = fn }
}

// WaitForAck makes Publish wait until the server acknowledged the event
// and return an error if it reported a failure or the connection ended first.
func WaitForAck() PublishOption {
	return func(c *publishConfig) { c.waitAck = true }
}

// Stats are counters of a Hub.
type Stats struct {
	// Connects counts successful connections, the first included.
	Connects uint64
	// Dropped counts received events discarded because the queue was full.
	Dropped uint64
	// Received counts events received from the server.
	Received uint64
}

// Hub is a client of the ftrack event hub: socket.io 0.9 over WebSocket.
//
// Connect (or Start, which also retries the first connection) opens the
// connection and keeps it open: on any unexpected loss
// (socket error, "0::" or "7:::" from the server, no frame for the read
// timeout) it reconnects with jittered exponential back-off and subscribes
// every subscriber again. Because the server does not replay events missed
// while disconnected, Resync signals the owner after each reconnection.
//
// Received events wait in a bounded queue for the handler goroutine, so a
// slow handler never stalls the socket (heartbeats keep flowing). When the
// queue is full the oldest waiting event is dropped: the drop is counted
// (Stats), logged, and signalled on Resync, since the owner has missed an
// event and should resynchronise as after a reconnect.
//
// Local events ftrack.meta.connected and ftrack.meta.disconnected are
// delivered to local subscribers through the same queue; they are never
// sent to the server. All methods are safe for concurrent use.
type Hub struct {
	id     string
	cfg    config
	log    *slog.Logger
	ctx    context.Context // ends on Close
	cancel context.CancelFunc
	inbox  *inbox
	resync chan struct{}
	wg     sync.WaitGroup

	connects atomic.Uint64
	received atomic.Uint64
	ackSeq   atomic.Uint64

	mu          sync.Mutex
	started     bool
	closed      bool
	conn        *hubConn
	connChanged chan struct{} // closed and replaced whenever conn changes
	subscribers []*subscriber // sorted by priority, then registration order
	seq         uint64
	replies     map[string]func(Event)
}

// NewHub returns an unconnected Hub for the ftrack server at serverURL
// (http or https; any path is ignored), authenticating as apiUser with
// apiKey.
func NewHub(serverURL, apiUser, apiKey string, opts ...Option) (*Hub, error) {
	base, err := parseServerURL(serverURL)
	if err != nil {
		return nil, err
	}
	if apiUser == "" {
		return nil, errors.New("event: empty API user")
	}
	if apiKey == "" {
		return nil, errors.New("event: empty API key")
	}
	cfg := config{
		base:          base,
		user:          apiUser,
		apiKey:        apiKey,
		header:        http.Header{},
		client:        http.DefaultClient,
		log:           slog.New(slog.DiscardHandler),
		minBackoff:    DefaultMinBackoff,
		maxBackoff:    DefaultMaxBackoff,
		queueSize:     DefaultQueueSize,
		readTimeout:   DefaultReadTimeout,
		writeTimeout:  DefaultWriteTimeout,
		applicationID: DefaultApplicationID,
	}
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		id:          NewID(),
		cfg:         cfg,
		log:         cfg.log,
		ctx:         ctx,
		cancel:      cancel,
		resync:      make(chan struct{}, 1),
		connChanged: make(chan struct{}),
		replies:     map[string]func(Event){},
	}
	h.inbox = newInbox(cfg.queueSize)
	// The hub's own reply subscriber: replies to this hub's events are
	// targeted at id=<hub id>.
	if _, err := h.Subscribe("topic="+TopicReply, h.handleReply, WithSubscriberID(h.id)); err != nil {
		return nil, err
	}
	return h, nil
}

// ID returns the hub id, source.id of the events it publishes.
func (h *Hub) ID() string { return h.id }

// Source returns the default source of published events: the hub id, the
// application id and the API user.
func (h *Hub) Source() map[string]any {
	return map[string]any{
		"id":            h.id,
		"applicationId": h.cfg.applicationID,
		"user":          map[string]any{"username": h.cfg.user},
	}
}

// Connected reports whether the socket is open now.
func (h *Hub) Connected() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conn != nil
}

// Resync returns a channel that receives a value whenever events may have
// been missed: after a reconnection that followed a lost connection, and
// after the receive queue overflowed. Signals coalesce (capacity one).
func (h *Hub) Resync() <-chan struct{} { return h.resync }

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	return Stats{Connects: h.connects.Load(), Dropped: h.inbox.droppedCount(), Received: h.received.Load()}
}

func (h *Hub) signalResync() {
	select {
	case h.resync <- struct{}{}:
	default:
	}
}

// Connect connects to the server and returns once the first connection is
// open (or failed: the error then says why and the hub does not retry).
// After a successful Connect the hub keeps itself connected until Close.
func (h *Hub) Connect(ctx context.Context) error {
	h.mu.Lock()
	switch {
	case h.closed:
		h.mu.Unlock()
		return ErrClosed
	case h.started:
		h.mu.Unlock()
		return ErrAlreadyConnected
	}
	h.started = true
	h.mu.Unlock()

	c, err := h.dial(ctx)
	h.mu.Lock()
	if err == nil && h.closed {
		err = ErrClosed
		c.close(nil)
	}
	if err != nil {
		h.started = false
		h.mu.Unlock()
		return err
	}
	// Connected is true when Connect returns; serve announces it.
	h.conn = c
	h.wg.Add(2)
	h.mu.Unlock()
	go func() {
		defer h.wg.Done()
		h.dispatchLoop()
	}()
	go func() {
		defer h.wg.Done()
		h.maintain(c)
	}()
	return nil
}

// Start connects in the background and returns at once: unlike Connect it
// retries the first connection too (with the same back-off as
// reconnections, also when the server refuses the credentials, which may be
// fixed server-side) until it succeeds or the hub is closed. Use Connected,
// Publish (which waits for a connection) or a subscriber of
// ftrack.meta.connected to learn when it is up.
func (h *Hub) Start() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return ErrClosed
	case h.started:
		return ErrAlreadyConnected
	}
	h.started = true
	h.wg.Add(2)
	go func() {
		defer h.wg.Done()
		h.dispatchLoop()
	}()
	go func() {
		defer h.wg.Done()
		c := h.redial(false)
		if c == nil {
			return
		}
		h.maintain(c)
	}()
	return nil
}

// maintain runs connections until Close: it serves c, then reconnects with
// back-off whenever the connection is lost.
func (h *Hub) maintain(c *hubConn) {
	for {
		h.serve(c)
		if h.ctx.Err() != nil {
			return
		}
		c = h.redial(true)
		if c == nil {
			return
		}
		h.signalResync()
	}
}

// redial dials until it succeeds or the hub is closed, waiting a back-off
// delay before each attempt (before the first one only when wait is true).
func (h *Hub) redial(wait bool) *hubConn {
	for attempt := 0; ; attempt++ {
		if wait || attempt > 0 {
			n := attempt
			if !wait {
				n--
			}
			t := time.NewTimer(backoff(h.cfg.minBackoff, h.cfg.maxBackoff, n))
			select {
			case <-h.ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		c, err := h.dial(h.ctx)
		if err == nil {
			return c
		}
		if h.ctx.Err() != nil {
			return nil
		}
		h.log.Warn("event hub connection attempt failed", "attempt", attempt+1, "error", err)
	}
}

// backoff returns the delay before reconnection attempt n (0-based):
// min·2^n capped at max, with "equal jitter" (half fixed, half random).
func backoff(minDelay, maxDelay time.Duration, n int) time.Duration {
	d := minDelay
	for range min(n, 62) {
		if d >= maxDelay/2 {
			d = maxDelay
			break
		}
		d *= 2
	}
	d = min(d, maxDelay)
	half := d / 2
	return half + rand.N(half+1)
}

// serve registers c as the current connection, subscribes everything,
// announces the connection locally and blocks until it ends.
func (h *Hub) serve(c *hubConn) {
	h.connects.Add(1)
	h.setConn(c)
	h.log.Info("event hub connected", "server", h.cfg.base.Host)
	h.inbox.push(h.localEvent(TopicConnected))
	for _, s := range h.snapshot() {
		if err := c.send(h.ctx, h.subscribeEvent(s), nil); err != nil {
			h.log.Debug("event hub subscribe failed", "subscriber", s.id, "error", err)
			break
		}
	}
	<-c.done
	h.setConn(nil)
	if h.ctx.Err() == nil {
		h.log.Warn("event hub connection lost", "error", c.err())
	}
	h.inbox.push(h.localEvent(TopicDisconnected))
}

func (h *Hub) setConn(c *hubConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conn = c
	close(h.connChanged)
	h.connChanged = make(chan struct{})
}

func (h *Hub) localEvent(topic string) Event {
	ev := NewEvent(topic, nil)
	ev.Source = h.Source()
	return ev
}

func (h *Hub) snapshot() []*subscriber {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.subscribers)
}

func (h *Hub) subscribeEvent(s *subscriber) Event {
	ev := NewEvent(TopicSubscribe, map[string]any{
		"subscriber":   cloneMap(s.meta),
		"subscription": s.text,
	})
	ev.Source = h.Source()
	return ev
}

// Subscribe registers handler for events matching expr and, when
// connected, tells the server. It returns the subscriber id.
func (h *Hub) Subscribe(expr string, handler Handler, opts ...SubscribeOption) (string, error) {
	if handler == nil {
		return "", errors.New("event: nil handler")
	}
	e, err := ParseExpression(expr)
	if err != nil {
		return "", err
	}
	s := &subscriber{text: expr, expr: e, priority: 100, handler: handler}
	for _, opt := range opts {
		if err := opt(s); err != nil {
			return "", err
		}
	}
	if s.id == "" {
		s.id = NewID()
	}
	if s.meta == nil {
		s.meta = map[string]any{}
	}
	s.meta["id"] = s.id

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return "", ErrClosed
	}
	for _, o := range h.subscribers {
		if o.id == s.id {
			h.mu.Unlock()
			return "", fmt.Errorf("%w: %s", ErrDuplicateSubscriber, s.id)
		}
	}
	h.seq++
	s.seq = h.seq
	h.subscribers = append(h.subscribers, s)
	slices.SortStableFunc(h.subscribers, func(a, b *subscriber) int {
		return cmp.Or(cmp.Compare(a.priority, b.priority), cmp.Compare(a.seq, b.seq))
	})
	c := h.conn
	h.mu.Unlock()

	if c != nil {
		// A failure here means the connection is going away; the
		// subscription is sent again on reconnection.
		if err := c.send(h.ctx, h.subscribeEvent(s), nil); err != nil {
			h.log.Debug("event hub subscribe deferred", "subscriber", s.id, "error", err)
		}
	}
	return s.id, nil
}

// Unsubscribe removes the subscriber and, when connected, tells the server.
func (h *Hub) Unsubscribe(id string) error {
	h.mu.Lock()
	i := slices.IndexFunc(h.subscribers, func(s *subscriber) bool { return s.id == id })
	if i < 0 {
		h.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrUnknownSubscriber, id)
	}
	s := h.subscribers[i]
	h.subscribers = slices.Delete(h.subscribers, i, i+1)
	c := h.conn
	h.mu.Unlock()
	if c != nil {
		_ = c.send(h.ctx, h.unsubscribeEvent(s), nil)
	}
	return nil
}

func (h *Hub) unsubscribeEvent(s *subscriber) Event {
	ev := NewEvent(TopicUnsubscribe, map[string]any{"subscriber": cloneMap(s.meta)})
	ev.Source = h.Source()
	return ev
}

// prepare fills the id and the default source keys of ev.
func (h *Hub) prepare(ev Event) Event {
	if ev.ID == "" {
		ev.ID = NewID()
	}
	if ev.Data == nil {
		ev.Data = map[string]any{}
	}
	src := h.Source()
	if ev.Source == nil {
		ev.Source = src
	} else {
		ev.Source = maps.Clone(ev.Source)
		for k, v := range src {
			if _, ok := ev.Source[k]; !ok {
				ev.Source[k] = v
			}
		}
	}
	return ev
}

// Publish sends ev to the server, which routes it to every matching
// subscriber (this hub's included). A missing id is generated and missing
// source keys (id, applicationId, user) are filled in. If the hub is between
// connections Publish waits for the next one until ctx ends. It returns
// once the event is written, or, with WaitForAck, acknowledged.
func (h *Hub) Publish(ctx context.Context, ev Event, opts ...PublishOption) error {
	var pc publishConfig
	for _, opt := range opts {
		opt(&pc)
	}
	ev = h.prepare(ev)
	if pc.onReply != nil {
		h.mu.Lock()
		h.replies[ev.ID] = pc.onReply
		h.mu.Unlock()
	}
	err := h.publish(ctx, ev, pc.waitAck)
	if err != nil && pc.onReply != nil {
		h.mu.Lock()
		delete(h.replies, ev.ID)
		h.mu.Unlock()
	}
	return err
}

func (h *Hub) publish(ctx context.Context, ev Event, waitAck bool) error {
	for {
		h.mu.Lock()
		closed, started, c, changed := h.closed, h.started, h.conn, h.connChanged
		h.mu.Unlock()
		switch {
		case closed:
			return ErrClosed
		case !started:
			return ErrNotConnected
		case c != nil:
			var ack chan ackResult
			if waitAck {
				ack = make(chan ackResult, 1)
			}
			if err := c.send(ctx, ev, ack); err != nil {
				if ctx.Err() != nil {
					return err
				}
				// The connection broke under us; wait for the next one.
				select {
				case <-c.done:
				case <-ctx.Done():
					return ctx.Err()
				}
				continue
			}
			if !waitAck {
				return nil
			}
			select {
			case r := <-ack:
				return r.err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("event: waiting for the event hub connection: %w", ctx.Err())
		case <-h.ctx.Done():
			return ErrClosed
		}
	}
}

// PublishAndWaitForReply publishes ev and returns the first reply to it.
func (h *Hub) PublishAndWaitForReply(ctx context.Context, ev Event) (Event, error) {
	replies := make(chan Event, 1)
	ev = h.prepare(ev)
	err := h.Publish(ctx, ev, OnReply(func(r Event) {
		select {
		case replies <- r:
		default:
		}
	}))
	defer func() {
		h.mu.Lock()
		delete(h.replies, ev.ID)
		h.mu.Unlock()
	}()
	if err != nil {
		return Event{}, err
	}
	select {
	case r := <-replies:
		return r, nil
	case <-ctx.Done():
		return Event{}, ctx.Err()
	case <-h.ctx.Done():
		return Event{}, ErrClosed
	}
}

// Reply publishes data as a reply to source: topic ftrack.meta.reply,
// target id=<source.source.id>, inReplyToEvent source.ID.
func (h *Hub) Reply(ctx context.Context, source Event, data map[string]any) error {
	return h.Publish(ctx, NewReply(source, data))
}

// PublishLocal delivers ev synchronously, on the caller's goroutine, to the
// local subscribers only (nothing is sent to the server) and returns the
// result of every handler called, in call order, nil results included.
// Subscriptions and targets are evaluated as for received events.
func (h *Hub) PublishLocal(ctx context.Context, ev Event) []any {
	return h.dispatch(ctx, h.prepare(ev), true)
}

func (h *Hub) handleReply(_ context.Context, d *Delivery) (any, error) {
	if d.Event.InReplyToEvent == nil {
		return nil, nil
	}
	h.mu.Lock()
	fn := h.replies[*d.Event.InReplyToEvent]
	h.mu.Unlock()
	if fn != nil {
		fn(d.Event)
	}
	return nil, nil
}

// dispatch runs the local handlers for ev. With local false (received
// events), non-nil results are published as replies.
func (h *Hub) dispatch(ctx context.Context, ev Event, local bool) []any {
	var results []any
	var target *Expression
	if ev.Target != "" {
		var err error
		if target, err = ParseExpression(ev.Target); err != nil {
			h.log.Info("event hub ignored event with invalid target", "topic", ev.Topic, "id", ev.ID, "error", err)
			return nil
		}
	}
	candidate := ev.Candidate()
	d := &Delivery{Event: ev}
	for _, s := range h.snapshot() {
		if d.stopped {
			break
		}
		if !s.expr.Match(candidate) || (target != nil && !target.Match(s.meta)) {
			continue
		}
		d.Subscriber = s.meta
		result, err := h.call(ctx, s, d)
		if err != nil {
			h.log.Error("event handler failed", "subscriber", s.id, "topic", ev.Topic, "id", ev.ID, "error", err)
			continue
		}
		if local {
			results = append(results, result)
			continue
		}
		if result != nil {
			h.replyWith(ev, s, result)
		}
	}
	return results
}

func (h *Hub) call(ctx context.Context, s *subscriber, d *Delivery) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("event: handler panicked: %v", r)
		}
	}()
	return s.handler(ctx, d)
}

// replyWith publishes a handler result as a reply to ev, with the handling
// subscriber's metadata as source, as the Python client does. It runs on
// the handler goroutine, so it does not wait for a connection.
func (h *Hub) replyWith(ev Event, s *subscriber, result any) {
	data, ok := result.(map[string]any)
	if !ok {
		b, err := json.Marshal(result)
		if err == nil {
			err = json.Unmarshal(b, &data)
		}
		if err != nil {
			h.log.Error("event handler result is not a JSON object; no reply sent", "subscriber", s.id, "topic", ev.Topic)
			return
		}
	}
	reply := NewReply(ev, data)
	reply.Source = cloneMap(s.meta)
	h.mu.Lock()
	c := h.conn
	h.mu.Unlock()
	if c == nil {
		h.log.Warn("event hub not connected; reply dropped", "topic", ev.Topic, "id", ev.ID)
		return
	}
	if err := c.send(h.ctx, h.prepare(reply), nil); err != nil {
		h.log.Warn("event hub reply failed", "topic", ev.Topic, "id", ev.ID, "error", err)
	}
}

// dispatchLoop is the handler goroutine.
func (h *Hub) dispatchLoop() {
	for {
		ev, ok := h.inbox.pop(h.ctx)
		if !ok {
			return
		}
		local := ev.Topic == TopicConnected || ev.Topic == TopicDisconnected
		h.dispatch(h.ctx, ev, local)
	}
}

// Close unsubscribes every subscriber, closes the socket, stops
// reconnecting and waits for the hub's goroutines, including a handler that
// is running (handlers should honour their context). It is idempotent.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.wg.Wait()
		return nil
	}
	h.closed = true
	c := h.conn
	subs := slices.Clone(h.subscribers)
	h.mu.Unlock()

	if c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), h.cfg.writeTimeout)
		for _, s := range subs {
			if err := c.send(ctx, h.unsubscribeEvent(s), nil); err != nil {
				break
			}
		}
		cancel()
	}
	h.cancel()
	if c != nil {
		c.close(nil)
	}
	h.wg.Wait()
	return nil
}

// inbox is the bounded queue between the socket reader and the handler
// goroutine. When full, push drops the oldest event.
type inbox struct {
	mu      sync.Mutex
	items   []Event
	max     int
	dropped uint64
	notify  chan struct{}
}

func newInbox(size int) *inbox {
	return &inbox{max: size, notify: make(chan struct{}, 1)}
}

// push appends ev and reports whether an older event had to be dropped.
func (q *inbox) push(ev Event) (dropped bool) {
	q.mu.Lock()
	if len(q.items) >= q.max {
		q.items[0] = Event{}
		q.items = q.items[1:]
		q.dropped++
		dropped = true
	}
	q.items = append(q.items, ev)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return dropped
}

func (q *inbox) pop(ctx context.Context) (Event, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			ev := q.items[0]
			q.items[0] = Event{}
			q.items = q.items[1:]
			q.mu.Unlock()
			return ev, true
		}
		q.mu.Unlock()
		select {
		case <-q.notify:
		case <-ctx.Done():
			return Event{}, false
		}
	}
}

func (q *inbox) droppedCount() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}
