package ftrack

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// identityKeyLocked makes the identity-map key of an identity.
func (s *Session) identityKeyLocked(id Identity) string {
	if _, ok := s.keyMaker.(StringKeyMaker); ok {
		return id.String()
	}
	k, err := s.keyMaker.Key(id)
	if err != nil {
		return id.String()
	}
	return k
}

// attachLocked puts e in the identity map under its current identity.
func (s *Session) attachLocked(e *Entity) {
	id := e.identityLocked()
	e.key = s.identityKeyLocked(id)
	s.storeLocked(e)
}

// storeLocked writes e to the memory layer and its encoded form (persisted
// remote values, see Entity.MarshalJSON) to the layers below.
func (s *Session) storeLocked(e *Entity) {
	s.memory.Set(e.key, e)
	if !s.lower {
		return
	}
	raw, err := e.marshalLocked()
	if err != nil {
		s.logger.Warn("ftrack: cannot encode entity for the cache", "key", e.key, "error", err)
		return
	}
	for _, c := range s.cache.layers[1:] {
		c.Set(e.key, json.RawMessage(raw))
	}
}

// lookupLocked returns the entity cached under key: from the memory layer,
// or rebuilt from a lower layer's encoded form (then kept in memory).
func (s *Session) lookupLocked(key string) *Entity {
	if v, ok := s.memory.Get(key); ok {
		if e, ok := v.(*Entity); ok {
			return e
		}
	}
	if !s.lower || s.rebuilding {
		return nil
	}
	v, ok := s.cache.Get(key)
	if !ok {
		return nil
	}
	if e, ok := v.(*Entity); ok && e.s == s {
		return e
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	s.memory.Remove(key)
	s.rebuilding = true
	dv, err := newJSONDecoder(raw, s.mergeEntityPairs).decodeDocument()
	s.rebuilding = false
	if err != nil {
		s.logger.Debug("ftrack: cannot rebuild cached entity", "key", key, "error", err)
		return nil
	}
	e, _ := dv.(*Entity)
	return e
}

// mergeEntityPairs merges one decoded entity object into the identity map
// and returns the attached entity. Only the values present are copied, as
// remote values; local values are kept. Called with s.mu held.
func (s *Session) mergeEntityPairs(typeName string, pairs []jsonPair) (any, error) {
	t, ok := s.types[typeName]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEntityType, typeName)
	}
	id := Identity{Type: typeName, Key: make([]string, len(t.primary))}
	complete := true
	for i, a := range t.primary {
		found := false
		for _, p := range pairs {
			if p.key == a.name {
				if !isScalarKey(p.val) {
					return nil, fmt.Errorf("%s.%s is a primary key but holds a %s, not a scalar", typeName, a.name, describeJSON(p.val))
				}
				id.Key[i] = primaryString(p.val)
				found = true
				break
			}
		}
		complete = complete && found
	}
	var e *Entity
	key := ""
	if complete {
		key = s.identityKeyLocked(id)
		e = s.lookupLocked(key)
	}
	isNew := e == nil
	if isNew {
		e = s.newEntity(t)
	}
	for _, p := range pairs {
		a, ok := t.byName[p.key]
		if !ok {
			continue
		}
		v := convertRemote(a, p.val)
		if c, ok := v.(*Collection); ok {
			c.owner = e
		}
		e.remote[a.idx] = v
	}
	if complete && (isNew || s.lower) {
		e.key = key
		s.storeLocked(e)
	}
	return e, nil
}

// mergeValueLocked merges a decoded value: entities are already attached;
// maps with __entity_type__ (from a lower cache or a coalescer) are
// decoded and attached.
func (s *Session) mergeValueLocked(v any) (any, error) {
	switch x := v.(type) {
	case *Entity:
		return x, nil
	case map[string]any:
		if _, ok := x["__entity_type__"]; !ok {
			return x, nil
		}
		raw, err := json.Marshal(s.encodeValueLocked(x))
		if err != nil {
			return nil, err
		}
		return newJSONDecoder(raw, s.mergeEntityPairs).decodeDocument()
	case json.RawMessage:
		return newJSONDecoder(x, s.mergeEntityPairs).decodeDocument()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			m, err := s.mergeValueLocked(e)
			if err != nil {
				return nil, err
			}
			out[i] = m
		}
		return out, nil
	}
	return v, nil
}

// Merge attaches value to the session without recording operations and
// returns the attached form: an *Entity of another session (or detached) is
// merged by identity into this session's identity map, copying its set
// values as remote values; collections and lists are merged element-wise;
// maps with __entity_type__ are decoded. Other values are returned as is.
func (s *Session) Merge(value any) (any, error) {
	if s.closed.Load() {
		return nil, ErrSessionClosed
	}
	switch x := value.(type) {
	case *Entity:
		if x.s == s && x.key != "" {
			return x, nil
		}
		m := x.encodedValues()
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.mergeValueLocked(m)
	case []*Entity:
		out := make([]*Entity, len(x))
		for i, e := range x {
			m, err := s.Merge(e)
			if err != nil {
				return nil, err
			}
			out[i], _ = m.(*Entity)
		}
		return out, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mergeValueLocked(value)
}

// encodedValues returns e's set values (local over remote) in wire form.
func (e *Entity) encodedValues() map[string]any {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	m := map[string]any{"__entity_type__": e.typ.name}
	for _, a := range e.typ.attrs {
		if v := e.valueLocked(a); v != nil {
			if a.kind == schema.KindCollection || a.kind == schema.KindMapped {
				if c, ok := v.(*Collection); ok {
					v = slices.Clone(c.items)
				}
			}
			m[a.name] = e.s.encodeValueLocked(v)
		}
	}
	return m
}

// isScalarKey reports whether v can be a primary-key value: a string, a number or a boolean.
// An entity or a collection cannot; formatting one would also take the session lock that the
// decoder already holds.
func isScalarKey(v any) bool {
	switch v.(type) {
	case string, float64, int64, int, bool, nil, jsonNullType:
		return true
	}
	return false
}

// describeJSON names the kind of a decoded value for an error message.
func describeJSON(v any) string {
	switch v.(type) {
	case *Entity:
		return "entity"
	case []any, *Collection:
		return "list"
	case map[string]any:
		return "object"
	case nil, jsonNullType:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
