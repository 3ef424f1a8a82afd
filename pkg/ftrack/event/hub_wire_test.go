package event_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/internal/socketio"
)

// scripted is a hand-driven socket.io server: each handshake and each
// WebSocket is handed to the test.
type scripted struct {
	ts         *httptest.Server
	handshakes chan *http.Request
	sockets    chan *websocket.Conn
}

func newScripted(t *testing.T) *scripted {
	t.Helper()
	s := &scripted{handshakes: make(chan *http.Request, 100), sockets: make(chan *websocket.Conn, 100)}
	s.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/socket.io/1/":
			s.handshakes <- r
			_, _ = w.Write([]byte("abc123:60:60:websocket,xhr-polling"))
		case "/socket.io/1/websocket/abc123":
			ws, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			s.sockets <- ws
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() {
		s.ts.Close()
		for {
			select {
			case ws := <-s.sockets:
				_ = ws.CloseNow()
			default:
				return
			}
		}
	})
	return s
}

func (s *scripted) hub(t *testing.T, logs *syncBuffer, opts ...event.Option) *event.Hub {
	t.Helper()
	opts = append([]event.Option{
		event.WithBackoff(5*time.Millisecond, 20*time.Millisecond),
		event.WithLogger(slog.New(slog.NewTextHandler(logs, nil))),
	}, opts...)
	h, err := event.NewHub(s.ts.URL+"/ignored/path?x=1", testUser, testKey, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = h.Close()
		if strings.Contains(logs.String(), testKey) {
			t.Error("the API key appears in the logs")
		}
	})
	return h
}

func (s *scripted) socket(t *testing.T) *websocket.Conn {
	t.Helper()
	ws := receive(t, s.sockets)
	t.Cleanup(func() { _ = ws.CloseNow() })
	return ws
}

func writeFrame(t *testing.T, ws *websocket.Conn, frame string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatalf("write %q: %v", frame, err)
	}
}

func readFrame(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, b, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

// readEvent reads an event packet and checks that it requests an ack.
func readEvent(t *testing.T, ws *websocket.Conn) (socketio.Packet, event.Event, map[string]json.RawMessage) {
	t.Helper()
	f := readFrame(t, ws)
	p, err := socketio.Parse(f)
	if err != nil || p.Type != socketio.TypeEvent || !p.AckRequested || p.ID == "" {
		t.Fatalf("frame %q is not an ack-requesting event packet", f)
	}
	payload, err := p.Event()
	if err != nil || payload.Name != "ftrack.event" || len(payload.Args) != 1 {
		t.Fatalf("frame %q has a bad payload", f)
	}
	var ev event.Event
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(payload.Args[0], &ev); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(payload.Args[0], &keys); err != nil {
		t.Fatal(err)
	}
	return p, ev, keys
}

func TestWireProtocol(t *testing.T) {
	t.Parallel()
	s := newScripted(t)
	logs := &syncBuffer{}
	h := s.hub(t, logs, event.WithHeader("ftrack-strict-api", "true"), event.WithApplicationID("app.test"))
	handler, got := collect()
	if _, err := h.Subscribe("topic=foo", handler, event.WithSubscriberID("sub-1"), event.WithSubscriberMetadata(map[string]any{"applicationId": "app.test"})); err != nil {
		t.Fatal(err)
	}
	if err := h.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	req := receive(t, s.handshakes)
	if diff := cmp.Diff([]string{testUser, testKey, "true", ""}, []string{
		req.Header.Get("ftrack-user"), req.Header.Get("ftrack-api-key"), req.Header.Get("ftrack-strict-api"), req.URL.RawQuery,
	}); diff != "" {
		t.Errorf("handshake user, key, extra header, query (-want +got):\n%s", diff)
	}
	ws := s.socket(t)
	writeFrame(t, ws, "1::")

	// Every subscriber is subscribed on connect, reply subscriber first
	// (it was registered first), each packet requesting an ack.
	wantSubs := []map[string]any{
		{"subscriber": map[string]any{"id": h.ID()}, "subscription": "topic=ftrack.meta.reply"},
		{"subscriber": map[string]any{"id": "sub-1", "applicationId": "app.test"}, "subscription": "topic=foo"},
	}
	var ids []string
	for i, want := range wantSubs {
		p, ev, keys := readEvent(t, ws)
		ids = append(ids, p.ID)
		if ev.Topic != event.TopicSubscribe {
			t.Fatalf("packet %d topic %q", i, ev.Topic)
		}
		if diff := cmp.Diff(want, ev.Data); diff != "" {
			t.Errorf("subscribe %d data (-want +got):\n%s", i, diff)
		}
		if len(keys) != 7 {
			t.Errorf("subscribe %d has %d top-level keys, want 7", i, len(keys))
		}
		if diff := cmp.Diff(map[string]any{"id": h.ID(), "applicationId": "app.test", "user": map[string]any{"username": testUser}}, ev.Source); diff != "" {
			t.Errorf("source (-want +got):\n%s", diff)
		}
		writeFrame(t, ws, "6:::"+p.ID+`+[{"success": true}]`)
	}
	if ids[0] == ids[1] {
		t.Errorf("ack ids repeat: %v", ids)
	}

	// Heartbeats are answered.
	writeFrame(t, ws, "2::")
	if f := readFrame(t, ws); f != "2::" {
		t.Errorf("heartbeat answered with %q", f)
	}

	// A server event reaches the handler; an unparseable frame, an unknown
	// packet type and a malformed event are ignored.
	writeFrame(t, ws, "garbage")
	writeFrame(t, ws, "3:::message")
	writeFrame(t, ws, `5:::{"name":"other","args":[{}]}`)
	writeFrame(t, ws, `5:::not json`)
	writeFrame(t, ws, `5:::{"name":"ftrack.event","args":[{"id":"e1","topic":"foo","data":{"x":1},"source":{},"target":"","sent":null,"inReplyToEvent":null}]}`)
	if ev := receive(t, got); ev.ID != "e1" || ev.Data["x"] != float64(1) {
		t.Errorf("handler got %+v", ev)
	}
	if !h.Connected() {
		t.Error("ignored frames broke the connection")
	}

	// A failure ack is reported to WaitForAck.
	errc := make(chan error, 1)
	go func() { errc <- h.Publish(t.Context(), event.NewEvent("bar", nil), event.WaitForAck()) }()
	p, ev, _ := readEvent(t, ws)
	if ev.Topic != "bar" {
		t.Fatalf("published topic %q", ev.Topic)
	}
	writeFrame(t, ws, "6:::"+p.ID+`+[{"success": false, "message": "nope"}]`)
	if err := receive(t, errc); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("failure ack: Publish = %v", err)
	}

	// Close unsubscribes every subscriber before closing.
	closed := make(chan error, 1)
	go func() { closed <- h.Close() }()
	unsubscribed := map[string]bool{}
	for range 2 {
		_, ev, _ := readEvent(t, ws)
		if ev.Topic != event.TopicUnsubscribe {
			t.Fatalf("on Close got topic %q", ev.Topic)
		}
		unsubscribed[ev.Data["subscriber"].(map[string]any)["id"].(string)] = true
	}
	if diff := cmp.Diff(map[string]bool{h.ID(): true, "sub-1": true}, unsubscribed); diff != "" {
		t.Errorf("unsubscribed (-want +got):\n%s", diff)
	}
	if err := receive(t, closed); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestReconnectTriggers(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		frame  string // sent by the server after 1::; "" sends nothing
		log    string
	}{
		"Disconnect": {"0:: from the server is an unexpected disconnect", "0::", "disconnect"},
		"Error":      {"7::: is logged and reconnected", "7:::boom reason", "boom reason"},
		"Watchdog":   {"silence longer than the read timeout", "", "no frame for"},
		"Close":      {"the socket closing", "close", "connection lost"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newScripted(t)
			logs := &syncBuffer{}
			h := s.hub(t, logs, event.WithReadTimeout(300*time.Millisecond))
			if err := h.Connect(t.Context()); err != nil {
				t.Fatal(err)
			}
			ws := s.socket(t)
			writeFrame(t, ws, "1::")
			switch tc.frame {
			case "":
			case "close":
				_ = ws.Close(websocket.StatusGoingAway, "")
			default:
				writeFrame(t, ws, tc.frame)
			}
			second := s.socket(t)
			receive(t, h.Resync())
			writeFrame(t, second, "1::")
			// The new socket gets the subscriptions again.
			if _, ev, _ := readEvent(t, second); ev.Topic != event.TopicSubscribe {
				t.Errorf("%s: first packet after reconnect has topic %q", tc.reason, ev.Topic)
			}
			waitFor(t, "log line", func() bool { return strings.Contains(logs.String(), tc.log) })
			if got := len(s.handshakes); got < 2 {
				t.Errorf("%s: %d handshakes, want a fresh one per connection", tc.reason, got)
			}
		})
	}
}
