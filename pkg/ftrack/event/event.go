package event

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"maps"
	"strings"

	"github.com/google/uuid"
)

// Well-known topics.
const (
	// TopicSubscribe registers a subscription with the server.
	TopicSubscribe = "ftrack.meta.subscribe"
	// TopicUnsubscribe removes a subscription from the server.
	TopicUnsubscribe = "ftrack.meta.unsubscribe"
	// TopicReply carries a reply to an earlier event.
	TopicReply = "ftrack.meta.reply"
	// TopicConnected is published locally when a Hub has connected.
	TopicConnected = "ftrack.meta.connected"
	// TopicDisconnected is published locally when a Hub has lost its
	// connection.
	TopicDisconnected = "ftrack.meta.disconnected"
	// TopicUpdate is published by the server when entities change.
	TopicUpdate = "ftrack.update"
)

// Event is an ftrack event as it travels on the wire. It marshals to exactly
// the seven keys the official clients accept (the Python client drops events
// with any other top-level key).
type Event struct {
	// ID identifies the event; 32 hexadecimal digits for events made here.
	ID string `json:"id"`
	// Topic is the dotted topic name, e.g. "ftrack.update".
	Topic string `json:"topic"`
	// Data is the payload.
	Data map[string]any `json:"data"`
	// RawData is the payload of an event whose data is not an object (a list, a string,
	// a number: the other clients allow any value), as it came, with Data empty. When set,
	// it is what MarshalJSON sends as data.
	RawData json.RawMessage `json:"-"`
	// Source describes the publisher: {"id", "user": {"username"}, …}.
	Source map[string]any `json:"source"`
	// Target is empty or an expression evaluated against subscriber
	// metadata; only subscribers it matches receive the event.
	Target string `json:"target"`
	// InReplyToEvent is the id of the event this one replies to, or nil.
	InReplyToEvent *string `json:"inReplyToEvent"`
	// Sent is null on the wire in practice; kept for fidelity.
	Sent any `json:"sent"`
}

// NewEvent returns an event with a fresh id, the given topic and data, and an
// empty source and target.
func NewEvent(topic string, data map[string]any) Event {
	if data == nil {
		data = map[string]any{}
	}
	return Event{ID: NewID(), Topic: topic, Data: data, Source: map[string]any{}}
}

// NewID returns a random (version 4) UUID as 32 lowercase hexadecimal digits,
// the id format the Python client and the server use.
func NewID() string {
	u := uuid.New()
	return hex.EncodeToString(u[:])
}

// wireEvent has the field layout of Event without its methods.
type wireEvent Event

// MarshalJSON encodes the seven wire keys; nil Data and Source become {}.
func (e Event) MarshalJSON() ([]byte, error) {
	w := wireEvent(e)
	if w.Data == nil {
		w.Data = map[string]any{}
	}
	if w.Source == nil {
		w.Source = map[string]any{}
	}
	if len(e.RawData) > 0 {
		type withRaw struct {
			wireEvent
			Data json.RawMessage `json:"data"`
		}
		return json.Marshal(withRaw{wireEvent: w, Data: e.RawData})
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes an event; missing data and source become empty maps
// and unknown keys are ignored.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w struct {
		wireEvent
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	ev := Event(w.wireEvent)
	ev.Data = map[string]any{}
	if raw := bytes.TrimSpace(w.Data); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if raw[0] == '{' {
			if err := json.Unmarshal(raw, &ev.Data); err != nil {
				return err
			}
		} else {
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			ev.RawData = bytes.Clone(raw)
		}
	}
	if ev.Source == nil {
		ev.Source = map[string]any{}
	}
	*e = ev
	return nil
}

// Candidate returns the event as the mapping subscription expressions are
// evaluated against: the seven wire keys, with data and source as maps.
func (e Event) Candidate() map[string]any {
	m := map[string]any{
		"id":     e.ID,
		"topic":  e.Topic,
		"data":   e.Data,
		"source": e.Source,
		"target": e.Target,
		"sent":   e.Sent,
	}
	if len(e.RawData) > 0 {
		var v any
		if json.Unmarshal(e.RawData, &v) == nil {
			m["data"] = v
		}
	}
	if m["data"] == nil {
		m["data"] = map[string]any{}
	}
	if m["source"] == nil {
		m["source"] = map[string]any{}
	}
	if e.InReplyToEvent != nil {
		m["inReplyToEvent"] = *e.InReplyToEvent
	} else {
		m["inReplyToEvent"] = nil
	}
	return m
}

// IsReplyTo reports whether e is a reply to the event with the given id.
func (e Event) IsReplyTo(id string) bool {
	return e.InReplyToEvent != nil && *e.InReplyToEvent == id
}

// SourceID returns source.id, or "" when absent or not a string.
func (e Event) SourceID() string {
	id, _ := e.Source["id"].(string)
	return id
}

// Clone returns a copy of e whose Data and Source maps (and nested maps and
// slices in them) are not shared with e.
func (e Event) Clone() Event {
	c := e
	c.Data = cloneMap(e.Data)
	c.Source = cloneMap(e.Source)
	if e.InReplyToEvent != nil {
		id := *e.InReplyToEvent
		c.InReplyToEvent = &id
	}
	return c
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := maps.Clone(m)
	for k, v := range c {
		c[k] = cloneValue(v)
	}
	return c
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneMap(v)
	case []any:
		c := make([]any, len(v))
		for i, x := range v {
			c[i] = cloneValue(x)
		}
		return c
	}
	return v
}

// NewReply returns the reply to source carrying data: topic
// ftrack.meta.reply, target "id=<source.source.id>", inReplyToEvent set to
// source's id.
func NewReply(source Event, data map[string]any) Event {
	r := NewEvent(TopicReply, data)
	r.Target = "id=" + quoteValue(source.SourceID())
	id := source.ID
	r.InReplyToEvent = &id
	return r
}

// quoteValue renders v as an expression value, quoting it when needed.
func quoteValue(v string) string {
	bare := v != ""
	for i := 0; i < len(v) && bare; i++ {
		bare = isBareValueByte(v[i])
	}
	switch {
	case bare:
		return v
	case strings.Contains(v, `"`) && !strings.Contains(v, "'"):
		return "'" + v + "'"
	}
	return `"` + v + `"`
}
