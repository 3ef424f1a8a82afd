package event_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

func newEmulator(t *testing.T) *ftracktest.Server {
	t.Helper()
	srv, err := ftracktest.NewServer(ftracktest.WithHeartbeatInterval(50 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func emulatorHub(t *testing.T, srv *ftracktest.Server) *event.Hub {
	t.Helper()
	logs := &syncBuffer{}
	h, err := event.NewHub(srv.URL, ftracktest.DefaultUser, ftracktest.DefaultAPIKey,
		event.WithBackoff(5*time.Millisecond, 50*time.Millisecond), event.WithReadTimeout(2*time.Second),
		event.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = h.Close()
		if strings.Contains(logs.String(), ftracktest.DefaultAPIKey) {
			t.Error("the API key appears in the logs")
		}
	})
	return h
}

// apiCall posts one batch to the emulator's /api and returns the results.
func apiCall(t *testing.T, srv *ftracktest.Server, ops ...map[string]any) []map[string]any {
	t.Helper()
	body, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/api", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ftrack-user", ftracktest.DefaultUser)
	req.Header.Set("ftrack-api-key", ftracktest.DefaultAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/api: status %d, decode error %v", resp.StatusCode, err)
	}
	return out
}

// renameUser changes the default user's first name through /api, which
// makes the emulator publish ftrack.update.
func renameUser(t *testing.T, srv *ftracktest.Server, userID, name string) {
	t.Helper()
	apiCall(t, srv, map[string]any{"action": "update", "entity_type": "User", "entity_key": []any{userID},
		"entity_data": map[string]any{"first_name": name}})
}

// waitUpdate renames the user until an ftrack.update for it arrives (the
// subscription may still be on its way to the server at first).
func waitUpdate(t *testing.T, srv *ftracktest.Server, ch chan event.Event, userID string) event.Event {
	t.Helper()
	for i := range 200 {
		renameUser(t, srv, userID, "Jane"+time.Now().Format("150405.000000"))
		select {
		case ev := <-ch:
			entities, _ := ev.Data["entities"].([]any)
			if len(entities) == 0 {
				t.Fatalf("ftrack.update without entities: %v", ev.Data)
			}
			first, _ := entities[0].(map[string]any)
			if first["entityId"] != userID || first["action"] != "update" {
				t.Fatalf("ftrack.update for %v, want the user update", first)
			}
			return ev
		case <-time.After(50 * time.Millisecond):
			if i == 199 {
				t.Fatal("no ftrack.update from the emulator")
			}
		}
	}
	return event.Event{}
}

func TestEmulatorUpdatesAndReconnect(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	res := apiCall(t, srv, map[string]any{"action": "query",
		"expression": `select id from User where username is "` + ftracktest.DefaultUser + `"`})
	data, _ := res[0]["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("user query: %v", res)
	}
	userID, _ := data[0].(map[string]any)["id"].(string)

	h := emulatorHub(t, srv)
	handler, ch := collect()
	if _, err := h.Subscribe("topic=ftrack.update and source.user.username="+ftracktest.DefaultUser, handler); err != nil {
		t.Fatal(err)
	}
	if err := h.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitUpdate(t, srv, ch, userID)

	if n := srv.DropEventHubConnections(); n != 1 {
		t.Fatalf("DropEventHubConnections() = %d, want 1", n)
	}
	receive(t, h.Resync())
	waitFor(t, "reconnection", func() bool { return h.Connected() && srv.EventHubConnections() == 1 })
	drain(ch)
	waitUpdate(t, srv, ch, userID)
}

func TestEmulatorReply(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	responder, asker := emulatorHub(t, srv), emulatorHub(t, srv)
	_, err := responder.Subscribe("topic=ftrack-operator.test.question", func(_ context.Context, d *event.Delivery) (any, error) {
		return map[string]any{"echo": d.Event.Data["q"]}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []*event.Hub{responder, asker} {
		if err := h.Connect(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	// The responder's subscription may not have reached the server yet;
	// ask until an answer comes.
	for i := range 100 {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		reply, err := asker.PublishAndWaitForReply(ctx, event.NewEvent("ftrack-operator.test.question", map[string]any{"q": "hello"}))
		cancel()
		if err == nil {
			if reply.Data["echo"] != "hello" {
				t.Errorf("reply data %v", reply.Data)
			}
			return
		}
		if i == 99 {
			t.Fatalf("no reply through the emulator: %v", err)
		}
	}
}

// TestNonObjectDataThroughTheEmulator: an event whose data is a list travels through the
// hub to another client's subscriber as it was published.
func TestNonObjectDataThroughTheEmulator(t *testing.T) {
	srv := newEmulator(t)
	pub, sub := emulatorHub(t, srv), emulatorHub(t, srv)
	for _, h := range []*event.Hub{pub, sub} {
		if err := h.Connect(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	got := make(chan event.Event, 4)
	if _, err := sub.Subscribe("topic=studio.shots", func(_ context.Context, d *event.Delivery) (any, error) {
		got <- d.Event
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		ev := event.NewEvent("studio.shots", nil)
		ev.RawData = json.RawMessage(`["sh010","sh020"]`)
		if err := pub.Publish(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
		select {
		case in := <-got:
			if string(in.RawData) != `["sh010","sh020"]` {
				t.Errorf("received data %s (Data %v)", in.RawData, in.Data)
			}
			return
		case <-time.After(200 * time.Millisecond): // the subscription may still be on its way
		case <-deadline:
			t.Fatal("the event never arrived")
		}
	}
}
