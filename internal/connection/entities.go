package connection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/plan"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Found is an entity found by a lookup or a query: its type and id, and its path when it
// was read with its link.
type Found struct {
	Type string
	ID   string
	Path string
}

// lookupTTL is how long a reference found by id is trusted without reading it again: many
// objects usually refer to the same few parents, statuses and types.
const lookupTTL = 30 * time.Second

// lookupCache remembers entities found by id, and the one entity each reference query
// matched: the objects of a show refer to the same few statuses, types and priorities by
// query. Concurrent reads of the same query share one operation.
type lookupCache struct {
	mu      sync.Mutex
	entries map[string]lookupEntry // "id\x00" base "\x00" id, or "query\x00" query
	flight  singleflight.Group
}

type lookupEntry struct {
	found   Found
	expires time.Time
}

// load returns the entity remembered under key when it was read less than lookupTTL ago.
func (c *lookupCache) load(key string) (Found, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || time.Now().After(e.expires) {
		return Found{}, false
	}
	return e.found, true
}

// store remembers f under key for lookupTTL.
func (c *lookupCache) store(key string, f Found) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 10000 {
		c.entries = map[string]lookupEntry{}
	}
	c.entries[key] = lookupEntry{found: f, expires: time.Now().Add(lookupTTL)}
}

func (c *lookupCache) get(base, id string) (Found, bool) {
	return c.load("id\x00" + base + "\x00" + id)
}
func (c *lookupCache) put(base string, f Found) { c.store("id\x00"+base+"\x00"+f.ID, f) }

// forget drops what is remembered of the entity with id, under any type.
func (c *lookupCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.found.ID == id {
			delete(c.entries, k)
		}
	}
}

// getQuery and putQuery remember the one entity query q matched.
func (c *lookupCache) getQuery(q string) (Found, bool) { return c.load("query\x00" + q) }
func (c *lookupCache) putQuery(q string, f Found)      { c.store("query\x00"+q, f) }

// configCache holds the custom attribute configurations of one connection for a while.
type configCache struct {
	mu      sync.Mutex
	loaded  time.Time
	configs []plan.CustomAttributeConfig
}

// invalidate drops the cached configurations: the next read asks ftrack.
func (c *configCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.configs = nil
}

// configTTL is how long custom attribute configurations are reused before being read again.
const configTTL = time.Minute

// Entities is the ftrack side of the entity reconciler for one connection: every request
// goes through the connection's CommitCoalescer, as typed operations of pkg/ftrack.
//
// Its promises:
//
//   - Observe returns nil and no error when no entity of want's type has want.ID, and
//     otherwise the values of the attributes, references, custom attributes and metadata
//     keys want names.
//   - Create makes the entity with want.ID, its metadata and custom attributes. It may be
//     called again after an ambiguous failure; the caller observes first, so a second
//     entity is never made.
//   - Update writes only the listed changes.
//   - Delete deletes the entity; an entity that is already gone counts as deleted.
//   - Lookup returns the entity of type base (or a subtype) with id, or nil.
//   - Query returns up to two entities matching an ftrack query.
//   - Find returns up to two ids of entities of a type whose attributes equal match.
//   - CustomAttributes returns the custom attribute configurations that apply to a type.
//   - Descendants returns the candidates that ftrack deletes with an entity.
//
// Errors are the ftrack client's typed errors.
type Entities struct {
	co *CommitCoalescer
	// marks, when set, carries the updates that only set the ownership mark.
	marks   *CommitCoalescer
	schemas *schema.Set
	configs *configCache
	lookups *lookupCache
}

// Projections are the attributes Observe and ObserveMany read for want.
func Projections(want *plan.Desired) []string {
	p := []string{"id"}
	if _, ok := want.Type.Schema().Property("name"); ok {
		p = append(p, "name")
	}
	if want.Type.HasLink() {
		// The path rides on the same read: no request of its own.
		p = append(p, "link")
	}
	for name := range want.Attrs {
		p = append(p, name)
	}
	for rel := range want.Refs {
		if fk := want.Type.ForeignKey(rel); fk != "" {
			p = append(p, fk)
		} else {
			p = append(p, rel+".id")
		}
	}
	if want.Type.HasMetadata() {
		p = append(p, "metadata.key", "metadata.value")
	}
	if len(want.Custom) > 0 {
		p = append(p, "custom_attributes.key", "custom_attributes.value")
	}
	slices.Sort(p)
	return slices.Compact(p)
}

// Observe reads what ftrack holds of the entity want describes; nil when it does not exist.
func (c *Entities) Observe(ctx context.Context, want *plan.Desired) (*plan.Observed, error) {
	e, err := c.co.Read(ctx, want.Type.Name(), Projections(want), want.ID)
	if err != nil || e == nil {
		return nil, err
	}
	return observedFrom(e, want), nil
}

// ObserveMany reads what ftrack holds of many entities at once, with a few queries: one per
// type and DefaultMaxReadIDs ids, sent as DefaultMaxInFlight requests side by side. It returns what it found by id;
// entities that do not exist are not in the map.
func (c *Entities) ObserveMany(ctx context.Context, wants []*plan.Desired) (map[string]*plan.Observed, error) {
	type group struct {
		proj  []string
		wants map[string]*plan.Desired
	}
	groups := map[string]*group{}
	for _, w := range wants {
		g := groups[w.Type.Name()]
		if g == nil {
			g = &group{wants: map[string]*plan.Desired{}}
			groups[w.Type.Name()] = g
		}
		g.proj = append(g.proj, Projections(w)...)
		g.wants[w.ID] = w
	}
	var ops []ftrack.Op
	var types []string
	for _, typ := range slices.Sorted(maps.Keys(groups)) {
		g := groups[typ]
		slices.Sort(g.proj)
		g.proj = slices.Compact(g.proj)
		for chunk := range slices.Chunk(slices.Sorted(maps.Keys(g.wants)), DefaultMaxReadIDs) {
			ops = append(ops, ftrack.QueryOp(fmt.Sprintf("select %s from %s where %s limit %d", strings.Join(g.proj, ", "), typ, ftrack.In("id", chunk), len(chunk))))
			types = append(types, typ)
		}
	}
	// The queries go as DefaultMaxInFlight batches (or more when they are many) sent side by
	// side: the server answers them in parallel.
	size := min(DefaultMaxBatchOperations, max(1, (len(ops)+DefaultMaxInFlight-1)/DefaultMaxInFlight))
	var (
		mu  sync.Mutex
		out = map[string]*plan.Observed{}
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(DefaultMaxInFlight)
	for start := 0; start < len(ops); start += size {
		end := min(start+size, len(ops))
		g.Go(func() error {
			res, err := c.co.Direct(gctx, ops[start:end]...)
			if err != nil {
				return err
			}
			found := map[string]*plan.Observed{}
			for i, r := range res {
				entities, err := ftrack.Entities(r)
				if err != nil {
					return err
				}
				for _, e := range entities {
					if w := groups[types[start+i]].wants[e.ID()]; w != nil {
						found[e.ID()] = observedFrom(e, w)
					}
				}
			}
			mu.Lock()
			maps.Copy(out, found)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// observedFrom returns what e holds of the attributes want names.
func observedFrom(e *ftrack.Entity, want *plan.Desired) *plan.Observed {
	values := e.Values()
	o := &plan.Observed{
		Type:     e.EntityType(),
		Attrs:    map[string]any{},
		Refs:     map[string]string{},
		Custom:   map[string]any{},
		Metadata: map[string]string{},
	}
	for name := range want.Attrs {
		if v, ok := values[name]; ok {
			o.Attrs[name] = v
		}
	}
	if n, ok := values["name"]; ok {
		o.Attrs["name"] = n
	}
	o.Path = LinkPath(values["link"])
	for rel := range want.Refs {
		if fk := want.Type.ForeignKey(rel); fk != "" {
			if v, ok := values[fk]; ok {
				s, _ := v.(string)
				o.Refs[rel] = s
			}
			continue
		}
		if v, ok := values[rel]; ok {
			if r, ok := v.(*ftrack.Entity); ok && r != nil {
				o.Refs[rel] = r.ID()
			} else {
				o.Refs[rel] = ""
			}
		}
	}
	for _, item := range CollectionItems(values["metadata"]) {
		iv := item.Values()
		k, _ := iv["key"].(string)
		v, _ := iv["value"].(string)
		o.Metadata[k] = v
	}
	for _, item := range CollectionItems(values["custom_attributes"]) {
		iv := item.Values()
		if k, ok := iv["key"].(string); ok {
			o.Custom[k] = iv["value"]
		}
	}
	return o
}

// LinkPath formats a link value as "project / sequence / shot / task"; "" when the value is
// not a link.
func LinkPath(v any) string {
	items, ok := v.([]any)
	if !ok || len(items) == 0 {
		return ""
	}
	names := make([]string, 0, len(items))
	for _, item := range items {
		var name any
		switch x := item.(type) {
		case map[string]any:
			name = x["name"]
		case *ftrack.Entity:
			name = x.Values()["name"]
		}
		n, ok := name.(string)
		if !ok {
			return ""
		}
		names = append(names, n)
	}
	return strings.Join(names, " / ")
}

// CollectionItems returns the entities of a collection value (a Collection, or a list as
// a batch answer holds it).
func CollectionItems(v any) []*ftrack.Entity {
	switch x := v.(type) {
	case *ftrack.Collection:
		if x == nil {
			return nil
		}
		return x.Entities()
	case []any:
		var out []*ftrack.Entity
		for _, e := range x {
			if en, ok := e.(*ftrack.Entity); ok {
				out = append(out, en)
			}
		}
		return out
	}
	return nil
}

// metadataOps are the operations that make the metadata of entity id equal to want.
func metadataOps(es plan.EntityType, id string, want, have map[string]string) []ftrack.Op {
	var ops []ftrack.Op
	for _, k := range slices.Sorted(maps.Keys(want)) {
		v := want[k]
		old, exists := have[k]
		switch {
		case !exists:
			ops = append(ops, ftrack.CreateOp("Metadata", map[string]any{"parent_id": id, "parent_type": es.Name(), "key": k, "value": v}))
		case old != v:
			ops = append(ops, ftrack.UpdateOp("Metadata", []string{id, k}, map[string]any{"value": v}))
		}
	}
	return ops
}

// customOp is the upsert of one custom attribute value.
func customOp(es plan.EntityType, id string, dc plan.Custom) ftrack.Op {
	return ftrack.UpdateOp(es.CustomAttributeType(), []string{dc.ConfigID, id}, map[string]any{"value": dc.Value})
}

// refData sets relation rel to r in data: through its foreign key when the type has one.
func refData(es plan.EntityType, data map[string]any, rel string, r plan.Ref) {
	if fk := es.ForeignKey(rel); fk != "" {
		data[fk] = r.ID
		return
	}
	data[rel] = ftrack.Ref{Type: r.Type, ID: r.ID}
}

// Create makes the entity want describes, with its metadata and custom attributes, in one
// batch.
func (c *Entities) Create(ctx context.Context, want *plan.Desired) error {
	data := map[string]any{"id": want.ID}
	for k, v := range want.Attrs {
		data[k] = v
	}
	for rel, r := range want.Refs {
		refData(want.Type, data, rel, r)
	}
	ops := []ftrack.Op{ftrack.CreateOp(want.Type.Name(), data)}
	ops = append(ops, metadataOps(want.Type, want.ID, want.Metadata, nil)...)
	for _, k := range slices.Sorted(maps.Keys(want.Custom)) {
		ops = append(ops, customOp(want.Type, want.ID, want.Custom[k]))
	}
	_, err := c.co.Do(ctx, ops...)
	return err
}

// Update writes changes to the entity want describes, in one batch.
func (c *Entities) Update(ctx context.Context, want *plan.Desired, changes []plan.Change) error {
	data := map[string]any{}
	meta := map[string]string{}
	metaHave := map[string]string{}
	var customs []ftrack.Op
	for _, ch := range changes {
		switch ch.Kind {
		case plan.ChangeAttribute:
			data[ch.Name] = want.Attrs[ch.Name]
		case plan.ChangeReference:
			refData(want.Type, data, ch.Name, want.Refs[ch.Name])
		case plan.ChangeMetadata:
			meta[ch.Name] = want.Metadata[ch.Name]
			if ch.HaveSet {
				metaHave[ch.Name], _ = ch.Have.(string)
			}
		case plan.ChangeCustomAttribute:
			customs = append(customs, customOp(want.Type, want.ID, want.Custom[ch.Name]))
		}
	}
	var ops []ftrack.Op
	if len(data) > 0 {
		ops = append(ops, ftrack.UpdateOp(want.Type.Name(), []string{want.ID}, data))
	}
	ops = append(ops, metadataOps(want.Type, want.ID, meta, metaHave)...)
	ops = append(ops, customs...)
	if len(ops) == 0 {
		return nil
	}
	co := c.co
	if c.marks != nil && plan.OnlyOwnershipMark(changes) {
		co = c.marks
	}
	_, err := co.Do(ctx, ops...)
	return err
}

// Delete deletes the entity of typ with id; an entity already gone counts as deleted.
func (c *Entities) Delete(ctx context.Context, typ, id string) error {
	_, err := c.co.Do(ctx, ftrack.DeleteOp(typ, id))
	if errors.Is(err, ftrack.ErrNotFound) {
		return nil
	}
	return err
}

// Lookup returns the entity of type base (or a subtype) with id, with its path when the
// type has a link; nil when there is none.
func (c *Entities) Lookup(ctx context.Context, base, id string) (*Found, error) {
	if f, ok := c.lookups.get(base, id); ok {
		return &f, nil
	}
	projections := []string{"id"}
	if s, ok := c.schemas.Get(base); ok {
		if _, link := s.Property("link"); link {
			// A parent's path comes with the lookup that resolves it.
			projections = append(projections, "link")
		}
	}
	e, err := c.co.Read(ctx, base, projections, id)
	if err != nil || e == nil {
		return nil, err
	}
	f := Found{Type: e.EntityType(), ID: e.ID(), Path: LinkPath(e.Values()["link"])}
	c.lookups.put(base, f)
	return &f, nil
}

// MissingReferences reads, past the lookup cache, whether the entities want's references
// resolved to still exist, and returns the relations whose entity does not (sorted). A
// reference resolved from a FtrackEntity's status or from the cache may name an entity
// deleted in ftrack since — a parent deleted there and not yet created again — and ftrack
// then refuses a create under it. Missing entities are dropped from the cache.
func (c *Entities) MissingReferences(ctx context.Context, want *plan.Desired) ([]string, error) {
	var missing []string
	for _, rel := range slices.Sorted(maps.Keys(want.Refs)) {
		ref := want.Refs[rel]
		if ref.ID == "" || ref.Type == "" {
			continue
		}
		e, err := c.co.Read(ctx, ref.Type, []string{"id"}, ref.ID)
		if err != nil {
			return nil, err
		}
		if e == nil {
			c.lookups.forget(ref.ID)
			missing = append(missing, rel)
		}
	}
	return missing, nil
}

// Query returns up to two entities that the query expr matches. expr may be a full
// `select … from …` query or only its `Type where …` part. A query that matched exactly one
// entity is answered from memory for lookupTTL (none or several may change sooner: they are
// read again), and concurrent calls with the same query share one read.
func (c *Entities) Query(ctx context.Context, expr string) ([]Found, error) {
	q := strings.TrimSpace(expr)
	if !strings.HasPrefix(strings.ToLower(q), "select ") {
		q = "select id from " + q
	}
	if !strings.Contains(strings.ToLower(q), " limit ") {
		q += " limit 2"
	}
	if f, ok := c.lookups.getQuery(q); ok {
		return []Found{f}, nil
	}
	v, err, _ := c.lookups.flight.Do(q, func() (any, error) {
		res, err := c.co.Do(ctx, ftrack.QueryOp(q))
		if err != nil {
			return nil, err
		}
		entities, err := ftrack.Entities(res[0])
		if err != nil {
			return nil, err
		}
		out := make([]Found, 0, len(entities))
		for _, e := range entities {
			out = append(out, Found{Type: e.EntityType(), ID: e.ID()})
		}
		if len(out) == 1 {
			c.lookups.putQuery(q, out[0])
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return slices.Clone(v.([]Found)), nil
}

// Find returns up to two ids of entities of es whose attributes equal match (values as
// text; booleans and numbers are compared as such).
func (c *Entities) Find(ctx context.Context, es plan.EntityType, match map[string]string) ([]string, error) {
	var terms []string
	for _, k := range slices.Sorted(maps.Keys(match)) {
		v := match[k]
		p, _ := es.Schema().Property(k)
		lit := ftrack.Quote(v)
		if p != nil && (p.Type == "boolean" || p.Type == "integer" || p.Type == "number") {
			lit = v
		}
		terms = append(terms, fmt.Sprintf("%s is %s", k, lit))
	}
	found, err := c.Query(ctx, fmt.Sprintf("select id from %s where %s limit 2", es.Name(), strings.Join(terms, " and ")))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(found))
	for i, f := range found {
		ids[i] = f.ID
	}
	return ids, nil
}

// CustomAttributes returns the custom attribute configurations that apply to es, by key,
// read again when refresh is set or the cached ones are older than configTTL.
func (c *Entities) CustomAttributes(ctx context.Context, es plan.EntityType, refresh bool) (map[string]plan.CustomAttributeConfig, error) {
	c.configs.mu.Lock()
	defer c.configs.mu.Unlock()
	if refresh || c.configs.configs == nil || time.Since(c.configs.loaded) > configTTL {
		res, err := c.co.Do(ctx, ftrack.QueryOp("select id, key, entity_type, object_type_id, is_hierarchical, type.name from CustomAttributeConfiguration"))
		if err != nil {
			return nil, err
		}
		entities, err := ftrack.Entities(res[0])
		if err != nil {
			return nil, err
		}
		configs := make([]plan.CustomAttributeConfig, 0, len(entities))
		for _, e := range entities {
			v := e.Values()
			cfg := plan.CustomAttributeConfig{ID: e.ID()}
			cfg.Key, _ = v["key"].(string)
			cfg.EntityType, _ = v["entity_type"].(string)
			cfg.ObjectTypeID, _ = v["object_type_id"].(string)
			cfg.IsHierarchical, _ = v["is_hierarchical"].(bool)
			if t, ok := v["type"].(*ftrack.Entity); ok && t != nil {
				cfg.TypeName, _ = t.Values()["name"].(string)
			}
			configs = append(configs, cfg)
		}
		c.configs.configs = configs
		c.configs.loaded = time.Now()
	}
	return plan.ApplicableConfigs(es, c.configs.configs), nil
}

// owningForeignKeys are the foreign keys through which an entity belongs to another, nearest
// owner first: ftrack deletes the entity with the one they point at.
var owningForeignKeys = []string{"parent_id", "context_id", "asset_id", "version_id", "container_id", "project_id"}

// descendantHops bounds how many owners up Descendants looks from a candidate that is not a
// context (a component → its version → its asset → its context).
const descendantHops = 4

// queryChunk is how many ids one `id in (…)` query names.
const queryChunk = 100

// Descendants implements *Entities: it returns the ids of candidates (id → entity type)
// that ftrack would delete with the entity id of type es, because their owning foreign keys
// lead to it.
func (c *Entities) Descendants(ctx context.Context, es plan.EntityType, id string, candidates map[string]string) ([]string, error) {
	found := map[string]bool{}
	// node → the candidates it stands for (itself, or the candidates it owns).
	type node struct {
		typ   string
		cands []string
	}
	frontier := map[string]*node{}
	for cid, typ := range candidates {
		if cid != id {
			frontier[cid] = &node{typ: typ, cands: []string{cid}}
		}
	}
	isContext := es.IsA("Context")
	set := es.Set()
	for hop := 0; hop <= descendantHops && len(frontier) > 0; hop++ {
		// Contexts below a context: ftrack's ancestors (or the project) say it at once.
		var contexts []string
		byType := map[string][]string{}
		for nid, n := range frontier {
			switch {
			case isContext && set.IsA(n.typ, "TypedContext"):
				contexts = append(contexts, nid)
				continue
			case !isContext && set.IsA(n.typ, "Context"):
				// A context never belongs to an entity that is not one.
				continue
			}
			byType[n.typ] = append(byType[n.typ], nid)
		}
		if len(contexts) > 0 {
			cond := fmt.Sprintf("ancestors any (id is %s)", ftrack.Quote(id))
			if es.Name() == "Project" {
				cond = fmt.Sprintf("project_id is %s", ftrack.Quote(id))
			}
			ids, err := c.idsWhere(ctx, "TypedContext", contexts, cond)
			if err != nil {
				return nil, err
			}
			for _, nid := range ids {
				for _, cid := range frontier[nid].cands {
					found[cid] = true
				}
			}
			for _, nid := range contexts {
				delete(frontier, nid)
			}
		}
		next := map[string]*node{}
		for _, typ := range slices.Sorted(maps.Keys(byType)) {
			s, ok := c.schemas.Get(typ)
			if !ok {
				continue
			}
			tes := plan.TypeOf(c.schemas, s)
			var fks []string
			for _, fk := range owningForeignKeys {
				if tes.RelationOfForeignKey(fk) != "" {
					fks = append(fks, fk)
				}
			}
			if len(fks) == 0 {
				continue
			}
			rows, err := c.readIDs(ctx, typ, byType[typ], fks)
			if err != nil {
				return nil, err
			}
			for nid, values := range rows {
				n := frontier[nid]
				up, upType := "", ""
				for _, fk := range fks {
					v := values[fk]
					if v == "" {
						continue
					}
					if v == id {
						for _, cid := range n.cands {
							found[cid] = true
						}
						up = ""
						break
					}
					if up == "" && fk != "project_id" {
						p, _ := s.Property(tes.RelationOfForeignKey(fk))
						up, upType = v, p.Ref
					}
				}
				if up == "" || found[n.cands[0]] {
					continue
				}
				if upType == "Context" {
					upType = "TypedContext"
				}
				m, ok := next[up]
				if !ok {
					m = &node{typ: upType}
					next[up] = m
				}
				m.cands = append(m.cands, n.cands...)
			}
		}
		frontier = next
	}
	out := make([]string, 0, len(found))
	for cid := range found {
		out = append(out, cid)
	}
	slices.Sort(out)
	return out, nil
}

// idsWhere returns the ids among ids of entities of typ that also meet cond.
func (c *Entities) idsWhere(ctx context.Context, typ string, ids []string, cond string) ([]string, error) {
	var out []string
	err := c.queryByIDs(ctx, ids, func(in string) string {
		return fmt.Sprintf("select id from %s where id in (%s) and (%s)", typ, in, cond)
	}, func(e *ftrack.Entity) { out = append(out, e.ID()) })
	return out, err
}

// readIDs reads the foreign keys fks of the entities of typ with ids: id → fk → value.
func (c *Entities) readIDs(ctx context.Context, typ string, ids []string, fks []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	err := c.queryByIDs(ctx, ids, func(in string) string {
		return fmt.Sprintf("select id, %s from %s where id in (%s)", strings.Join(fks, ", "), typ, in)
	}, func(e *ftrack.Entity) {
		v := e.Values()
		row := map[string]string{}
		for _, fk := range fks {
			row[fk], _ = v[fk].(string)
		}
		out[e.ID()] = row
	})
	return out, err
}

// queryByIDs runs the query expr(in) for ids, at most queryChunk of them in each `in`
// list, and hands each entity found to each.
func (c *Entities) queryByIDs(ctx context.Context, ids []string, expr func(in string) string, each func(*ftrack.Entity)) error {
	for chunk := range slices.Chunk(sortedUnique(ids), queryChunk) {
		res, err := c.co.Do(ctx, ftrack.QueryOp(expr(quoteList(chunk))))
		if err != nil {
			return err
		}
		entities, err := ftrack.Entities(res[0])
		if err != nil {
			return err
		}
		for _, e := range entities {
			each(e)
		}
	}
	return nil
}

func sortedUnique(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// quoteList renders ids as the list of an `in (…)` term.
func quoteList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = ftrack.Quote(id)
	}
	return strings.Join(q, ", ")
}

// ResolveReferences resolves the references by id and by query of refs into want.Refs (and
// want.ParentPath for the parent); references by name are the caller's. A reference that
// matches nothing, or a query that matches several entities, is a *plan.Wait; a query ftrack
// cannot run, or an entity of the wrong type, is a *plan.SpecError.
func (c *Entities) ResolveReferences(ctx context.Context, want *plan.Desired, refs map[string]v1alpha1.EntityReference) error {
	for _, rel := range slices.Sorted(maps.Keys(refs)) {
		ref := refs[rel]
		p, _ := want.Type.Schema().Property(rel)
		switch {
		case ref.ID != "":
			found, err := c.Lookup(ctx, p.Ref, ref.ID)
			if err != nil {
				return err
			}
			if found == nil {
				return &plan.Wait{Reason: v1alpha1.ReasonReferenceNotFound, Message: fmt.Sprintf("references.%s: no %s has id %q", rel, p.Ref, ref.ID)}
			}
			want.Refs[rel] = plan.Ref{ID: found.ID, Type: found.Type, Path: found.Path}
			if rel == "parent" {
				want.ParentPath = found.Path
			}
		case ref.Query != "":
			found, err := c.Query(ctx, ref.Query)
			if err != nil {
				if ftrack.IsRefused(err) {
					return plan.Errorf(v1alpha1.ReasonInvalidReference, "references.%s: the query %q is not valid: %s", rel, ref.Query, err.Error())
				}
				return err
			}
			switch len(found) {
			case 0:
				return &plan.Wait{Reason: v1alpha1.ReasonReferenceNotFound, Message: fmt.Sprintf("references.%s: the query %q matched nothing", rel, ref.Query)}
			case 1:
			default:
				return &plan.Wait{Reason: v1alpha1.ReasonReferenceAmbiguous, Message: fmt.Sprintf("references.%s: the query %q matched more than one entity; it must match exactly one", rel, ref.Query)}
			}
			if err := want.Type.CheckReferenceType(rel, found[0].Type, fmt.Sprintf("the query %q", ref.Query)); err != nil {
				return err
			}
			want.Refs[rel] = plan.Ref{ID: found[0].ID, Type: found[0].Type}
		}
	}
	return nil
}

// ResolveCustomAttributes checks the spec's custom attribute values against the
// configurations that apply to want's type (see plan.ResolveCustomAttributes) and sets
// want.Custom. The configurations are read again once when a key is missing (it may be
// new); declared, called only then, lists the keys FtrackEntity objects of the connection
// declare.
func (c *Entities) ResolveCustomAttributes(ctx context.Context, want *plan.Desired, values map[string]apiextensionsv1.JSON, declared func() (map[string]string, error)) error {
	if len(values) == 0 {
		return nil
	}
	configs, err := c.CustomAttributes(ctx, want.Type, false)
	if err != nil {
		return err
	}
	missing := func() bool {
		for key := range values {
			if _, ok := configs[key]; !ok {
				return true
			}
		}
		return false
	}
	var keys map[string]string
	if missing() {
		if configs, err = c.CustomAttributes(ctx, want.Type, true); err != nil {
			return err
		}
		if missing() {
			if keys, err = declared(); err != nil {
				return err
			}
		}
	}
	return plan.ResolveCustomAttributes(want, values, configs, keys)
}

// DeclaredConfigurations returns the keys of the custom attribute configurations that
// FtrackEntity objects of the connection ref (named from namespace) declare, with the name
// of one object each (namespace/name for a cluster connection).
func DeclaredConfigurations(ctx context.Context, r client.Reader, namespace string, ref v1alpha1.ConnectionReference) (map[string]string, error) {
	key := KeyFor(namespace, ref)
	var opts []client.ListOption
	if key.Namespace != "" {
		opts = append(opts, client.InNamespace(key.Namespace))
	}
	var list v1alpha1.FtrackEntityList
	if err := r.List(ctx, &list, opts...); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i := range list.Items {
		e := &list.Items[i]
		if e.Spec.EntityType != plan.CustomAttributeConfigurationType || KeyFor(e.Namespace, e.Spec.ConnectionRef) != key {
			continue
		}
		raw, ok := e.Spec.Attributes["key"]
		var k string
		if !ok || json.Unmarshal(raw.Raw, &k) != nil || k == "" {
			continue
		}
		if _, dup := out[k]; !dup {
			out[k] = e.Namespace + "/" + e.Name
			if key.Namespace != "" {
				out[k] = e.Name
			}
		}
	}
	return out, nil
}

// Names returns the display names (name, or the first of username and key the type has) of
// the entities of typ with ids, by id.
func (c *Entities) Names(ctx context.Context, typ string, ids []string) (map[string]string, error) {
	s, ok := c.schemas.Get(typ)
	if !ok {
		return nil, nil
	}
	attr := ""
	for _, a := range []string{"name", "username", "key", "label"} {
		if _, ok := s.Property(a); ok {
			attr = a
			break
		}
	}
	if attr == "" {
		return nil, nil
	}
	out := map[string]string{}
	err := c.queryByIDs(ctx, ids, func(in string) string {
		return fmt.Sprintf("select id, %s from %s where id in (%s)", attr, typ, in)
	}, func(e *ftrack.Entity) {
		out[e.ID()], _ = e.Values()[attr].(string)
	})
	return out, err
}

// CountDescendants returns how many entities of each type ftrack deletes with the context id
// (its TypedContext descendants), at most a thousand counted.
func (c *Entities) CountDescendants(ctx context.Context, es plan.EntityType, id string) (map[string]int, error) {
	if !es.IsA("Context") {
		return nil, nil
	}
	cond := fmt.Sprintf("ancestors any (id is %s)", ftrack.Quote(id))
	if es.Name() == "Project" {
		cond = fmt.Sprintf("project_id is %s", ftrack.Quote(id))
	}
	res, err := c.co.Do(ctx, ftrack.QueryOp(fmt.Sprintf("select id from TypedContext where %s limit 1000", cond)))
	if err != nil {
		return nil, err
	}
	entities, err := ftrack.Entities(res[0])
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, e := range entities {
		out[e.EntityType()]++
	}
	return out, nil
}
