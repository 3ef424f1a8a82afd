package ftrack

import (
	"fmt"
	"slices"
	"sync"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
)

// Topics of the events the session publishes locally (synchronously, never
// to the server), as the Python client does.
const (
	TopicSessionReady = "ftrack.api.session.ready"
	TopicSessionReset = "ftrack.api.session.reset"
	// TopicConstructEntityType is published once per entity type when the session starts,
	// with data {"schema": *schema.Schema, "schemas": *schema.Set}. In the Python client a
	// handler answers with the class that entities of that type are built from. Go entities
	// are generic (*Entity, driven by the schema), so there is no class to build: the Go
	// form of the hook is to read the schema here (plugins use it to learn the types before
	// the session is ready), and what a handler returns is not used. Behaviour that Python
	// plugins put into entity classes (default values, helper methods) belongs in ordinary
	// Go code around the *Entity.
	TopicConstructEntityType = "ftrack.api.session.construct-entity-type"
	TopicConfigureLocation   = "ftrack.api.session.configure-location"
)

// LocalHandler handles a locally published event; its result is collected
// by the publisher.
type LocalHandler func(event.Event) any

type localSub struct {
	id      int
	topic   string
	handler LocalHandler
}

// localEvents dispatches the session's own events to in-process handlers.
type localEvents struct {
	mu   sync.Mutex
	next int
	subs []localSub
}

func newLocalEvents() *localEvents { return &localEvents{} }

// SubscribeLocal calls h for every local event of topic (exact match, or
// "*" for all) until the returned function is called. Plugins use it to
// hook into session start-up and reset.
func (s *Session) SubscribeLocal(topic string, h LocalHandler) (unsubscribe func()) {
	le := s.events
	le.mu.Lock()
	le.next++
	id := le.next
	le.subs = append(le.subs, localSub{id: id, topic: topic, handler: h})
	le.mu.Unlock()
	return func() {
		le.mu.Lock()
		le.subs = slices.DeleteFunc(le.subs, func(x localSub) bool { return x.id == id })
		le.mu.Unlock()
	}
}

// publishLocal calls the matching handlers in subscription order and
// returns their non-nil results.
func (s *Session) publishLocal(topic string, data map[string]any) []any {
	le := s.events
	le.mu.Lock()
	subs := slices.Clone(le.subs)
	le.mu.Unlock()
	ev := event.NewEvent(topic, data)
	var out []any
	if s.hub != nil {
		ctx, cancel := s.defaultContext()
		for _, r := range s.hub.hub.PublishLocal(ctx, ev) {
			if r != nil {
				out = append(out, r)
			}
		}
		cancel()
	}
	for _, sub := range subs {
		if sub.topic != topic && sub.topic != "*" {
			continue
		}
		if r := s.callLocal(sub.handler, ev); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// callLocal calls h, logging a panic instead of passing it on: a plugin's broken handler
// must not take the session (or the program) down, as the Python client's event hub logs a
// handler's exception and goes on.
func (s *Session) callLocal(h LocalHandler, ev event.Event) (out any) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("ftrack: an event handler panicked", "topic", ev.Topic, "panic", fmt.Sprint(r))
			out = nil
		}
	}()
	return h(ev)
}
