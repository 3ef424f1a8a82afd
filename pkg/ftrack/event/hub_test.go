package event_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/internal/eventhub"
)

const (
	testUser = "jane"
	testKey  = "s3cr3t-api-key"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	srv  *eventhub.Server
	ts   *httptest.Server
	url  string // server URL with a path, which the hub must drop
	logs *syncBuffer
}

func newEnv(t *testing.T, heartbeat time.Duration) *env {
	t.Helper()
	srv := eventhub.New(eventhub.Options{
		Authenticate:      func(u, k string) bool { return u == testUser && k == testKey },
		HeartbeatInterval: heartbeat,
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
	})
	return &env{srv: srv, ts: ts, url: ts.URL + "/some/path", logs: &syncBuffer{}}
}

func (e *env) hub(t *testing.T, opts ...event.Option) *event.Hub {
	t.Helper()
	opts = append([]event.Option{
		event.WithBackoff(5*time.Millisecond, 50*time.Millisecond),
		event.WithLogger(slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		event.WithHTTPClient(e.ts.Client()),
	}, opts...)
	h, err := event.NewHub(e.url, testUser, testKey, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = h.Close()
		if strings.Contains(e.logs.String(), testKey) {
			t.Error("the API key appears in the logs")
		}
	})
	return h
}

func (e *env) connected(t *testing.T, opts ...event.Option) *event.Hub {
	t.Helper()
	h := e.hub(t, opts...)
	if err := h.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	return h
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received within 10s")
	}
	var zero T
	return zero
}

// collect returns a handler that sends every delivered event to a channel.
func collect() (event.Handler, chan event.Event) {
	ch := make(chan event.Event, 100)
	return func(_ context.Context, d *event.Delivery) (any, error) {
		ch <- d.Event
		return nil, nil
	}, ch
}

// subscribed subscribes and waits until the server routes expr to the hub,
// proving the subscription arrived: it publishes probe events until one
// comes back.
func subscribed(t *testing.T, e *env, h *event.Hub, expr string, probe event.Event, opts ...event.SubscribeOption) chan event.Event {
	t.Helper()
	handler, ch := collect()
	if _, err := h.Subscribe(expr, handler, opts...); err != nil {
		t.Fatal(err)
	}
	probes := map[string]bool{}
	for range 500 {
		probe.ID = event.NewID()
		probes[probe.ID] = true
		e.srv.Publish(probe)
		select {
		case got := <-ch:
			if !probes[got.ID] {
				t.Fatalf("unexpected event %s", got.Topic)
			}
			drain(ch)
			return ch
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("subscription %q never became active", expr)
	return nil
}

func drain(ch chan event.Event) {
	for {
		select {
		case <-ch:
		case <-time.After(50 * time.Millisecond):
			return
		}
	}
}

func TestNewHubValidation(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		url    string
		user   string
		key    string
		opts   []event.Option
	}{
		"Scheme":       {"only http and https", "ftp://h", testUser, testKey, nil},
		"NoHost":       {"host required", "http://", testUser, testKey, nil},
		"BadURL":       {"unparseable URL", "http://h\x7f", testUser, testKey, nil},
		"NoUser":       {"user required", "http://h", "", testKey, nil},
		"NoKey":        {"key required", "http://h", testUser, "", nil},
		"Backoff":      {"min above max", "http://h", testUser, testKey, []event.Option{event.WithBackoff(time.Second, time.Millisecond)}},
		"ZeroBackoff":  {"min zero", "http://h", testUser, testKey, []event.Option{event.WithBackoff(0, time.Second)}},
		"Queue":        {"queue at least 1", "http://h", testUser, testKey, []event.Option{event.WithQueueSize(0)}},
		"Client":       {"nil client", "http://h", testUser, testKey, []event.Option{event.WithHTTPClient(nil)}},
		"Logger":       {"nil logger", "http://h", testUser, testKey, []event.Option{event.WithLogger(nil)}},
		"KeyHeader":    {"credential headers are reserved", "http://h", testUser, testKey, []event.Option{event.WithHeader("ftrack-api-key", "x")}},
		"HeaderName":   {"invalid header name", "http://h", testUser, testKey, []event.Option{event.WithHeader("a b", "x")}},
		"ReadTimeout":  {"positive read timeout", "http://h", testUser, testKey, []event.Option{event.WithReadTimeout(0)}},
		"WriteTimeout": {"positive write timeout", "http://h", testUser, testKey, []event.Option{event.WithWriteTimeout(-1)}},
		"AppID":        {"non-empty application id", "http://h", testUser, testKey, []event.Option{event.WithApplicationID("")}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h, err := event.NewHub(tc.url, tc.user, tc.key, tc.opts...)
			if err == nil {
				_ = h.Close()
				t.Fatalf("%s: NewHub succeeded", tc.reason)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("%s: error leaks the key: %v", tc.reason, err)
			}
		})
	}
	h, err := event.NewHub("https://h:8443/x", testUser, testKey, event.WithHeader("ftrack-strict-api", "true"))
	if err != nil {
		t.Fatalf("valid options refused: %v", err)
	}
	_ = h.Close()
}

func TestConnectUnauthorized(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Second)
	h, err := event.NewHub(e.url, testUser, "wrong-key-value", event.WithHTTPClient(e.ts.Client()))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	err = h.Connect(t.Context())
	var hs *event.HandshakeError
	if !errors.Is(err, event.ErrUnauthorized) || !errors.As(err, &hs) || hs.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Connect() = %v, want ErrUnauthorized with status 401", err)
	}
	if strings.Contains(err.Error(), "wrong-key-value") {
		t.Errorf("error leaks the key: %v", err)
	}
	if h.Connected() {
		t.Error("Connected() after a refused handshake")
	}
	if err := h.Publish(t.Context(), event.NewEvent("x", nil)); !errors.Is(err, event.ErrNotConnected) {
		t.Errorf("Publish after failed Connect = %v, want ErrNotConnected", err)
	}
}

func TestSubscribeAndReceive(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Second)
	h := e.connected(t)
	if !h.Connected() {
		t.Fatal("not connected after Connect")
	}
	if err := h.Connect(t.Context()); !errors.Is(err, event.ErrAlreadyConnected) {
		t.Errorf("second Connect = %v", err)
	}
	ch := subscribed(t, e, h, "topic=foo", event.NewEvent("foo", nil))

	// A server event arrives unchanged.
	want := event.NewEvent("foo", map[string]any{"n": float64(1), "s": "x"})
	want.Source = map[string]any{"id": "server", "user": map[string]any{"username": "joe"}}
	e.srv.Publish(want)
	got := receive(t, ch)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("received event (-want +got):\n%s", diff)
	}

	// The hub's own events come back to it, with its source filled in.
	own := event.NewEvent("foo", map[string]any{"k": "v"})
	if err := h.Publish(t.Context(), own); err != nil {
		t.Fatal(err)
	}
	got = receive(t, ch)
	if got.ID != own.ID || got.SourceID() != h.ID() {
		t.Errorf("own event came back as %+v", got)
	}
	if diff := cmp.Diff(map[string]any{"username": testUser}, got.Source["user"]); diff != "" {
		t.Errorf("source.user (-want +got):\n%s", diff)
	}
}

func TestFiltering(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Second)
	h := e.connected(t)
	ch := subscribed(t, e, h, "topic=foo and data.kind=a", event.NewEvent("foo", map[string]any{"kind": "a"}),
		event.WithSubscriberMetadata(map[string]any{"applicationId": "app.x"}))

	send := func(kind, target string) string {
		ev := event.NewEvent("foo", map[string]any{"kind": kind})
		ev.Target = target
		e.srv.Publish(ev)
		return ev.ID
	}
	send("b", "")                              // expression does not match
	send("a", "applicationId=app.y")           // target does not match
	wantID := send("a", "applicationId=app.x") // both match
	if got := receive(t, ch); got.ID != wantID {
		t.Errorf("received %v (target %q), want only the matching event", got.Data, got.Target)
	}

	// The local re-check applies the same rules.
	results := h.PublishLocal(t.Context(), event.Event{Topic: "foo", Data: map[string]any{"kind": "b"}})
	if len(results) != 0 {
		t.Errorf("PublishLocal of a non-matching event called %d handlers", len(results))
	}
	results = h.PublishLocal(t.Context(), event.Event{Topic: "foo", Data: map[string]any{"kind": "a"}, Target: "applicationId=app.y"})
	if len(results) != 0 {
		t.Errorf("PublishLocal with a non-matching target called %d handlers", len(results))
	}
}

func TestPublishLocalPriorityAndStop(t *testing.T) {
	t.Parallel()
	h, err := event.NewHub("http://127.0.0.1:1", testUser, testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var order []string
	handler := func(name string, stop bool) event.Handler {
		return func(_ context.Context, d *event.Delivery) (any, error) {
			order = append(order, name)
			if stop {
				d.Stop()
			}
			return name + ":" + d.Subscriber["id"].(string), nil
		}
	}
	cases := []struct {
		expr     string
		id       string
		priority int
		stop     bool
	}{
		{"topic=t", "late", 200, false},
		{"topic=t", "first", 5, false},
		{"topic=t", "second", 50, false},
		{"topic=t*", "stopper", 100, true},
		{"topic=other", "other", 1, false},
	}
	for _, c := range cases {
		if _, err := h.Subscribe(c.expr, handler(c.id, c.stop), event.WithSubscriberID(c.id), event.WithPriority(c.priority)); err != nil {
			t.Fatal(err)
		}
	}
	results := h.PublishLocal(t.Context(), event.Event{Topic: "t"})
	if diff := cmp.Diff([]string{"first", "second", "stopper"}, order); diff != "" {
		t.Errorf("call order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"first:first", "second:second", "stopper:stopper"}, results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestSubscribeErrors(t *testing.T) {
	t.Parallel()
	h, err := event.NewHub("http://127.0.0.1:1", testUser, testKey)
	if err != nil {
		t.Fatal(err)
	}
	noop := func(context.Context, *event.Delivery) (any, error) { return nil, nil }
	if _, err := h.Subscribe("topic=", noop); !errors.Is(err, event.ErrParse) {
		t.Errorf("invalid expression: %v", err)
	}
	if _, err := h.Subscribe("topic=x", nil); err == nil {
		t.Error("nil handler accepted")
	}
	if _, err := h.Subscribe("topic=x", noop, event.WithSubscriberID("s")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Subscribe("topic=y", noop, event.WithSubscriberID("s")); !errors.Is(err, event.ErrDuplicateSubscriber) {
		t.Errorf("duplicate id: %v", err)
	}
	if _, err := h.Subscribe("topic=y", noop, event.WithSubscriberID(h.ID())); !errors.Is(err, event.ErrDuplicateSubscriber) {
		t.Errorf("the reply subscriber id is taken: %v", err)
	}
	if err := h.Unsubscribe("s"); err != nil {
		t.Errorf("Unsubscribe: %v", err)
	}
	if err := h.Unsubscribe("s"); !errors.Is(err, event.ErrUnknownSubscriber) {
		t.Errorf("second Unsubscribe: %v", err)
	}
	if got := h.PublishLocal(t.Context(), event.Event{Topic: "x"}); len(got) != 0 {
		t.Errorf("unsubscribed handler still called: %v", got)
	}
	if err := h.Publish(t.Context(), event.NewEvent("x", nil)); !errors.Is(err, event.ErrNotConnected) {
		t.Errorf("Publish before Connect: %v", err)
	}
	_ = h.Close()
	if _, err := h.Subscribe("topic=x", noop); !errors.Is(err, event.ErrClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}
	if err := h.Connect(t.Context()); !errors.Is(err, event.ErrClosed) {
		t.Errorf("Connect after Close: %v", err)
	}
}

func TestReplyRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Second)
	responder := e.connected(t, event.WithApplicationID("app.responder"))
	asker := e.connected(t)
	// The responder answers by returning a value, and a second subscriber
	// answers explicitly with Reply.
	ready := make(chan struct{}, 1)
	_, err := responder.Subscribe("topic=question", func(_ context.Context, d *event.Delivery) (any, error) {
		if d.Event.Data["probe"] == true {
			ready <- struct{}{}
			return nil, nil
		}
		return struct {
			Answer int `json:"answer"`
		}{42}, nil
	}, event.WithSubscriberID("answerer"))
	if err != nil {
		t.Fatal(err)
	}
	for range 500 {
		e.srv.Publish(event.NewEvent("question", map[string]any{"probe": true}))
		select {
		case <-ready:
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break
	}

	q := event.NewEvent("question", nil)
	reply, err := asker.PublishAndWaitForReply(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if !reply.IsReplyTo(q.ID) || reply.Topic != event.TopicReply || reply.Target != "id="+asker.ID() {
		t.Errorf("reply = %+v", reply)
	}
	if diff := cmp.Diff(map[string]any{"answer": float64(42)}, reply.Data); diff != "" {
		t.Errorf("reply data (-want +got):\n%s", diff)
	}
	if reply.SourceID() != "answerer" {
		t.Errorf("reply source id %q, want the answering subscriber's id", reply.SourceID())
	}

	// Explicit Reply, observed through OnReply.
	_, err = responder.Subscribe("topic=ping", func(ctx context.Context, d *event.Delivery) (any, error) {
		return nil, responder.Reply(ctx, d.Event, map[string]any{"pong": true})
	})
	if err != nil {
		t.Fatal(err)
	}
	replies := make(chan event.Event, 1000)
	pings := map[string]bool{}
	for i := 0; ; i++ {
		ping := event.NewEvent("ping", nil)
		pings[ping.ID] = true
		if err := asker.Publish(t.Context(), ping, event.OnReply(func(r event.Event) { replies <- r })); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-replies:
			if r.InReplyToEvent == nil || !pings[*r.InReplyToEvent] || r.Data["pong"] != true {
				t.Errorf("OnReply got %+v", r)
			}
			return
		case <-time.After(50 * time.Millisecond):
			if i > 200 {
				t.Fatal("no reply to ping")
			}
		}
	}
}

func TestPublishWaitForAck(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Second)
	h := e.connected(t)
	if err := h.Publish(t.Context(), event.NewEvent("foo", nil), event.WaitForAck()); err != nil {
		t.Errorf("acknowledged publish: %v", err)
	}
	bad := event.NewEvent(event.TopicSubscribe, map[string]any{"subscriber": map[string]any{"id": "x"}, "subscription": "topic="})
	err := h.Publish(t.Context(), bad, event.WaitForAck())
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("publish refused by the server: %v", err)
	}
}

func TestSlowHandlerKeepsHeartbeats(t *testing.T) {
	t.Parallel()
	const readTimeout = 500 * time.Millisecond
	e := newEnv(t, 20*time.Millisecond)
	h := e.connected(t, event.WithReadTimeout(readTimeout))
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	_, err := h.Subscribe("topic=slow", func(ctx context.Context, _ *event.Delivery) (any, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 500 {
		e.srv.Publish(event.NewEvent("slow", nil))
		select {
		case <-started:
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break
	}
	// The handler is now blocked. Keep it blocked for several read
	// timeouts: the connection must stay up and events keep being read.
	before := h.Stats()
	end := time.Now().Add(3 * readTimeout)
	for time.Now().Before(end) {
		e.srv.Publish(event.NewEvent("slow", nil))
		waitFor(t, "event read while the handler is blocked", func() bool { return h.Stats().Received > before.Received })
		before = h.Stats()
		<-time.After(readTimeout / 5)
	}
	close(release)
	if got := h.Stats().Connects; got != 1 {
		t.Errorf("connections = %d while a handler was slow, want 1 (heartbeats stalled)", got)
	}
	if !h.Connected() {
		t.Error("disconnected while a handler was slow")
	}
}

func TestReconnectAfterDrop(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 50*time.Millisecond)
	h := e.hub(t, event.WithReadTimeout(time.Second))
	meta := make(chan string, 10)
	_, err := h.Subscribe("topic=ftrack.meta.*", func(_ context.Context, d *event.Delivery) (any, error) {
		meta <- d.Event.Topic
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	ch := subscribed(t, e, h, "topic=foo", event.NewEvent("foo", nil))
	select {
	case <-h.Resync():
		t.Fatal("resync signalled before any gap")
	default:
	}
	if n := e.srv.DropAll(); n != 1 {
		t.Fatalf("DropAll() = %d", n)
	}
	receive(t, h.Resync())
	waitFor(t, "reconnection", func() bool { return h.Connected() && e.srv.Connections() == 1 })
	// Subscriptions were sent again: events published now arrive.
	sent := map[string]bool{}
	for i := 0; ; i++ {
		ev := event.NewEvent("foo", nil)
		sent[ev.ID] = true
		e.srv.Publish(ev)
		select {
		case got := <-ch:
			if !sent[got.ID] {
				t.Fatalf("unexpected %s", got.ID)
			}
		case <-time.After(20 * time.Millisecond):
			if i > 500 {
				t.Fatal("no event after reconnection")
			}
			continue
		}
		break
	}
	if got := h.Stats().Connects; got != 2 {
		t.Errorf("Connects = %d, want 2", got)
	}
	var topics []string
	for len(topics) < 3 {
		topics = append(topics, receive(t, meta))
	}
	if diff := cmp.Diff([]string{event.TopicConnected, event.TopicDisconnected, event.TopicConnected}, topics); diff != "" {
		t.Errorf("local meta events (-want +got):\n%s", diff)
	}
}

func TestQueueOverflowDropsOldest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Second)
	h := e.connected(t, event.WithQueueSize(2))
	release := make(chan struct{})
	got := make(chan string, 20)
	_, err := h.Subscribe("topic=burst", func(ctx context.Context, d *event.Delivery) (any, error) {
		got <- d.Event.Data["n"].(string)
		if d.Event.Data["n"] == "block" {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		e.srv.Publish(event.NewEvent("burst", map[string]any{"n": "block"}))
		select {
		case <-got:
		case <-time.After(20 * time.Millisecond):
			if i > 500 {
				t.Fatal("handler never called")
			}
			continue
		}
		break
	}
	// The handler is blocked; everything else waits in a queue of 2.
	waitFor(t, "queue drained", func() bool { return h.Stats().Received > 0 })
	base := h.Stats()
	for i := range 10 {
		e.srv.Publish(event.NewEvent("burst", map[string]any{"n": fmt.Sprint(i)}))
	}
	waitFor(t, "burst read", func() bool { return h.Stats().Received == base.Received+10 })
	// Any probe events still queued before the burst were dropped first.
	if d := h.Stats().Dropped - base.Dropped; d < 8 {
		t.Errorf("dropped %d events, want at least 8", d)
	}
	receive(t, h.Resync())
	close(release)
	var rest []string
	for len(rest) < 2 {
		rest = append(rest, receive(t, got))
	}
	if diff := cmp.Diff([]string{"8", "9"}, rest); diff != "" {
		t.Errorf("events kept (-want +got):\n%s", diff)
	}
	if !strings.Contains(e.logs.String(), "queue full") {
		t.Error("overflow not logged")
	}
}

// TestCloseLeavesNoGoroutine is not parallel so that goroutines of other
// tests do not interfere.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	e := newEnv(t, 20*time.Millisecond)
	h := e.connected(t)
	subscribed(t, e, h, "topic=foo", event.NewEvent("foo", nil))
	waitFor(t, "server connection", func() bool { return e.srv.Connections() == 1 })
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if h.Connected() {
		t.Error("Connected() after Close")
	}
	if err := h.Publish(t.Context(), event.NewEvent("x", nil)); !errors.Is(err, event.ErrClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
	waitFor(t, "server to see the socket close", func() bool { return e.srv.Connections() == 0 })
	if !strings.Contains(e.logs.String(), "connected") {
		t.Error("nothing logged")
	}
	// Close returns once every goroutine has called wg.Done; one may still be returning
	// from its deferred call for a moment, so look again for up to 2 s.
	var left []string
	for deadline := time.Now().Add(2 * time.Second); ; {
		left = left[:0]
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			if strings.Contains(g, "ftrack/event.(*Hub)") || strings.Contains(g, "ftrack/event.(*hubConn)") {
				left = append(left, g)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, g := range left {
		t.Errorf("goroutine left behind after Close:\n%s", g)
	}
}

func TestStartRetriesFirstConnection(t *testing.T) {
	t.Parallel()
	var accept atomic.Bool
	srv := eventhub.New(eventhub.Options{
		Authenticate: func(u, k string) bool { return accept.Load() && u == testUser && k == testKey },
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
	})
	e := &env{srv: srv, ts: ts, url: ts.URL, logs: &syncBuffer{}}
	h := e.hub(t)
	handler, ch := collect()
	if _, err := h.Subscribe("topic=ftrack.meta.connected", handler); err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); !errors.Is(err, event.ErrAlreadyConnected) {
		t.Errorf("second Start = %v", err)
	}
	if err := h.Connect(t.Context()); !errors.Is(err, event.ErrAlreadyConnected) {
		t.Errorf("Connect after Start = %v", err)
	}
	waitFor(t, "a refused attempt", func() bool { return strings.Contains(e.logs.String(), "connection attempt failed") })
	if h.Connected() {
		t.Fatal("connected while the server refuses")
	}
	accept.Store(true)
	if got := receive(t, ch); got.Topic != event.TopicConnected {
		t.Errorf("got %s", got.Topic)
	}
	if !h.Connected() {
		t.Error("not connected after ftrack.meta.connected")
	}
	if err := h.Publish(t.Context(), event.NewEvent("x", nil), event.WaitForAck()); err != nil {
		t.Errorf("Publish after Start: %v", err)
	}
}
