package ftrack_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
)

// TestPublishRightAfterNewSession: with the event hub connected in the background, a
// publish made right after NewSession waits for the connection — here slow, and refused at
// the first attempt — and is delivered, as in the Python client: never ErrNotConnected.
func TestPublishRightAfterNewSession(t *testing.T) {
	srv := newServer(t)
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var refuse atomic.Bool
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/socket.io/") && refuse.CompareAndSwap(true, false) {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/socket.io/") {
			select {
			case <-time.After(300 * time.Millisecond): // a slow event hub handshake
			case <-r.Context().Done():
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(slow.Close)

	open := func() *ftrack.Session {
		s, err := ftrack.NewSession(t.Context(), ftrack.WithServerURL(slow.URL), ftrack.WithAPIUser("ftracktest"),
			ftrack.WithAPIKey("ftracktest-api-key"), ftrack.WithoutSchemaCache(), ftrack.WithPluginPaths(),
			ftrack.WithAutoConnectEventHub(true))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	listener := open()
	got := make(chan event.Event, 1)
	if _, err := listener.EventHub().Subscribe("topic=publish.at.once", func(_ context.Context, d *event.Delivery) (any, error) {
		select {
		case got <- d.Event:
		default:
		}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !listener.EventHub().Connected() {
		if time.Now().After(deadline) {
			t.Fatal("the listener's hub did not connect")
		}
		time.Sleep(10 * time.Millisecond)
	}

	refuse.Store(true)
	s := open()
	if s.EventHub().Connected() {
		t.Fatal("the hub is connected already: the handshake was not slow enough to test anything")
	}
	// Let the first handshake be refused before publishing.
	for refuse.Load() {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ev := event.NewEvent("publish.at.once", map[string]any{"n": 1})
	if err := s.EventHub().Publish(ctx, ev); err != nil {
		t.Fatalf("Publish right after NewSession: %v", err)
	}
	select {
	case e := <-got:
		if e.ID != ev.ID {
			t.Errorf("received event %s, want %s", e.ID, ev.ID)
		}
	case <-ctx.Done():
		t.Fatal("the event published right after NewSession was not delivered")
	}
}
