package ftracktest

import (
	"net/http"
	"slices"
	"strings"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
)

// updateEvent builds the one ftrack.update event of a committed batch.
// Changes of one entity are merged; keys and changes use legacy column names.
func (b *batch) updateEvent(h http.Header) event.Event {
	var order []*eventEntry
	byKey := map[string]*eventEntry{}
	parentIDs := []string{}
	addParent := func(id string) {
		if id != "" && !slices.Contains(parentIDs, id) {
			parentIDs = append(parentIDs, id)
		}
	}
	for _, c := range b.changes {
		r := c.rec
		k := r.typ.name + "\x00" + r.key + "\x00" + c.action
		if c.action == "update" || c.action == "move" {
			// An update after an add in the same batch stays an add.
			if e, ok := byKey[r.typ.name+"\x00"+r.key+"\x00add"]; ok {
				for _, attr := range c.keys {
					col := r.typ.column(attr)
					if !slices.Contains(e.keys, col) {
						e.keys = append(e.keys, col)
					}
					e.changes[col] = map[string]any{"old": nil, "new": encodeValue(c.new[attr])}
				}
				continue
			}
		}
		e, ok := byKey[k]
		if !ok {
			e = &eventEntry{m: map[string]any{
				"entity_type": r.typ.name,
				"entityType":  r.typ.legacy,
				"entityId":    entityID(r),
				"action":      c.action,
			}, changes: map[string]any{}}
			byKey[k] = e
			order = append(order, e)
		}
		switch c.action {
		case "add", "remove":
			for attr, v := range c.data {
				if _, ok := r.typ.prop(attr); !ok {
					continue
				}
				col := r.typ.column(attr)
				if !slices.Contains(e.keys, col) {
					e.keys = append(e.keys, col)
				}
				if c.action == "add" {
					e.changes[col] = map[string]any{"old": nil, "new": encodeValue(v)}
				} else {
					e.changes[col] = map[string]any{"old": encodeValue(v), "new": nil}
				}
			}
		default:
			for _, attr := range c.keys {
				col := r.typ.column(attr)
				if _, isProp := r.typ.prop(attr); !isProp {
					col = attr // custom attribute key
				}
				if !slices.Contains(e.keys, col) {
					e.keys = append(e.keys, col)
				}
				prev, seen := e.changes[col].(map[string]any)
				old := encodeValue(c.old[attr])
				if seen {
					old = prev["old"]
				}
				e.changes[col] = map[string]any{"old": old, "new": encodeValue(c.new[attr])}
			}
		}
		if ot, ok := c.data["object_type_id"].(string); ok && r.typ.is("TypedContext") {
			e.m["objectTypeId"] = ot
		}
		parent, _ := c.data["parent_id"].(string)
		if r.typ.is("Context") || parent != "" {
			if parent != "" {
				e.m["parentId"] = parent
			} else {
				e.m["parentId"] = nil
			}
		}
		chain := b.parentChain(r, c.data)
		e.m["parents"] = chain
		for _, p := range chain {
			addParent(p.(map[string]any)["entityId"].(string))
		}
	}
	entities := make([]any, 0, len(order))
	for _, e := range order {
		slices.Sort(e.keys)
		e.m["keys"] = e.keys
		e.m["changes"] = e.changes
		entities = append(entities, e.m)
	}
	userData := map[string]any{"userid": nil, "name": b.username}
	source := map[string]any{"applicationId": "ftrack.api", "user": map[string]any{"username": b.username, "id": nil}}
	if b.user != nil {
		first, _ := b.user.data["first_name"].(string)
		last, _ := b.user.data["last_name"].(string)
		userData = map[string]any{"userid": b.user.id(), "name": strings.TrimSpace(first + " " + last)}
		source["user"] = map[string]any{"username": b.username, "id": b.user.id()}
	}
	clientToken := h.Get("ftrack-Clienttoken")
	source["id"] = clientToken
	source["clientToken"] = clientToken
	if clientToken == "" {
		source["id"] = event.NewID()
	}
	ev := event.NewEvent("ftrack.update", map[string]any{
		"entities":    entities,
		"parents":     parentIDs,
		"user":        userData,
		"clientToken": clientToken,
		"pushToken":   h.Get("ftrack-pushtoken"),
	})
	ev.Source = source
	return ev
}

// eventEntry is one entities[] item of an ftrack.update event in the making.
type eventEntry struct {
	m       map[string]any
	keys    []string
	changes map[string]any
}

func entityID(r *record) string {
	if id := r.id(); id != "" {
		return id
	}
	return strings.ReplaceAll(r.key, "\x1f", ",")
}

// parentChain returns r and its context ancestors as event parents entries.
func (b *batch) parentChain(r *record, data map[string]any) []any {
	entry := func(x *record, d map[string]any) map[string]any {
		m := map[string]any{"entityId": entityID(x), "entityType": x.typ.legacy, "entity_type": x.typ.name, "parentId": nil}
		if p, ok := d["parent_id"].(string); ok && p != "" {
			m["parentId"] = p
		}
		return m
	}
	out := []any{entry(r, data)}
	seen := map[string]bool{entityID(r): true}
	pid, _ := data["parent_id"].(string)
	ctx := b.m.types["Context"]
	for i := 0; pid != "" && ctx != nil && i < 1000; i++ {
		p := b.st.find(ctx, pid)
		if p == nil || seen[p.id()] {
			break
		}
		seen[p.id()] = true
		out = append(out, entry(p, p.data))
		pid, _ = p.data["parent_id"].(string)
	}
	return out
}
