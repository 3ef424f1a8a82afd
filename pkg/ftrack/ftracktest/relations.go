package ftracktest

import (
	"fmt"
	"strings"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/internal/querylang"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// resolveRef returns the record a scalar reference of r points at.
func (b *batch) resolveRef(r *record, attr string) *record {
	p, ok := r.typ.prop(attr)
	if !ok {
		return nil
	}
	fk, ok := r.typ.refFK[attr]
	if !ok {
		return nil
	}
	key, ok := r.data[fk].(string)
	if !ok || key == "" {
		return nil
	}
	target, ok := b.m.types[p.Ref]
	if !ok {
		return nil
	}
	return b.st.find(target, key)
}

// collection returns the items of a collection or mapped attribute of r.
func (b *batch) collection(r *record, attr string) []*record {
	p, ok := r.typ.prop(attr)
	if !ok {
		return nil
	}
	item, ok := b.m.types[p.ItemsRef]
	if !ok {
		return nil
	}
	id := r.id()
	if p.Kind() == schema.KindMapped {
		if item.name == "Metadata" {
			return b.st.byIndex(item, "parent_id", id)
		}
		return b.customAttributeValues(r, item)
	}
	switch attr {
	case "ancestors":
		return b.ancestors(r)
	case "descendants":
		return b.descendants(r)
	}
	if fk, ok := r.typ.inverse[attr]; ok {
		return b.st.byIndex(item, fk, id)
	}
	if l, ok := linkFor(r.typ, attr); ok {
		lt, ok := b.m.types[l.link]
		if !ok {
			return nil
		}
		links := b.st.byIndex(lt, l.ownerFK, id)
		if l.itemFK == "" {
			return links
		}
		var out []*record
		for _, lr := range links {
			if key, ok := lr.data[l.itemFK].(string); ok {
				if ir := b.st.find(item, key); ir != nil {
					out = append(out, ir)
				}
			}
		}
		return out
	}
	if keys, ok := r.data[storedCollection(attr)].([]string); ok {
		out := make([]*record, 0, len(keys))
		for _, k := range keys {
			if ir := b.st.find(item, k); ir != nil {
				out = append(out, ir)
			}
		}
		return out
	}
	return nil
}

// parentOf returns the context parent of a context record.
func (b *batch) parentOf(r *record) *record {
	key, ok := r.data["parent_id"].(string)
	if !ok || key == "" {
		return nil
	}
	ctx, ok := b.m.types["Context"]
	if !ok {
		return nil
	}
	return b.st.find(ctx, key)
}

// ancestors returns the TypedContext ancestors of r, nearest first.
func (b *batch) ancestors(r *record) []*record {
	var out []*record
	seen := map[*record]bool{r: true}
	for p := b.parentOf(r); p != nil && !seen[p]; p = b.parentOf(p) {
		seen[p] = true
		if p.typ.is("TypedContext") {
			out = append(out, p)
		}
	}
	return out
}

// descendants returns the TypedContext descendants of r, breadth first.
func (b *batch) descendants(r *record) []*record {
	var out []*record
	queue := []string{r.id()}
	seen := map[string]bool{r.id(): true}
	for len(queue) > 0 && len(out) < maxDescendants {
		id := queue[0]
		queue = queue[1:]
		for _, c := range b.st.byIndex(nil, "parent_id", id) {
			if !c.typ.is("TypedContext") || seen[c.id()] {
				continue
			}
			seen[c.id()] = true
			out = append(out, c)
			queue = append(queue, c.id())
		}
	}
	return out
}

// scalar returns a scalar attribute of r, computing the attributes the
// server computes.
func (b *batch) scalar(r *record, attr string) any {
	if attr == "link" {
		switch {
		case r.typ.is("Context"):
			return b.link(r)
		case r.typ.is("AssetVersion"):
			return b.versionLink(r)
		case r.typ.is("Group"):
			return b.groupLink(r)
		}
	}
	return r.data[attr]
}

// versionLink is the link of an asset version: its asset's context from the project down,
// the asset, then the version (named v and its number; ftrack's exact name of that last
// entry is not recorded in the reference answers).
func (b *batch) versionLink(r *record) []any {
	var chain []any
	asset := b.resolveRef(r, "asset")
	if asset != nil {
		if ctx := b.resolveRef(asset, "parent"); ctx != nil {
			chain = b.link(ctx)
		}
		chain = append(chain, map[string]any{"id": asset.id(), "name": asset.data["name"], "type": asset.typ.name})
	}
	return append(chain, map[string]any{"id": r.id(), "name": fmt.Sprintf("v%v", encodeValue(r.data["version"])), "type": r.typ.name})
}

// groupLink is the link of a group: its ancestor groups from the top down, then itself.
func (b *batch) groupLink(r *record) []any {
	var chain []any
	seen := map[*record]bool{}
	for g := r; g != nil && !seen[g]; g = b.resolveRef(g, "parent") {
		seen[g] = true
		chain = append([]any{map[string]any{"id": g.id(), "name": g.data["name"], "type": g.typ.name}}, chain...)
	}
	return chain
}

// link returns the ordered list of {id, name, type} from the project to r.
func (b *batch) link(r *record) []any {
	var chain []any
	seen := map[*record]bool{}
	for c := r; c != nil && !seen[c]; c = b.parentOf(c) {
		seen[c] = true
		chain = append(chain, map[string]any{"id": c.id(), "name": c.data["name"], "type": c.typ.name})
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain
}

// projectID returns the project a context record belongs to.
func projectID(r *record) string {
	if r.typ.is("Project") {
		return r.id()
	}
	s, _ := r.data["project_id"].(string)
	return s
}

// configurationApplies reports whether a CustomAttributeConfiguration
// applies to entity r.
func configurationApplies(cfg, r *record) bool {
	if pid, _ := cfg.data["project_id"].(string); pid != "" && pid != projectID(r) {
		return false
	}
	et, _ := cfg.data["entity_type"].(string)
	if hier, _ := cfg.data["is_hierarchical"].(bool); hier && r.typ.is("Context") {
		return true
	}
	if !strings.EqualFold(et, r.typ.legacy) {
		return false
	}
	if ot, _ := cfg.data["object_type_id"].(string); ot != "" && r.typ.legacy == "task" {
		return ot == r.data["object_type_id"]
	}
	return true
}

// customAttributeValues returns the dense custom attribute values of r: one
// item per applicable configuration, stored value or configuration default.
func (b *batch) customAttributeValues(r *record, item *entityType) []*record {
	cfgType, ok := b.m.types["CustomAttributeConfiguration"]
	if !ok {
		return nil
	}
	var out []*record
	for _, cfg := range b.st.all(cfgType) {
		if !configurationApplies(cfg, r) {
			continue
		}
		data := map[string]any{"configuration_id": cfg.id(), "entity_id": r.id(), "key": cfg.data["key"], "value": cfg.data["default"]}
		key := recordKey(item, data)
		if stored := b.st.lookup(item, key); stored != nil {
			out = append(out, stored)
			continue
		}
		out = append(out, &record{typ: item, key: key, data: data})
	}
	return out
}

// base returns the always-present part of an encoded entity: the type,
// primary key and system attributes.
func (b *batch) base(r *record) map[string]any {
	out := map[string]any{"__entity_type__": r.typ.name}
	for _, k := range r.typ.s.PrimaryKey {
		out[k] = encodeValue(r.data[k])
	}
	for _, k := range r.typ.system {
		out[k] = encodeValue(r.data[k])
	}
	return out
}

// project encodes r with the projected paths, denormalised.
func (b *batch) project(r *record, paths []querylang.Path) map[string]any {
	out := b.base(r)
	for _, p := range paths {
		b.projectPath(out, r, p)
	}
	return out
}

func (b *batch) projectPath(out map[string]any, r *record, path querylang.Path) {
	attr := path[0]
	p, ok := r.typ.prop(attr)
	if !ok {
		return
	}
	switch p.Kind() {
	case schema.KindReference:
		target := b.resolveRef(r, attr)
		if target == nil {
			out[attr] = nil
			return
		}
		sub, ok := out[attr].(map[string]any)
		if !ok {
			sub = b.base(target)
		}
		if len(path) > 1 {
			b.projectPath(sub, target, path[1:])
		}
		out[attr] = sub
	case schema.KindCollection, schema.KindMapped:
		items := b.collection(r, attr)
		list, ok := out[attr].([]any)
		if !ok || len(list) != len(items) {
			list = make([]any, len(items))
			for i, it := range items {
				list[i] = b.base(it)
			}
		}
		if len(path) > 1 {
			for i, it := range items {
				b.projectPath(list[i].(map[string]any), it, path[1:])
			}
		} else if p.Kind() == schema.KindMapped {
			for i, it := range items {
				m := list[i].(map[string]any)
				for k, v := range it.data {
					m[k] = encodeValue(v)
				}
			}
		}
		out[attr] = list
	default:
		if len(path) == 1 {
			out[attr] = encodeValue(b.scalar(r, attr))
		}
	}
}

// encodeFull encodes every scalar attribute of r, as create and update answer.
func (b *batch) encodeFull(r *record) map[string]any {
	out := b.base(r)
	for k, v := range r.data {
		if _, ok := r.typ.prop(k); ok {
			out[k] = encodeValue(v)
		}
	}
	return out
}
