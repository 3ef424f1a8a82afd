package ftrack

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// jsonNullType marks an attribute whose value is known to be null; an
// absent (nil) slot means "not set".
type jsonNullType struct{}

var jsonNull any = jsonNullType{}

// EntityState is the state of an entity derived from the recorded
// operations.
type EntityState int

// Entity states.
const (
	// StateNone: no pending operation.
	StateNone EntityState = iota
	// StateCreated: a create operation is pending.
	StateCreated
	// StateModified: update operations are pending.
	StateModified
	// StateDeleted: a delete operation is pending.
	StateDeleted
)

// String returns the state's name.
func (s EntityState) String() string {
	switch s {
	case StateCreated:
		return "created"
	case StateModified:
		return "modified"
	case StateDeleted:
		return "deleted"
	default:
		return "not_set"
	}
}

// Entity is one ftrack entity of any type. Its attributes come from the
// server's schema. Each attribute has a remote value (last known server
// value) and a local value (set by the program, pending until Commit).
// Entities belong to one Session and are safe for concurrent use through it.
type Entity struct {
	s      *Session
	typ    *entityType
	remote []any
	local  []any
	state  EntityState
	key    string // identity-map key, "" while detached
}

func (s *Session) newEntity(t *entityType) *Entity {
	return &Entity{s: s, typ: t, remote: make([]any, len(t.attrs))}
}

// EntityType returns the entity's type name, its __entity_type__.
func (e *Entity) EntityType() string { return e.typ.name }

// Session returns the session the entity belongs to.
func (e *Entity) Session() *Session { return e.s }

// Attributes returns the entity type's attribute names in schema order.
func (e *Entity) Attributes() []string { return e.typ.attributeNames() }

// HasAttribute reports whether the entity type has the attribute.
func (e *Entity) HasAttribute(name string) bool { _, ok := e.typ.byName[name]; return ok }

// Identity returns the entity's identity: type and primary-key strings.
func (e *Entity) Identity() Identity {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	return e.identityLocked()
}

func (e *Entity) identityLocked() Identity {
	id := Identity{Type: e.typ.name, Key: make([]string, len(e.typ.primary))}
	for i, a := range e.typ.primary {
		id.Key[i] = primaryString(e.valueLocked(a))
	}
	return id
}

// ID returns the value of the "id" attribute as a string, or "" when the
// type has no id or it is not set.
func (e *Entity) ID() string {
	a, ok := e.typ.byName["id"]
	if !ok {
		return ""
	}
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	v := e.valueLocked(a)
	if v == nil {
		return ""
	}
	return primaryString(v)
}

// PrimaryKey returns the primary-key attribute names and string values in
// schema order.
func (e *Entity) PrimaryKey() []KeyValue {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	return e.primaryKeyLocked()
}

func (e *Entity) primaryKeyLocked() []KeyValue {
	out := make([]KeyValue, len(e.typ.primary))
	for i, a := range e.typ.primary {
		out[i] = KeyValue{Name: a.name, Value: primaryString(e.valueLocked(a))}
	}
	return out
}

// KeyValue is one primary-key attribute and its string value.
type KeyValue struct {
	Name  string
	Value string
}

// State returns the entity's state.
func (e *Entity) State() EntityState {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	return e.state
}

// String describes the entity by type and primary key.
func (e *Entity) String() string {
	return "<" + e.typ.name + "(" + fmt.Sprint(e.Identity().Key) + ")>"
}

func (e *Entity) attr(name string) (*attribute, error) {
	a, ok := e.typ.byName[name]
	if !ok {
		return nil, &AttributeError{EntityType: e.typ.name, Attribute: name, Err: ErrUnknownAttribute}
	}
	return a, nil
}

// valueLocked returns local, else remote, else nil (not set). jsonNull is
// returned as is.
func (e *Entity) valueLocked(a *attribute) any {
	if e.local != nil {
		if v := e.local[a.idx]; v != nil {
			return v
		}
	}
	return e.remote[a.idx]
}

// Get returns the attribute's value, loading it from the server when it is
// not set and auto-populate is on (see GetContext). A value that is not set
// and not loaded is returned as nil with a nil error; use IsSet to tell it
// from null.
func (e *Entity) Get(name string) (any, error) {
	ctx, cancel := e.s.defaultContext()
	defer cancel()
	return e.GetContext(ctx, name)
}

// GetContext is Get with a context for the auto-populate query.
//
// Scalars are string, float64, int64 (integer attributes), bool, time.Time
// (datetimes), Date, map[string]any or []any; references are *Entity;
// collections and mapped collections are *Collection; null is nil.
func (e *Entity) GetContext(ctx context.Context, name string) (any, error) {
	a, err := e.attr(name)
	if err != nil {
		return nil, err
	}
	e.s.mu.Lock()
	v := e.valueLocked(a)
	populate := v == nil && e.state != StateCreated && e.s.autoPopulateEnabled()
	if v == nil && e.state == StateCreated && (a.kind == schema.KindCollection || a.kind == schema.KindMapped) {
		// A new entity's collections start empty, without an operation.
		c := &Collection{owner: e, attr: a}
		e.setLocalSlot(a, c)
		v = c
	}
	e.s.mu.Unlock()
	if populate {
		if err := e.s.populate(ctx, []*Entity{e}, a.populateProjection(e.s)); err != nil {
			return nil, err
		}
		e.s.mu.Lock()
		v = e.valueLocked(a)
		e.s.mu.Unlock()
	}
	return exportValue(v), nil
}

// MustGet is Get that panics on error, for examples and tests.
func (e *Entity) MustGet(name string) any {
	v, err := e.Get(name)
	if err != nil {
		panic(err)
	}
	return v
}

// IsSet reports whether the attribute has a local or remote value (null
// counts as set). It never queries the server.
func (e *Entity) IsSet(name string) bool {
	a, ok := e.typ.byName[name]
	if !ok {
		return false
	}
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	return e.valueLocked(a) != nil
}

// IsModified reports whether the attribute has a local value.
func (e *Entity) IsModified(name string) bool {
	a, ok := e.typ.byName[name]
	if !ok {
		return false
	}
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	return e.local != nil && e.local[a.idx] != nil
}

// Values returns the set attributes (local over remote) without querying.
func (e *Entity) Values() map[string]any {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	out := make(map[string]any)
	for _, a := range e.typ.attrs {
		if v := e.valueLocked(a); v != nil {
			out[a.name] = exportValue(v)
		}
	}
	return out
}

// Set sets the attribute's local value and, while recording is on, records
// an update operation. Immutable attributes cannot change once they have a
// value. Datetime attributes accept time.Time, Date and ISO 8601 strings;
// references accept *Entity or nil; collections accept []*Entity or
// *Collection.
func (e *Entity) Set(name string, value any) error {
	a, err := e.attr(name)
	if err != nil {
		return err
	}
	v, err := e.s.convertLocal(e, a, value)
	if err != nil {
		return err
	}
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	return e.setLocked(a, v)
}

// Unset clears the attribute's local value without recording an operation.
func (e *Entity) Unset(name string) {
	a, ok := e.typ.byName[name]
	if !ok {
		return
	}
	e.s.mu.Lock()
	if e.local != nil {
		e.local[a.idx] = nil
	}
	e.s.mu.Unlock()
}

func (e *Entity) setLocalSlot(a *attribute, v any) {
	if e.local == nil {
		e.local = make([]any, len(e.typ.attrs))
		e.s.dirty[e] = struct{}{}
	}
	e.local[a.idx] = v
}

// setLocked is Python's set_local_value: immutability check, store,
// record. v is already converted.
func (e *Entity) setLocked(a *attribute, v any) error {
	old := e.valueLocked(a)
	if !a.mutable && old != nil {
		return &AttributeError{EntityType: e.typ.name, Attribute: a.name, Err: ErrImmutableAttribute}
	}
	var oldLocal any
	if e.local != nil {
		oldLocal = e.local[a.idx]
	}
	e.setLocalSlot(a, v)
	if c, ok := v.(*Collection); ok {
		c.owner, c.attr = e, a
	}
	if e.s.recordingEnabled() {
		e.s.recordLocked(Operation{
			Kind:       OpUpdate,
			EntityType: e.typ.name,
			EntityKey:  e.primaryKeyLocked(),
			Attribute:  a.name,
			OldValue:   snapshotValue(oldLocal),
			NewValue:   snapshotValue(v),
			entity:     e,
		})
	}
	return nil
}

// MarshalJSON encodes the entity with its persisted remote values (no
// computed attributes), references as {__entity_type__, keys…} and tagged
// datetimes: the form caches below the memory layer store.
func (e *Entity) MarshalJSON() ([]byte, error) {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	return e.marshalLocked()
}

func (e *Entity) marshalLocked() ([]byte, error) {
	m := map[string]any{"__entity_type__": e.typ.name}
	for _, a := range e.typ.attrs {
		if a.computed {
			continue
		}
		v := e.remote[a.idx]
		if a.primary && v == nil {
			v = e.valueLocked(a)
		}
		if v == nil {
			continue
		}
		m[a.name] = e.s.encodeValueLocked(v)
	}
	return json.Marshal(m)
}

// populateProjection returns the projection Python uses to auto-populate a:
// the attribute itself, or for a reference ref.p for each default
// projection of the referenced type.
func (a *attribute) populateProjection(s *Session) string {
	if a.kind != schema.KindReference {
		return a.name
	}
	t, ok := s.types[a.prop.Ref]
	if !ok || len(t.schema.DefaultProjections) == 0 {
		return a.name
	}
	out := ""
	for i, p := range t.schema.DefaultProjections {
		if i > 0 {
			out += ", "
		}
		out += a.name + "." + p
	}
	return out
}

// Collection is the value of a collection or mapped-collection attribute:
// ordered entities without duplicates. Changing it records an update of the
// owning attribute with the whole new membership.
type Collection struct {
	owner *Entity
	attr  *attribute
	items []*Entity
}

// Len returns the number of entities.
func (c *Collection) Len() int {
	if c == nil {
		return 0
	}
	c.lock()
	defer c.unlock()
	return len(c.items)
}

// At returns the i-th entity.
func (c *Collection) At(i int) *Entity {
	c.lock()
	defer c.unlock()
	return c.items[i]
}

// Entities returns a copy of the entities.
func (c *Collection) Entities() []*Entity {
	if c == nil {
		return nil
	}
	c.lock()
	defer c.unlock()
	return slices.Clone(c.items)
}

// All iterates over a snapshot of the entities.
func (c *Collection) All() iter.Seq2[int, *Entity] {
	return slices.All(c.Entities())
}

// Contains reports whether e is a member (by identity).
func (c *Collection) Contains(e *Entity) bool {
	c.lock()
	defer c.unlock()
	return c.indexLocked(e) >= 0
}

func (c *Collection) indexLocked(e *Entity) int {
	for i, x := range c.items {
		if x == e {
			return i
		}
	}
	if e.key == "" {
		return -1
	}
	for i, x := range c.items {
		if x.key == e.key {
			return i
		}
	}
	return -1
}

// Append adds e unless it is already a member and records the update.
func (c *Collection) Append(e *Entity) error {
	if c.owner == nil {
		return fmt.Errorf("ftrack: collection is detached")
	}
	c.lock()
	defer c.unlock()
	if c.indexLocked(e) >= 0 {
		return nil
	}
	items := append(slices.Clone(c.items), e)
	return c.replaceLocked(items)
}

// Remove removes e and records the update; it reports ErrNotFound when e is
// not a member.
func (c *Collection) Remove(e *Entity) error {
	if c.owner == nil {
		return fmt.Errorf("ftrack: collection is detached")
	}
	c.lock()
	defer c.unlock()
	i := c.indexLocked(e)
	if i < 0 {
		return fmt.Errorf("%w: %s is not in the collection", ErrNotFound, e.typ.name)
	}
	items := slices.Delete(slices.Clone(c.items), i, i+1)
	return c.replaceLocked(items)
}

func (c *Collection) replaceLocked(items []*Entity) error {
	nc := &Collection{owner: c.owner, attr: c.attr, items: items}
	if err := c.owner.setLocked(c.attr, nc); err != nil {
		return err
	}
	c.items = items
	c.owner.local[c.attr.idx] = c
	return nil
}

func (c *Collection) lock() {
	if c.owner != nil {
		c.owner.s.mu.Lock()
	}
}

func (c *Collection) unlock() {
	if c.owner != nil {
		c.owner.s.mu.Unlock()
	}
}

// exportValue converts a stored value to what Get returns.
func exportValue(v any) any {
	if v == jsonNull {
		return nil
	}
	return v
}

// snapshotValue copies collections so that an operation keeps the
// membership of the moment it was recorded.
func snapshotValue(v any) any {
	if c, ok := v.(*Collection); ok {
		return slices.Clone(c.items)
	}
	return v
}

// primaryString stringifies a primary-key value as Python's str() would for
// the values servers send.
func primaryString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case bool:
		if x {
			return "True"
		}
		return "False"
	case jsonNullType:
		return "None"
	case *Entity, *Collection:
		// Never formatted through String: that would take the session lock, which callers
		// may hold. A key holding one is refused when decoded.
		return fmt.Sprintf("<%T>", x)
	default:
		return fmt.Sprint(x)
	}
}

// convertLocal checks and converts a value set by the program.
func (s *Session) convertLocal(e *Entity, a *attribute, value any) (any, error) {
	bad := func(want string) error {
		return &AttributeError{EntityType: e.typ.name, Attribute: a.name,
			Err: fmt.Errorf("%w: want %s, got %T", ErrValidation, want, value)}
	}
	if value == nil {
		return jsonNull, nil
	}
	switch a.kind {
	case schema.KindDateTime:
		switch x := value.(type) {
		case time.Time, Date:
			return x, nil
		case *time.Time:
			if x == nil {
				return jsonNull, nil
			}
			return *x, nil
		case string:
			t, err := parseDateTime(x)
			if err != nil {
				return nil, bad("a datetime")
			}
			return t, nil
		}
		return nil, bad("time.Time, Date or an ISO 8601 string")
	case schema.KindReference:
		x, ok := value.(*Entity)
		if !ok {
			return nil, bad("*Entity")
		}
		if x == nil {
			return jsonNull, nil
		}
		return x, nil
	case schema.KindCollection, schema.KindMapped:
		switch x := value.(type) {
		case []*Entity:
			return &Collection{items: slices.Clone(x)}, nil
		case *Collection:
			return &Collection{items: x.Entities()}, nil
		}
		return nil, bad("[]*Entity or *Collection")
	}
	if a.primary {
		switch x := value.(type) {
		case string:
			return x, nil
		case int, int64, int32, uint, uint32, uint64, float64:
			return primaryString(toFloatOrInt(x)), nil
		}
		return nil, bad("a string")
	}
	switch a.prop.Type {
	case "integer":
		switch x := value.(type) {
		case int:
			return int64(x), nil
		case int32:
			return int64(x), nil
		case int64:
			return x, nil
		case float64:
			if x == math.Trunc(x) {
				return int64(x), nil
			}
		}
		return nil, bad("an integer")
	case "number":
		switch x := value.(type) {
		case int:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case float32:
			return float64(x), nil
		case float64:
			return x, nil
		}
		return nil, bad("a number")
	case "boolean":
		if _, ok := value.(bool); !ok {
			return nil, bad("a bool")
		}
	case "string":
		if _, ok := value.(string); !ok {
			return nil, bad("a string")
		}
	}
	return value, nil
}

func toFloatOrInt(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x)
		}
	case uint32:
		return int64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
	}
	return v
}

// convertRemote converts a decoded JSON value to the stored form of a.
func convertRemote(a *attribute, v any) any {
	if v == nil {
		return jsonNull
	}
	if a.primary {
		return primaryString(v)
	}
	switch a.kind {
	case schema.KindScalar:
		if a.integer {
			if f, ok := v.(float64); ok && f == math.Trunc(f) {
				return int64(f)
			}
		}
	case schema.KindDateTime:
		if s, ok := v.(string); ok {
			if t, err := parseDateTime(s); err == nil {
				return t
			}
		}
	case schema.KindCollection, schema.KindMapped:
		if list, ok := v.([]any); ok {
			items := make([]*Entity, 0, len(list))
			for _, x := range list {
				if e, ok := x.(*Entity); ok {
					items = append(items, e)
				}
			}
			return &Collection{attr: a, items: items}
		}
	}
	return v
}
