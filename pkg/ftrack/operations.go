package ftrack

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// OperationKind is the kind of a recorded operation.
type OperationKind int

// Operation kinds.
const (
	OpCreate OperationKind = iota + 1
	OpUpdate
	OpDelete
)

// String returns the action name.
func (k OperationKind) String() string {
	switch k {
	case OpCreate:
		return "create"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	}
	return "unknown"
}

// Operation is one recorded change. Create carries Data (the local values
// at creation); Update carries Attribute, OldValue and NewValue; Delete
// only the key.
type Operation struct {
	Kind       OperationKind
	EntityType string
	EntityKey  []KeyValue
	Data       map[string]any
	Attribute  string
	OldValue   any
	NewValue   any

	entity *Entity
}

// Entity returns the entity the operation was recorded for.
func (o Operation) Entity() *Entity { return o.entity }

func (s *Session) recordingEnabled() bool { return s.record && s.noRecord == 0 }

func (s *Session) autoPopulateEnabled() bool {
	if s.noPopulate > 0 {
		return false
	}
	return s.autoPopulate || s.yesPopulate > 0
}

// recordLocked appends an operation and updates the entity's state.
func (s *Session) recordLocked(op Operation) {
	s.ops = append(s.ops, op)
	e := op.entity
	if e == nil {
		return
	}
	switch op.Kind {
	case OpCreate:
		e.state = StateCreated
	case OpUpdate:
		if e.state == StateNone {
			e.state = StateModified
		}
	case OpDelete:
		e.state = StateDeleted
	}
}

// SetRecordOperations switches operation recording for the session.
func (s *Session) SetRecordOperations(on bool) {
	s.mu.Lock()
	s.record = on
	s.mu.Unlock()
}

// RecordOperations reports whether changes are recorded.
func (s *Session) RecordOperations() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recordingEnabled()
}

// WithoutRecording runs fn with operation recording off for the whole
// session and restores it afterwards. Changes made by other goroutines
// meanwhile are not recorded either.
func (s *Session) WithoutRecording(fn func() error) error {
	s.mu.Lock()
	s.noRecord++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.noRecord--
		s.mu.Unlock()
	}()
	return fn()
}

// SetAutoPopulate switches auto-populate for the session.
func (s *Session) SetAutoPopulate(on bool) {
	s.mu.Lock()
	s.autoPopulate = on
	s.mu.Unlock()
}

// AutoPopulate reports whether unset attributes are loaded on access.
func (s *Session) AutoPopulate() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.autoPopulateEnabled()
}

// WithAutoPopulating runs fn with auto-populate forced on or off for the
// whole session and restores it afterwards.
func (s *Session) WithAutoPopulating(on bool, fn func() error) error {
	s.mu.Lock()
	if on {
		s.yesPopulate++
	} else {
		s.noPopulate++
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if on {
			s.yesPopulate--
		} else {
			s.noPopulate--
		}
		s.mu.Unlock()
	}()
	return fn()
}

// Operations returns a copy of the recorded operations, oldest first.
func (s *Session) Operations() []Operation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ops)
}

// Create makes a new entity of entityType from data and records its create
// operation: defaults of the schema fill missing attributes ("{uid}" makes
// a new UUID), scalars go into the create, then references and collections
// are set as updates (folded into the create on commit). The entity joins
// the identity map.
func (s *Session) Create(entityType string, data map[string]any) (*Entity, error) {
	if s.closed.Load() {
		return nil, ErrSessionClosed
	}
	t, ok := s.types[entityType]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEntityType, entityType)
	}
	e := s.newEntity(t)
	scalars := make(map[*attribute]any, len(data))
	relational := make(map[*attribute]any)
	for k, v := range data {
		a, ok := t.byName[k]
		if !ok {
			s.logger.Debug("ftrack: ignoring unknown attribute on create", "entity_type", entityType, "attribute", k)
			continue
		}
		cv, err := s.convertLocal(e, a, v)
		if err != nil {
			return nil, err
		}
		if a.kind == schema.KindScalar || a.kind == schema.KindDateTime {
			scalars[a] = cv
		} else {
			relational[a] = cv
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range t.attrs {
		if _, given := data[a.name]; given {
			continue
		}
		if dv, ok := a.prop.DefaultValue(newUUID); ok {
			if a.kind == schema.KindDateTime {
				if str, ok := dv.(string); ok {
					if tm, err := parseDateTime(str); err == nil {
						dv = tm
					}
				}
			}
			if dv == nil {
				dv = jsonNull
			}
			e.setLocalSlot(a, dv)
		}
	}
	for a, v := range scalars {
		e.setLocalSlot(a, v)
	}
	if s.recordingEnabled() {
		d := make(map[string]any)
		for _, a := range t.attrs {
			if e.local[a.idx] != nil {
				d[a.name] = e.local[a.idx]
			}
		}
		s.recordLocked(Operation{Kind: OpCreate, EntityType: t.name, EntityKey: e.primaryKeyLocked(), Data: d, entity: e})
	}
	s.attachLocked(e)
	for _, a := range t.attrs { // schema order keeps the operations deterministic
		v, ok := relational[a]
		if !ok {
			continue
		}
		if err := e.setLocked(a, v); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// MustCreate is Create that panics on error, for examples and tests.
func (s *Session) MustCreate(entityType string, data map[string]any) *Entity {
	e, err := s.Create(entityType, data)
	if err != nil {
		panic(err)
	}
	return e
}

// Delete records the deletion of e; Commit sends it.
func (s *Session) Delete(e *Entity) error {
	if s.closed.Load() {
		return ErrSessionClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recordingEnabled() {
		s.recordLocked(Operation{Kind: OpDelete, EntityType: e.typ.name, EntityKey: e.primaryKeyLocked(), entity: e})
	}
	return nil
}

// payload is one entry of a commit batch.
type payload struct {
	action string
	typ    string
	key    []string
	ident  string
	data   map[string]any // nil for delete
	keys   []string       // data keys in insertion order
	entity *Entity
}

func (p *payload) set(k string, v any) {
	if _, ok := p.data[k]; !ok {
		p.keys = append(p.keys, k)
	}
	p.data[k] = v
}

func (p *payload) del(k string) {
	delete(p.data, k)
	p.keys = slices.DeleteFunc(p.keys, func(x string) bool { return x == k })
}

// buildBatchLocked turns operations into the optimised commit batch:
// created-then-deleted entities vanish, only the last update of an
// attribute survives, empty payloads go, and updates fold into the
// preceding create or update of the same entity.
func (s *Session) buildBatchLocked(ops []Operation) []*payload {
	batch := make([]*payload, 0, len(ops))
	for _, op := range ops {
		p := &payload{action: op.Kind.String(), typ: op.EntityType, entity: op.entity}
		p.key = make([]string, len(op.EntityKey))
		for i, kv := range op.EntityKey {
			p.key[i] = kv.Value
		}
		p.ident = Identity{Type: op.EntityType, Key: p.key}.String()
		switch op.Kind {
		case OpCreate:
			p.data = make(map[string]any, len(op.Data)+len(op.EntityKey)+1)
			p.set("__entity_type__", op.EntityType)
			for _, kv := range op.EntityKey {
				p.set(kv.Name, kv.Value)
			}
			names := make([]string, 0, len(op.Data))
			for k := range op.Data {
				names = append(names, k)
			}
			slices.Sort(names)
			for _, k := range names {
				p.set(k, op.Data[k])
			}
		case OpUpdate:
			p.data = map[string]any{}
			p.set("__entity_type__", op.EntityType)
			p.set(op.Attribute, op.NewValue)
		}
		batch = append(batch, p)
	}
	created, deleted := map[string]bool{}, map[string]bool{}
	for _, p := range batch {
		switch p.action {
		case "create":
			created[p.ident] = true
		case "delete":
			deleted[p.ident] = true
		}
	}
	gone := map[string]bool{}
	for id := range deleted {
		if created[id] {
			gone[id] = true
		}
	}
	if len(gone) > 0 {
		batch = slices.DeleteFunc(batch, func(p *payload) bool { return gone[p.ident] })
	}
	seen := map[[2]string]bool{}
	for i := len(batch) - 1; i >= 0; i-- {
		p := batch[i]
		if p.action != "update" {
			continue
		}
		for _, k := range slices.Clone(p.keys) {
			if k == "__entity_type__" {
				continue
			}
			id := [2]string{p.ident, k}
			if seen[id] {
				p.del(k)
			} else {
				seen[id] = true
			}
		}
	}
	batch = slices.DeleteFunc(batch, func(p *payload) bool {
		return p.data != nil && (len(p.keys) == 0 || (len(p.keys) == 1 && p.keys[0] == "__entity_type__"))
	})
	out := batch[:0]
	var prev *payload
	for _, p := range batch {
		if prev != nil && p.action == "update" && (prev.action == "create" || prev.action == "update") &&
			prev.typ == p.typ && slices.Equal(prev.key, p.key) {
			for _, k := range p.keys {
				prev.set(k, p.data[k])
			}
			continue
		}
		out = append(out, p)
		prev = p
	}
	return out
}

// encodeBatchLocked encodes optimised payloads for the wire.
func (s *Session) encodeBatchLocked(batch []*payload) []map[string]any {
	out := make([]map[string]any, len(batch))
	for i, p := range batch {
		key := make([]any, len(p.key))
		for j, k := range p.key {
			key[j] = k
		}
		m := map[string]any{"action": p.action, "entity_type": p.typ, "entity_key": key}
		if p.data != nil {
			d := make(map[string]any, len(p.data))
			for k, v := range p.data {
				d[k] = s.encodeValueLocked(v)
			}
			m["entity_data"] = d
		}
		out[i] = m
	}
	return out
}

// PendingBatch returns the batch Commit would send now: the recorded
// operations merged and encoded. It does not change the session.
func (s *Session) PendingBatch() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.encodeBatchLocked(s.buildBatchLocked(s.ops))
}

// BatchCaller sends one encoded batch and returns the raw, undecoded result
// elements (json.RawMessage or decoded values); the operator's commit
// coalescer implements it to share one /api call between sessions' work.
type BatchCaller func(ctx context.Context, batch []map[string]any) ([]any, error)

// Commit sends the recorded operations as one batch. On success the
// operations are cleared and the answers merged into the identity map; on
// failure the operations stay recorded (see Rollback).
func (s *Session) Commit(ctx context.Context) error {
	return s.CommitWith(ctx, nil)
}

// CommitWith is Commit with the call made by call (nil: the session's own
// Call). call receives the encoded batch and must return one result per
// entry; results may be *Entity values or maps, as Call returns them.
func (s *Session) CommitWith(ctx context.Context, call BatchCaller) error {
	if s.closed.Load() {
		return ErrSessionClosed
	}
	// One commit at a time, as the Python client's lock: a second commit
	// must not resend operations the first is sending.
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.mu.Lock()
	n := len(s.ops)
	ops := slices.Clone(s.ops)
	batch := s.encodeBatchLocked(s.buildBatchLocked(ops))
	s.mu.Unlock()
	if len(batch) == 0 {
		s.mu.Lock()
		s.finishCommitLocked(ops, n, nil)
		s.mu.Unlock()
		return nil
	}
	var results []any
	var err error
	if call == nil {
		results, err = s.callRaw(ctx, batch, s.mergeEntityPairs)
	} else {
		results, err = call(ctx, batch)
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finishCommitLocked(ops, n, results)
	return nil
}

// finishCommitLocked clears the committed operations and local values and
// merges the create/update answers, as the Python client does.
func (s *Session) finishCommitLocked(ops []Operation, n int, results []any) {
	s.ops = slices.Delete(s.ops, 0, min(n, len(s.ops)))
	for _, op := range ops {
		if op.entity != nil {
			op.entity.state = StateNone
		}
	}
	for e := range s.dirty {
		if e.local == nil {
			continue
		}
		for _, a := range e.typ.attrs {
			if a.primary {
				continue
			}
			// Collections are changed in place in the Python client, so
			// their committed membership survives as the remote value.
			if c, ok := e.local[a.idx].(*Collection); ok {
				e.remote[a.idx] = c
			}
			e.local[a.idx] = nil
		}
	}
	for _, r := range results {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		if act, _ := m["action"].(string); act == "create" || act == "update" {
			if _, err := s.mergeValueLocked(m["data"]); err != nil {
				s.logger.Warn("ftrack: cannot merge commit result", "error", err)
			}
		}
	}
	for e := range s.dirty {
		if e.local == nil {
			continue
		}
		for _, a := range e.typ.attrs {
			if e.local[a.idx] != nil && e.remote[a.idx] == nil && a.primary {
				e.remote[a.idx] = e.local[a.idx]
			}
		}
		e.local = nil
	}
	clear(s.dirty)
	for _, op := range s.ops { // operations recorded during the call stay pending
		if op.entity != nil {
			s.recordState(op)
		}
	}
}

func (s *Session) recordState(op Operation) {
	e := op.entity
	switch op.Kind {
	case OpCreate:
		e.state = StateCreated
	case OpUpdate:
		if e.state == StateNone {
			e.state = StateModified
		}
	case OpDelete:
		e.state = StateDeleted
	}
}

// Rollback drops the recorded operations and all local values; entities
// created since the last commit leave the identity map.
func (s *Session) Rollback() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range s.ops {
		if op.Kind == OpCreate && op.entity != nil && op.entity.key != "" {
			s.cache.Remove(op.entity.key)
			op.entity.key = ""
		}
		if op.entity != nil {
			op.entity.state = StateNone
		}
	}
	s.ops = nil
	for e := range s.dirty {
		e.local = nil
	}
	clear(s.dirty)
}

// Created, Modified and Deleted list the entities in that state.
func (s *Session) Created() []*Entity { return s.entitiesIn(StateCreated) }

// Modified lists the entities with pending updates only.
func (s *Session) Modified() []*Entity { return s.entitiesIn(StateModified) }

// Deleted lists the entities with a pending delete.
func (s *Session) Deleted() []*Entity { return s.entitiesIn(StateDeleted) }

func (s *Session) entitiesIn(st EntityState) []*Entity {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Entity
	seen := map[*Entity]bool{}
	for _, op := range s.ops {
		if e := op.entity; e != nil && e.state == st && !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// encodeValueLocked converts a value to its wire form: entities become
// references, collections lists of references, datetimes tagged values.
func (s *Session) encodeValueLocked(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64, int64, int:
		return x
	case jsonNullType:
		return nil
	case Ref:
		return map[string]any{"__entity_type__": x.Type, "id": x.ID}
	case *Entity:
		ref := make(map[string]any, len(x.typ.primary)+1)
		ref["__entity_type__"] = x.typ.name
		for _, a := range x.typ.primary {
			ref[a.name] = primaryString(x.valueLocked(a))
		}
		return ref
	case *Collection:
		out := make([]any, len(x.items))
		for i, e := range x.items {
			out[i] = s.encodeValueLocked(e)
		}
		return out
	case []*Entity:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = s.encodeValueLocked(e)
		}
		return out
	case time.Time:
		return map[string]any{"__type__": "datetime", "value": formatDateTime(x)}
	case *time.Time:
		if x == nil {
			return nil
		}
		return map[string]any{"__type__": "datetime", "value": formatDateTime(*x)}
	case Date:
		return map[string]any{"__type__": "datetime", "value": x.String()}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = s.encodeValueLocked(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = s.encodeValueLocked(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = s.encodeValueLocked(e)
		}
		return out
	}
	return v
}

// Reset drops the pending operations and clears the memory cache, then
// publishes the configure-location and reset events, as the Python
// client's reset.
func (s *Session) Reset() error {
	if s.closed.Load() {
		return ErrSessionClosed
	}
	s.mu.Lock()
	for _, op := range s.ops {
		if op.entity != nil {
			op.entity.state = StateNone
		}
	}
	s.ops = nil
	clear(s.dirty)
	s.mu.Unlock()
	s.memory.Clear()
	s.builtinLocations()
	ctx, cancel := s.defaultContext()
	defer cancel()
	s.publishLocal(TopicConfigureLocation, map[string]any{"session": s, "context": ctx})
	s.publishLocal(TopicSessionReset, map[string]any{"session": s})
	return nil
}
