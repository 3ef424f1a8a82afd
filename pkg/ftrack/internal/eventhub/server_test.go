package eventhub

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/internal/socketio"
)

const testKey = "secret-key"

func newTestServer(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	if opts.Authenticate == nil {
		opts.Authenticate = func(user, key string) bool { return user == "jane" && key == testKey }
	}
	hub := New(opts)
	ts := httptest.NewUnstartedServer(hub)
	ts.Start()
	t.Cleanup(func() {
		hub.Close()
		ts.Close()
	})
	return hub, ts
}

func handshake(t *testing.T, ts *httptest.Server, header http.Header, query string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+"/socket.io/1/"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestHandshake(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Options{})
	cases := map[string]struct {
		reason string
		header http.Header
		query  string
		status int
	}{
		"Headers":   {"Python sends credentials as headers", http.Header{"Ftrack-User": {"jane"}, "Ftrack-Api-Key": {testKey}}, "", http.StatusOK},
		"Query":     {"JS sends credentials in the query", nil, "?api_user=jane&api_key=" + testKey, http.StatusOK},
		"BadKey":    {"wrong key is refused", http.Header{"Ftrack-User": {"jane"}, "Ftrack-Api-Key": {"nope"}}, "", http.StatusUnauthorized},
		"BadQuery":  {"wrong query key is refused", nil, "?api_user=jane&api_key=nope", http.StatusUnauthorized},
		"NoCreds":   {"no credentials are refused", nil, "", http.StatusUnauthorized},
		"OtherUser": {"unknown user is refused", http.Header{"Ftrack-User": {"joe"}, "Ftrack-Api-Key": {testKey}}, "", http.StatusUnauthorized},
	}
	sidBody := regexp.MustCompile(`^[0-9a-f]{32}:60:60:websocket$`)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			status, body := handshake(t, ts, tc.header, tc.query)
			if status != tc.status {
				t.Fatalf("%s: status %d, want %d (%s)", tc.reason, status, tc.status, body)
			}
			switch status {
			case http.StatusOK:
				if !sidBody.MatchString(body) {
					t.Errorf("%s: body %q is not <sid>:60:60:websocket", tc.reason, body)
				}
			default:
				var e map[string]any
				if err := json.Unmarshal([]byte(body), &e); err != nil || e["exception"] != "InvalidCredentialsError" {
					t.Errorf("%s: body %q is not a JSON credentials error", tc.reason, body)
				}
				if strings.Contains(body, testKey) {
					t.Errorf("%s: error body leaks the key", tc.reason)
				}
			}
		})
	}
}

func TestHandshakeMethodAndPath(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Options{})
	resp, err := ts.Client().Post(ts.URL+"/socket.io/1/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST handshake: status %d", resp.StatusCode)
	}
	resp, err = ts.Client().Get(ts.URL + "/socket.io/2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: status %d", resp.StatusCode)
	}
}

// client is a raw socket.io test client.
type client struct {
	t  *testing.T
	ws *websocket.Conn
	n  int
}

func newSID(t *testing.T, ts *httptest.Server) string {
	t.Helper()
	status, body := handshake(t, ts, http.Header{"Ftrack-User": {"jane"}, "Ftrack-Api-Key": {testKey}}, "")
	if status != http.StatusOK {
		t.Fatalf("handshake: %d %s", status, body)
	}
	return strings.SplitN(body, ":", 2)[0]
}

func dialSID(t *testing.T, ts *httptest.Server, sid string) (*client, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/socket.io/1/websocket/"+sid, nil)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	return &client{t: t, ws: ws}, nil
}

func dial(t *testing.T, ts *httptest.Server) *client {
	t.Helper()
	c, err := dialSID(t, ts, newSID(t, ts))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.readRaw(); got != "1::" {
		t.Fatalf("first frame %q, want 1::", got)
	}
	return c
}

func (c *client) readRaw() string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), 5*time.Second)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return string(b)
}

// next returns the next frame that is not a heartbeat.
func (c *client) next() string {
	c.t.Helper()
	for range 1000 {
		if f := c.readRaw(); f != "2::" {
			return f
		}
	}
	c.t.Fatal("only heartbeats")
	return ""
}

func (c *client) nextEvent() event.Event {
	c.t.Helper()
	f := c.next()
	p, err := socketio.Parse(f)
	if err != nil || p.Type != socketio.TypeEvent || p.ID != "" || !strings.HasPrefix(f, "5:::") {
		c.t.Fatalf("frame %q is not a 5::: event", f)
	}
	payload, err := p.Event()
	if err != nil || payload.Name != "ftrack.event" || len(payload.Args) != 1 {
		c.t.Fatalf("frame %q: bad payload", f)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(payload.Args[0], &keys); err != nil {
		c.t.Fatal(err)
	}
	if len(keys) != 7 {
		c.t.Errorf("event has %d keys, want the 7 wire keys: %s", len(keys), payload.Args[0])
	}
	var ev event.Event
	if err := json.Unmarshal(payload.Args[0], &ev); err != nil {
		c.t.Fatal(err)
	}
	return ev
}

func (c *client) writeRaw(frame string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// publish sends ev with an ack request and waits for the ack.
func (c *client) publish(ev event.Event) {
	c.t.Helper()
	c.n++
	p, err := socketio.NewEvent(itoa(c.n), "ftrack.event", ev)
	if err != nil {
		c.t.Fatal(err)
	}
	c.writeRaw(p.String())
}

func (c *client) expectAck(want string) {
	c.t.Helper()
	if got := c.next(); got != want {
		c.t.Fatalf("got %q, want ack %q", got, want)
	}
}

func (c *client) subscribe(id, expr string, meta map[string]any) {
	c.t.Helper()
	sub := map[string]any{"id": id}
	for k, v := range meta {
		sub[k] = v
	}
	c.publish(event.NewEvent(event.TopicSubscribe, map[string]any{"subscriber": sub, "subscription": expr}))
	c.expectAck("6:::" + itoa(c.n) + `+[{"success": true}]`)
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestOpenAndHeartbeat(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Options{HeartbeatInterval: 20 * time.Millisecond})
	c := dial(t, ts)
	for i := range 2 {
		if got := c.readRaw(); got != "2::" {
			t.Fatalf("frame %d = %q, want heartbeat 2::", i, got)
		}
		c.writeRaw([]string{"2::", "2:::"}[i])
	}
}

func TestWebSocketSession(t *testing.T) {
	t.Parallel()
	hub, ts := newTestServer(t, Options{})
	if _, err := dialSID(t, ts, "0123"); err == nil {
		t.Error("unknown sid was accepted")
	}
	sid := newSID(t, ts)
	if _, err := dialSID(t, ts, sid+"?api_user=x&api_key=y"); err != nil {
		t.Errorf("query string on the socket URL was refused: %v", err)
	}
	if _, err := dialSID(t, ts, sid); err == nil {
		t.Error("sid could be used twice")
	}
	hub.mu.Lock()
	hub.ttl = -time.Second
	hub.mu.Unlock()
	if _, err := dialSID(t, ts, newSID(t, ts)); err == nil {
		t.Error("expired sid was accepted")
	}
}

func TestRouting(t *testing.T) {
	t.Parallel()
	hub, ts := newTestServer(t, Options{})
	a, b, c := dial(t, ts), dial(t, ts), dial(t, ts)
	a.subscribe("a-reply", "topic=ftrack.meta.reply", nil)
	a.subscribe("a1", "topic=foo", nil)
	a.subscribe("a2", "topic=marker", nil)
	b.subscribe("b1", "topic=foo", map[string]any{"applicationId": "app.b"})
	b.subscribe("b2", "topic=fo*", map[string]any{"applicationId": "app.b"})
	b.subscribe("b-reply", "topic=ftrack.meta.reply", nil)
	c.subscribe("c1", "topic=marker", nil)
	c.subscribe("c1", "topic=marker or topic=foo", nil) // replaces, same id
	c.subscribe("c2", "topic=marker", nil)

	// marker proves that nothing else was queued for a and c before it.
	marker := func(clients ...*client) {
		t.Helper()
		ev := event.NewEvent("marker", nil)
		hub.Publish(ev)
		for i, cl := range clients {
			if got := cl.nextEvent(); got.ID != ev.ID {
				t.Fatalf("client %d got %s (%s), want the marker", i, got.Topic, got.Target)
			}
		}
	}

	// The sender receives its own event; b has two matching subscriptions
	// but receives it once.
	foo := event.NewEvent("foo", map[string]any{"big": json.Number("12345678901234567890"), "nested": map[string]any{"x": []any{"y"}}})
	foo.Source = map[string]any{"id": "hub-a", "user": map[string]any{"username": "jane"}}
	a.publish(foo)
	for name, cl := range map[string]*client{"a": a, "b": b, "c": c} {
		got := cl.nextEvent()
		if diff := cmp.Diff(foo.ID, got.ID); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", name, diff)
		}
	}
	a.expectAck("6:::" + itoa(a.n) + `+[{"success": true}]`)

	// The event is forwarded unchanged, numbers verbatim.
	hub.Publish(foo)
	raw := strings.TrimPrefix(b.next(), "5:::")
	if !strings.Contains(raw, `"big":12345678901234567890`) {
		t.Errorf("number altered in forwarding: %s", raw)
	}
	a.nextEvent()
	c.nextEvent()

	// Target selects subscribers by metadata.
	targeted := event.NewEvent("foo", nil)
	targeted.Target = "applicationId=app.b"
	hub.Publish(targeted)
	if got := b.nextEvent(); got.ID != targeted.ID {
		t.Errorf("b did not get the targeted event")
	}
	marker(a, c) // a and c must not have received the targeted event

	// Replies go only to the hub whose reply subscriber has that id.
	reply := event.NewReply(foo, map[string]any{"ok": true})
	reply.Target = "id=b-reply"
	a.publish(reply)
	a.expectAck("6:::" + itoa(a.n) + `+[{"success": true}]`)
	got := b.nextEvent()
	if got.ID != reply.ID || !got.IsReplyTo(foo.ID) {
		t.Errorf("b got %+v, want the reply", got)
	}

	// Unsubscribe stops delivery.
	c.publish(event.NewEvent(event.TopicUnsubscribe, map[string]any{"subscriber": map[string]any{"id": "c1"}}))
	c.expectAck("6:::" + itoa(c.n) + `+[{"success": true}]`)
	hub.Publish(event.NewEvent("foo", nil))
	a.nextEvent()
	marker(c) // c must get the marker (via c2) and not foo
}

func TestSubscribeFailureAck(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Options{})
	c := dial(t, ts)
	cases := map[string]struct {
		reason string
		data   map[string]any
	}{
		"BadExpression": {"an unparseable subscription is refused", map[string]any{"subscriber": map[string]any{"id": "x"}, "subscription": "topic="}},
		"NoID":          {"a subscriber without id is refused", map[string]any{"subscriber": map[string]any{}, "subscription": "topic=x"}},
	}
	for name, tc := range cases {
		c.publish(event.NewEvent(event.TopicSubscribe, tc.data))
		f := c.next()
		if !strings.HasPrefix(f, "6:::"+itoa(c.n)+`+[{"message":`) || !strings.Contains(f, `"success":false`) {
			t.Errorf("%s: %s: got %q, want a failure ack", name, tc.reason, f)
		}
	}
	c.writeRaw("5:9+::not json")
	if got := c.next(); !strings.HasPrefix(got, "6:::9+") || !strings.Contains(got, `"success":false`) {
		t.Errorf("malformed event: got %q, want a failure ack", got)
	}
	c.writeRaw("garbage")
	c.writeRaw("3:5+::message")
	if got := c.next(); got != `6:::5+[{"success": true}]` {
		t.Errorf("message packet with ack request: got %q", got)
	}
}

func TestDropAllAndClose(t *testing.T) {
	t.Parallel()
	hub, ts := newTestServer(t, Options{})
	a, b := dial(t, ts), dial(t, ts)
	a.subscribe("a1", "topic=foo", nil)
	a.subscribe("a2", "topic=marker", nil)
	b.subscribe("b1", "topic=foo", nil)
	waitFor(t, func() bool { return hub.Connections() == 2 })
	if n := hub.DropAll(); n != 2 {
		t.Errorf("DropAll() = %d, want 2", n)
	}
	waitFor(t, func() bool { return hub.Connections() == 0 })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, _, err := a.ws.Read(ctx); err == nil {
		t.Error("dropped socket still readable")
	}

	// A new socket does not inherit old subscriptions.
	c := dial(t, ts)
	c.subscribe("m", "topic=marker", nil)
	hub.Publish(event.NewEvent("foo", nil))
	m := event.NewEvent("marker", nil)
	hub.Publish(m)
	if got := c.nextEvent(); got.ID != m.ID {
		t.Errorf("new socket got %s", got.Topic)
	}

	hub.Close()
	hub.Close()
	if n := hub.Connections(); n != 0 {
		t.Errorf("Connections() after Close = %d", n)
	}
	status, _ := handshake(t, ts, http.Header{"Ftrack-User": {"jane"}, "Ftrack-Api-Key": {testKey}}, "")
	if status != http.StatusServiceUnavailable {
		t.Errorf("handshake after Close: %d", status)
	}
}

func TestClientDisconnectPacket(t *testing.T) {
	t.Parallel()
	hub, ts := newTestServer(t, Options{})
	c := dial(t, ts)
	waitFor(t, func() bool { return hub.Connections() == 1 })
	c.writeRaw("0::")
	waitFor(t, func() bool { return hub.Connections() == 0 })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		<-tick.C
	}
}

// TestEventsWhoseDataIsNotAnObject: a reply whose data is a string ("Replied", as the
// Python client's handlers may answer) is routed as it came, not refused as malformed.
func TestEventsWhoseDataIsNotAnObject(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Options{})
	a, b := dial(t, ts), dial(t, ts)
	a.subscribe("a-reply", "topic=ftrack.meta.reply", nil)
	b.n++
	p0, err := socketio.NewEvent(itoa(b.n), "ftrack.event", json.RawMessage(`{"id":"r1","topic":"ftrack.meta.reply","data":"Replied","source":{"id":"b"},"target":"","inReplyToEvent":"q1","sent":null}`))
	if err != nil {
		t.Fatal(err)
	}
	b.writeRaw(p0.String())
	b.expectAck("6:::" + itoa(b.n) + `+[{"success": true}]`)
	f := a.next()
	p, err := socketio.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := p.Event()
	if err != nil || len(payload.Args) != 1 {
		t.Fatalf("frame %q: bad payload", f)
	}
	var got struct {
		ID             string `json:"id"`
		Data           any    `json:"data"`
		InReplyToEvent string `json:"inReplyToEvent"`
	}
	if err := json.Unmarshal(payload.Args[0], &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != "r1" || got.Data != "Replied" || got.InReplyToEvent != "q1" {
		t.Errorf("the reply arrived as %s, want it as sent", payload.Args[0])
	}
}
