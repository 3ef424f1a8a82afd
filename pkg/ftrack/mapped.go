package ftrack

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// KeyValueView is the key/value view of a mapped collection attribute:
// Entity.Metadata or Entity.CustomAttributes. Changes are recorded as the
// Python client records them: a new metadata key creates a Metadata entity
// and updates the parent's metadata list; a changed value updates the item
// entity (Metadata keyed [parent_id, key], custom attribute values keyed
// [configuration_id, entity_id]); a deleted metadata key deletes its item.
type KeyValueView struct {
	e        *Entity
	attr     string
	keyAttr  string
	valAttr  string
	metadata bool
	err      error
}

func (e *Entity) keyValueView(name string, metadata bool) *KeyValueView {
	v := &KeyValueView{e: e, attr: name, keyAttr: "key", valAttr: "value", metadata: metadata}
	a, ok := e.typ.byName[name]
	if !ok {
		v.err = &AttributeError{EntityType: e.typ.name, Attribute: name, Err: ErrUnknownAttribute}
		return v
	}
	if kv := a.prop.KeyValue; kv != nil {
		v.keyAttr, v.valAttr = kv.Key, kv.Value
	}
	return v
}

// Metadata returns the view of the entity's metadata.
func (e *Entity) Metadata() *KeyValueView { return e.keyValueView("metadata", true) }

// CustomAttributes returns the view of the entity's custom attributes.
func (e *Entity) CustomAttributes() *KeyValueView { return e.keyValueView("custom_attributes", false) }

// items returns the current item entities.
func (v *KeyValueView) items(ctx context.Context) ([]*Entity, error) {
	if v.err != nil {
		return nil, v.err
	}
	val, err := v.e.GetContext(ctx, v.attr)
	if err != nil {
		return nil, err
	}
	c, _ := val.(*Collection)
	return c.Entities(), nil
}

func (v *KeyValueView) find(ctx context.Context, key string) (*Entity, error) {
	items, err := v.items(ctx)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		k, err := it.GetContext(ctx, v.keyAttr)
		if err != nil {
			return nil, err
		}
		if k == key {
			return it, nil
		}
	}
	return nil, nil
}

// Keys returns the keys in collection order.
func (v *KeyValueView) Keys(ctx context.Context) ([]string, error) {
	items, err := v.items(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		k, err := it.GetContext(ctx, v.keyAttr)
		if err != nil {
			return nil, err
		}
		if s, ok := k.(string); ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// Get returns the value of key; a missing key is an error matching
// ErrNotFound.
func (v *KeyValueView) Get(ctx context.Context, key string) (any, error) {
	it, err := v.find(ctx, key)
	if err != nil {
		return nil, err
	}
	if it == nil {
		return nil, fmt.Errorf("%w: %s key %q on %s", ErrNotFound, v.attr, key, v.e.typ.name)
	}
	return it.GetContext(ctx, v.valAttr)
}

// Set sets the value of key, recording the operations described on
// KeyValueView. Custom attribute keys must exist: on a new entity their
// configuration is looked up (once per session).
func (v *KeyValueView) Set(ctx context.Context, key string, value any) error {
	it, err := v.find(ctx, key)
	if err != nil {
		return err
	}
	if it != nil {
		return it.Set(v.valAttr, value)
	}
	if v.metadata {
		return v.createMetadata(key, value)
	}
	it, err = v.e.s.newCustomAttributeValue(ctx, v.e, v.attr, key)
	if err != nil {
		return err
	}
	return it.Set(v.valAttr, value)
}

// Delete removes a metadata key: its item is deleted on commit. Custom
// attributes cannot be deleted.
func (v *KeyValueView) Delete(ctx context.Context, key string) error {
	if !v.metadata {
		return errors.New("ftrack: custom attributes cannot be deleted")
	}
	it, err := v.find(ctx, key)
	if err != nil {
		return err
	}
	if it == nil {
		return fmt.Errorf("%w: metadata key %q on %s", ErrNotFound, key, v.e.typ.name)
	}
	if err := v.e.s.Delete(it); err != nil {
		return err
	}
	s := v.e.s
	a := v.e.typ.byName[v.attr]
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := v.e.valueLocked(a).(*Collection); ok {
		c.items = slices.DeleteFunc(slices.Clone(c.items), func(x *Entity) bool { return x == it })
	}
	return nil
}

func (v *KeyValueView) createMetadata(key string, value any) error {
	s := v.e.s
	a := v.e.typ.byName[v.attr]
	item, err := s.Create(a.prop.ItemsRef, map[string]any{
		v.keyAttr:     key,
		v.valAttr:     value,
		"parent_id":   v.e.ID(),
		"parent_type": v.e.typ.name,
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []*Entity
	if c, ok := v.e.valueLocked(a).(*Collection); ok {
		items = slices.Clone(c.items)
	}
	return v.e.setLocked(a, &Collection{items: append(items, item)})
}

// customAttributeConfig is one CustomAttributeConfiguration row.
type customAttributeConfig struct {
	id, key, entityType, objectTypeID string
}

// newCustomAttributeValue makes the value item of key for a new entity,
// without recording a create: the server upserts custom attribute values.
func (s *Session) newCustomAttributeValue(ctx context.Context, e *Entity, attr, key string) (*Entity, error) {
	if e.State() != StateCreated {
		return nil, fmt.Errorf("%w: custom attribute %q on %s", ErrNotFound, key, e.typ.name)
	}
	cfgs, err := s.customAttributeConfigs(ctx)
	if err != nil {
		return nil, err
	}
	legacy := legacyEntityType(e)
	var objectTypeID string
	if legacy == "task" {
		if v, _ := e.GetContext(ctx, "object_type_id"); v != nil {
			objectTypeID, _ = v.(string)
		}
	}
	var cfg *customAttributeConfig
	for i := range cfgs {
		c := &cfgs[i]
		if c.key != key || c.entityType != legacy {
			continue
		}
		if legacy == "task" && c.objectTypeID != "" && c.objectTypeID != objectTypeID {
			continue
		}
		cfg = c
		break
	}
	if cfg == nil {
		return nil, fmt.Errorf("%w: custom attribute %q for %s", ErrNotFound, key, e.typ.name)
	}
	a := e.typ.byName[attr]
	t, ok := s.types[a.prop.ItemsRef]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEntityType, a.prop.ItemsRef)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	item := s.newEntity(t)
	for name, val := range map[string]any{"configuration_id": cfg.id, "entity_id": e.identityLocked().Key[0], "key": key} {
		if ia, ok := t.byName[name]; ok {
			item.remote[ia.idx] = val
		}
	}
	s.attachLocked(item)
	c, _ := e.valueLocked(a).(*Collection)
	if c == nil {
		c = &Collection{owner: e, attr: a}
		e.setLocalSlot(a, c)
	}
	c.items = append(c.items, item)
	return item, nil
}

// legacyEntityType maps an entity to the entity_type value of custom
// attribute configurations.
func legacyEntityType(e *Entity) string {
	switch n := e.typ.name; {
	case n == "Project":
		return "show"
	case n == "AssetVersion":
		return "assetversion"
	case n == "Asset":
		return "asset"
	case n == "User":
		return "user"
	case strings.HasSuffix(n, "List"):
		return "list"
	}
	return "task"
}

// customAttributeConfigs loads the configurations once per session.
func (s *Session) customAttributeConfigs(ctx context.Context) ([]customAttributeConfig, error) {
	s.mu.Lock()
	cached := s.caConfigs
	s.mu.Unlock()
	if cached != nil {
		return cached, nil
	}
	r, err := s.Query("select key, project_id, id, object_type_id, entity_type, is_hierarchical from CustomAttributeConfiguration")
	if err != nil {
		return nil, err
	}
	all, err := r.All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]customAttributeConfig, 0, len(all))
	for _, c := range all {
		vals := c.Values()
		str := func(k string) string { x, _ := vals[k].(string); return x }
		out = append(out, customAttributeConfig{id: c.ID(), key: str("key"), entityType: str("entity_type"), objectTypeID: str("object_type_id")})
	}
	s.mu.Lock()
	s.caConfigs = out
	s.mu.Unlock()
	return out, nil
}
