package ftrack

import (
	"context"
	"errors"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
)

// eventHub is the session's handle on the server's event hub.
type eventHub struct {
	s      *Session
	hub    *event.Hub
	ctx    context.Context
	cancel context.CancelFunc
}

func newEventHub(s *Session) (*eventHub, error) {
	opts := []event.Option{event.WithLogger(s.logger), event.WithHTTPClient(s.baseClient)}
	for k, vs := range s.cfg.headers {
		for _, v := range vs {
			opts = append(opts, event.WithHeader(k, v))
		}
	}
	h, err := event.NewHub(s.serverURL, s.apiUser, s.apiKey, opts...)
	if err != nil {
		return nil, errors.New(redact(err.Error(), s.apiKey))
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &eventHub{s: s, hub: h, ctx: ctx, cancel: cancel}, nil
}

// connectInBackground connects the hub on a goroutine the session waits
// for in Close; the hub reconnects by itself once connected.
// connectInBackground starts the hub before it returns, as the Python client does: the hub
// counts as started at once and connects (retrying with back-off) in the background, so a
// Publish made right after NewSession waits for the connection instead of failing with
// event.ErrNotConnected.
func (h *eventHub) connectInBackground() {
	if err := h.hub.Start(); err != nil && h.ctx.Err() == nil {
		h.s.logger.Warn("ftrack: event hub not started", "error", redact(err.Error(), h.s.apiKey))
	}
}

func (h *eventHub) close() {
	h.cancel()
	_ = h.hub.Close()
}

// EventHub returns the session's event hub. It is connected in the
// background when the session was made WithAutoConnectEventHub(true);
// otherwise call its Connect. Until connected it delivers local events only.
func (s *Session) EventHub() *event.Hub { return s.hub.hub }
