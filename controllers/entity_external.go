package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// desiredEntity is an FtrackEntity's spec checked against the schema, with its references
// resolved: what ftrack should hold.
type desiredEntity struct {
	es    entitySchema
	id    string
	attrs map[string]any
	refs  map[string]resolvedRef
	// parentPath is the path of the parent (see entityPath), "" when unknown.
	parentPath string
	// custom are custom attribute values by key, with their configuration.
	custom map[string]desiredCustom
	// metadata includes the operator's managed-by marker when the operator owns the entity.
	metadata map[string]string
}

// resolvedRef is a reference resolved to an entity.
type resolvedRef struct {
	id  string
	typ string
	// path is the entity's path in ftrack when it was read with its link.
	path string
}

// desiredCustom is one custom attribute value and the configuration it belongs to.
type desiredCustom struct {
	configID string
	value    any
}

// observedEntity is what ftrack holds for the attributes the spec names.
type observedEntity struct {
	typ      string
	attrs    map[string]any
	refs     map[string]string
	custom   map[string]any
	metadata map[string]string
	// path is project / … / name from the entity's link, "" for types without one.
	path string
}

// foundEntity is an entity found by a query: its type and id, and its path when it was
// read with its link.
type foundEntity struct {
	typ  string
	id   string
	path string
}

// entityClient is what the entity reconciler needs from ftrack. Implementations must keep
// these promises:
//
//   - Observe returns nil and no error when no entity of want's type has want.id, and
//     otherwise the values of the attributes, references, custom attributes and metadata
//     keys want names.
//   - Create makes the entity with want.id, its metadata and custom attributes. It may be
//     called again after an ambiguous failure; the caller observes first, so a second
//     entity is never made.
//   - Update changes only the listed changes.
//   - Delete deletes the entity; an entity that is already gone counts as deleted.
//   - Lookup returns the entity of type base (or a subtype) with id, or nil.
//   - Query returns up to two entities matching an ftrack query.
//   - Find returns up to two ids of entities of typ whose attributes equal match.
//   - CustomAttributes returns the custom attribute configurations that apply to es.
//   - Descendants returns the candidates (id → type) that ftrack deletes with entity id.
//
// Errors are the ftrack client's typed errors.
type entityClient interface {
	Observe(ctx context.Context, want *desiredEntity) (*observedEntity, error)
	Create(ctx context.Context, want *desiredEntity) error
	Update(ctx context.Context, want *desiredEntity, changes []change) error
	Delete(ctx context.Context, typ, id string) error
	Lookup(ctx context.Context, base, id string) (*foundEntity, error)
	Query(ctx context.Context, expr string) ([]foundEntity, error)
	Find(ctx context.Context, es entitySchema, match map[string]string) ([]string, error)
	CustomAttributes(ctx context.Context, es entitySchema, refresh bool) (map[string]customAttributeConfig, error)
	Descendants(ctx context.Context, es entitySchema, id string, candidates map[string]string) ([]string, error)
}

// customAttributeConfig is one CustomAttributeConfiguration.
type customAttributeConfig struct {
	id             string
	key            string
	entityType     string
	objectTypeID   string
	typeName       string
	isHierarchical bool
}

// coalescerKey, configCacheKey and lookupCacheKey are the keys of the per-connection values.
type (
	coalescerKey   struct{}
	configCacheKey struct{}
	lookupCacheKey struct{}
)

// lookupTTL is how long a reference found by id is trusted without reading it again: many
// objects usually refer to the same few parents, statuses and types.
const lookupTTL = 30 * time.Second

// lookupCache remembers entities found by id.
type lookupCache struct {
	mu      sync.Mutex
	entries map[string]lookupEntry
}

type lookupEntry struct {
	found   foundEntity
	expires time.Time
}

func (c *lookupCache) get(base, id string) (foundEntity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[base+"\x00"+id]
	if !ok || time.Now().After(e.expires) {
		return foundEntity{}, false
	}
	return e.found, true
}

func (c *lookupCache) put(base string, f foundEntity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 10000 {
		c.entries = map[string]lookupEntry{}
	}
	c.entries[base+"\x00"+f.id] = lookupEntry{found: f, expires: time.Now().Add(lookupTTL)}
}

// configCache holds the custom attribute configurations of one connection for a while.
type configCache struct {
	mu      sync.Mutex
	loaded  time.Time
	configs []customAttributeConfig
}

// invalidate drops the cached configurations: the next read asks ftrack.
func (c *configCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.configs = nil
}

// connectionConfigCache returns the custom attribute configuration cache of a connection.
func connectionConfigCache(c *Connection) *configCache {
	return c.LoadOrStore(configCacheKey{}, func() any { return &configCache{} }).(*configCache)
}

// configTTL is how long custom attribute configurations are reused before being read again.
const configTTL = time.Minute

// ftrackEntityClient is the entityClient of one pooled connection: all its requests go
// through the connection's CommitCoalescer.
type ftrackEntityClient struct {
	co      *CommitCoalescer
	schemas *schema.Set
	configs *configCache
	lookups *lookupCache
}

// connectionCoalescer returns the connection's CommitCoalescer, making it on first use. The
// coalescer watches the connection's request budget; opts apply after the defaults (they
// only count when the coalescer is made).
func connectionCoalescer(c *Connection, opts ...CoalescerOption) *CommitCoalescer {
	label := c.Key().String()
	return c.LoadOrStore(coalescerKey{}, func() any {
		all := []CoalescerOption{
			WithLimiter(c.Limiter()),
			WithBatchObserver(func(n int) {
				batchOperations.WithLabelValues(label).Observe(float64(n))
			}),
		}
		return NewCommitCoalescer(c.Session().Call, append(all, opts...)...)
	}).(*CommitCoalescer)
}

// newFtrackEntityClient returns the entityClient of a pooled connection; opts configure the
// connection's coalescer when this call makes it.
func newFtrackEntityClient(c *Connection, opts ...CoalescerOption) entityClient {
	cache := connectionConfigCache(c)
	lookups := c.LoadOrStore(lookupCacheKey{}, func() any { return &lookupCache{} }).(*lookupCache)
	return &ftrackEntityClient{co: connectionCoalescer(c, opts...), schemas: c.Schemas(), configs: cache, lookups: lookups}
}

// projections are the attributes Observe reads for want.
func projections(want *desiredEntity) []string {
	p := []string{"id"}
	if _, ok := want.es.s.Property("name"); ok {
		p = append(p, "name")
	}
	if hasLink(want.es.s) {
		// The path rides on the same read: no request of its own.
		p = append(p, "link")
	}
	for name := range want.attrs {
		p = append(p, name)
	}
	for rel := range want.refs {
		if fk := want.es.foreignKey(rel); fk != "" {
			p = append(p, fk)
		} else {
			p = append(p, rel+".id")
		}
	}
	if want.es.hasMetadata() {
		p = append(p, "metadata.key", "metadata.value")
	}
	if len(want.custom) > 0 {
		p = append(p, "custom_attributes.key", "custom_attributes.value")
	}
	slices.Sort(p)
	return slices.Compact(p)
}

// Observe implements entityClient.
func (c *ftrackEntityClient) Observe(ctx context.Context, want *desiredEntity) (*observedEntity, error) {
	e, err := c.co.Read(ctx, want.es.s.ID, projections(want), want.id)
	if err != nil || e == nil {
		return nil, err
	}
	values := e.Values()
	o := &observedEntity{
		typ:      e.EntityType(),
		attrs:    map[string]any{},
		refs:     map[string]string{},
		custom:   map[string]any{},
		metadata: map[string]string{},
	}
	for name := range want.attrs {
		if v, ok := values[name]; ok {
			o.attrs[name] = v
		}
	}
	if n, ok := values["name"]; ok {
		o.attrs["name"] = n
	}
	o.path = linkPath(values["link"])
	for rel := range want.refs {
		if fk := want.es.foreignKey(rel); fk != "" {
			if v, ok := values[fk]; ok {
				s, _ := v.(string)
				o.refs[rel] = s
			}
			continue
		}
		if v, ok := values[rel]; ok {
			if r, ok := v.(*ftrack.Entity); ok && r != nil {
				o.refs[rel] = r.ID()
			} else {
				o.refs[rel] = ""
			}
		}
	}
	for _, item := range collectionItems(values["metadata"]) {
		iv := item.Values()
		k, _ := iv["key"].(string)
		v, _ := iv["value"].(string)
		o.metadata[k] = v
	}
	for _, item := range collectionItems(values["custom_attributes"]) {
		iv := item.Values()
		if k, ok := iv["key"].(string); ok {
			o.custom[k] = iv["value"]
		}
	}
	return o, nil
}

// hasLink reports whether entities of s have ftrack's link: the list of {id, name, type}
// from the project down to the entity.
func hasLink(s *schema.Schema) bool {
	_, ok := s.Property("link")
	return ok
}

// linkPath formats a link value as "project / sequence / shot / task"; "" when the value is
// not a link.
func linkPath(v any) string {
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

// collectionItems returns the entities of a collection value.
func collectionItems(v any) []*ftrack.Entity {
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
func metadataOps(es entitySchema, id string, want map[string]string, have map[string]string) []map[string]any {
	var ops []map[string]any
	for _, k := range sortedKeys(want) {
		v := want[k]
		old, exists := have[k]
		switch {
		case !exists:
			ops = append(ops, map[string]any{
				"action": "create", "entity_type": "Metadata",
				"entity_data": map[string]any{"__entity_type__": "Metadata", "parent_id": id, "parent_type": es.s.ID, "key": k, "value": v},
			})
		case old != v:
			ops = append(ops, map[string]any{
				"action": "update", "entity_type": "Metadata", "entity_key": []any{id, k},
				"entity_data": map[string]any{"__entity_type__": "Metadata", "value": v},
			})
		}
	}
	return ops
}

// customOp is the upsert of one custom attribute value.
func customOp(es entitySchema, id string, dc desiredCustom) map[string]any {
	typ := es.customAttributeType()
	return map[string]any{
		"action": "update", "entity_type": typ, "entity_key": []any{dc.configID, id},
		"entity_data": map[string]any{"__entity_type__": typ, "value": dc.value},
	}
}

// refData sets relation rel to r in data: through its foreign key when the type has one.
func refData(es entitySchema, data map[string]any, rel string, r resolvedRef) {
	if fk := es.foreignKey(rel); fk != "" {
		data[fk] = r.id
		return
	}
	data[rel] = map[string]any{"__entity_type__": r.typ, "id": r.id}
}

// Create implements entityClient.
func (c *ftrackEntityClient) Create(ctx context.Context, want *desiredEntity) error {
	data := map[string]any{"__entity_type__": want.es.s.ID, "id": want.id}
	for k, v := range want.attrs {
		data[k] = v
	}
	for rel, r := range want.refs {
		refData(want.es, data, rel, r)
	}
	ops := []map[string]any{{"action": "create", "entity_type": want.es.s.ID, "entity_key": []any{want.id}, "entity_data": data}}
	ops = append(ops, metadataOps(want.es, want.id, want.metadata, nil)...)
	for _, k := range sortedKeys(want.custom) {
		ops = append(ops, customOp(want.es, want.id, want.custom[k]))
	}
	_, err := c.co.Do(ctx, ops...)
	return err
}

// Update implements entityClient.
func (c *ftrackEntityClient) Update(ctx context.Context, want *desiredEntity, changes []change) error {
	data := map[string]any{"__entity_type__": want.es.s.ID}
	meta := map[string]string{}
	metaHave := map[string]string{}
	var customs []map[string]any
	for _, ch := range changes {
		switch ch.kind {
		case changeAttribute:
			data[ch.name] = want.attrs[ch.name]
		case changeReference:
			refData(want.es, data, ch.name, want.refs[ch.name])
		case changeMetadata:
			meta[ch.name] = want.metadata[ch.name]
			if ch.haveSet {
				metaHave[ch.name], _ = ch.have.(string)
			}
		case changeCustomAttribute:
			customs = append(customs, customOp(want.es, want.id, want.custom[ch.name]))
		}
	}
	var ops []map[string]any
	if len(data) > 1 {
		ops = append(ops, map[string]any{"action": "update", "entity_type": want.es.s.ID, "entity_key": []any{want.id}, "entity_data": data})
	}
	ops = append(ops, metadataOps(want.es, want.id, meta, metaHave)...)
	ops = append(ops, customs...)
	if len(ops) == 0 {
		return nil
	}
	_, err := c.co.Do(ctx, ops...)
	return err
}

// Delete implements entityClient.
func (c *ftrackEntityClient) Delete(ctx context.Context, typ, id string) error {
	_, err := c.co.Do(ctx, map[string]any{"action": "delete", "entity_type": typ, "entity_key": []any{id}})
	if errors.Is(err, ftrack.ErrNotFound) {
		return nil
	}
	return err
}

// Lookup implements entityClient.
func (c *ftrackEntityClient) Lookup(ctx context.Context, base, id string) (*foundEntity, error) {
	if f, ok := c.lookups.get(base, id); ok {
		return &f, nil
	}
	projections := []string{"id"}
	if s, ok := c.schemas.Get(base); ok && hasLink(s) {
		// A parent's path comes with the lookup that resolves it.
		projections = append(projections, "link")
	}
	e, err := c.co.Read(ctx, base, projections, id)
	if err != nil || e == nil {
		return nil, err
	}
	f := foundEntity{typ: e.EntityType(), id: e.ID(), path: linkPath(e.Values()["link"])}
	c.lookups.put(base, f)
	return &f, nil
}

// Query implements entityClient.
func (c *ftrackEntityClient) Query(ctx context.Context, expr string) ([]foundEntity, error) {
	q := strings.TrimSpace(expr)
	if !strings.HasPrefix(strings.ToLower(q), "select ") {
		q = "select id from " + q
	}
	if !strings.Contains(strings.ToLower(q), " limit ") {
		q += " limit 2"
	}
	res, err := c.co.Do(ctx, map[string]any{"action": "query", "expression": q})
	if err != nil {
		return nil, err
	}
	entities, err := queryEntities(res[0])
	if err != nil {
		return nil, err
	}
	out := make([]foundEntity, 0, len(entities))
	for _, e := range entities {
		out = append(out, foundEntity{typ: e.EntityType(), id: e.ID()})
	}
	return out, nil
}

// Find implements entityClient.
func (c *ftrackEntityClient) Find(ctx context.Context, es entitySchema, match map[string]string) ([]string, error) {
	var terms []string
	for _, k := range sortedKeys(match) {
		v := match[k]
		p, _ := es.s.Property(k)
		lit := strconv.Quote(v)
		if p != nil && (p.Type == "boolean" || p.Type == "integer" || p.Type == "number") {
			lit = v
		}
		terms = append(terms, fmt.Sprintf("%s is %s", k, lit))
	}
	found, err := c.Query(ctx, fmt.Sprintf("select id from %s where %s limit 2", es.s.ID, strings.Join(terms, " and ")))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(found))
	for i, f := range found {
		ids[i] = f.id
	}
	return ids, nil
}

// CustomAttributes implements entityClient.
func (c *ftrackEntityClient) CustomAttributes(ctx context.Context, es entitySchema, refresh bool) (map[string]customAttributeConfig, error) {
	c.configs.mu.Lock()
	defer c.configs.mu.Unlock()
	if refresh || c.configs.configs == nil || time.Since(c.configs.loaded) > configTTL {
		res, err := c.co.Do(ctx, map[string]any{"action": "query", "expression": "select id, key, entity_type, object_type_id, is_hierarchical, type.name from CustomAttributeConfiguration"})
		if err != nil {
			return nil, err
		}
		entities, err := queryEntities(res[0])
		if err != nil {
			return nil, err
		}
		configs := make([]customAttributeConfig, 0, len(entities))
		for _, e := range entities {
			v := e.Values()
			cfg := customAttributeConfig{id: e.ID()}
			cfg.key, _ = v["key"].(string)
			cfg.entityType, _ = v["entity_type"].(string)
			cfg.objectTypeID, _ = v["object_type_id"].(string)
			cfg.isHierarchical, _ = v["is_hierarchical"].(bool)
			if t, ok := v["type"].(*ftrack.Entity); ok && t != nil {
				cfg.typeName, _ = t.Values()["name"].(string)
			}
			configs = append(configs, cfg)
		}
		c.configs.configs = configs
		c.configs.loaded = time.Now()
	}
	return applicableConfigs(es, c.configs.configs), nil
}

// applicableConfigs returns the configurations that apply to entities of es, by key.
func applicableConfigs(es entitySchema, all []customAttributeConfig) map[string]customAttributeConfig {
	legacy, objectType := legacyEntityType(es)
	isContext := es.set.IsA(es.s.ID, "Context")
	out := map[string]customAttributeConfig{}
	for _, cfg := range all {
		switch {
		case cfg.isHierarchical && isContext:
		case cfg.entityType == legacy && (legacy != "task" || cfg.objectTypeID == objectType):
		default:
			continue
		}
		if _, dup := out[cfg.key]; !dup || !cfg.isHierarchical {
			out[cfg.key] = cfg
		}
	}
	return out
}

// legacyEntityType returns the entity_type value custom attribute configurations use for
// es, and for TypedContext types their object type id.
func legacyEntityType(es entitySchema) (string, string) {
	switch {
	case es.s.ID == "Project":
		return "show", ""
	case es.set.IsA(es.s.ID, "TypedContext"):
		return "task", es.s.Classifiers()["object_type_id"]
	case es.s.ID == "AssetVersion":
		return "assetversion", ""
	case es.s.ID == "Asset":
		return "asset", ""
	case es.set.IsA(es.s.ID, "User"):
		return "user", ""
	case es.set.IsA(es.s.ID, "List"):
		return "list", ""
	}
	return strings.ToLower(es.s.ID), ""
}

// ensure interface satisfaction at compile time.
var _ entityClient = (*ftrackEntityClient)(nil)

// managedByMarker returns the metadata the operator sets on entities it owns.
func managedByMarker(uid string) map[string]string {
	return map[string]string{v1alpha1.MetadataManagedBy: uid}
}

// owningForeignKeys are the foreign keys through which an entity belongs to another, nearest
// owner first: ftrack deletes the entity with the one they point at.
var owningForeignKeys = []string{"parent_id", "context_id", "asset_id", "version_id", "container_id", "project_id"}

// descendantHops bounds how many owners up Descendants looks from a candidate that is not a
// context (a component → its version → its asset → its context).
const descendantHops = 4

// queryChunk is how many ids one `id in (…)` query names.
const queryChunk = 100

// Descendants implements entityClient: it returns the ids of candidates (id → entity type)
// that ftrack would delete with the entity id of type es, because their owning foreign keys
// lead to it.
func (c *ftrackEntityClient) Descendants(ctx context.Context, es entitySchema, id string, candidates map[string]string) ([]string, error) {
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
	isContext := es.set.IsA(es.s.ID, "Context")
	for hop := 0; hop <= descendantHops && len(frontier) > 0; hop++ {
		// Contexts below a context: ftrack's ancestors (or the project) say it at once.
		var contexts []string
		byType := map[string][]string{}
		for nid, n := range frontier {
			switch {
			case isContext && es.set.IsA(n.typ, "TypedContext"):
				contexts = append(contexts, nid)
				continue
			case !isContext && es.set.IsA(n.typ, "Context"):
				// A context never belongs to an entity that is not one.
				continue
			}
			byType[n.typ] = append(byType[n.typ], nid)
		}
		if len(contexts) > 0 {
			cond := fmt.Sprintf("ancestors any (id is %s)", strconv.Quote(id))
			if es.s.ID == "Project" {
				cond = fmt.Sprintf("project_id is %s", strconv.Quote(id))
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
		for _, typ := range sortedKeys(byType) {
			s, ok := c.schemas.Get(typ)
			if !ok {
				continue
			}
			tes := entitySchema{set: c.schemas, s: s}
			var fks []string
			for _, fk := range owningForeignKeys {
				if tes.relationOfForeignKey(fk) != "" {
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
						p, _ := s.Property(tes.relationOfForeignKey(fk))
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
func (c *ftrackEntityClient) idsWhere(ctx context.Context, typ string, ids []string, cond string) ([]string, error) {
	var out []string
	err := c.queryByIDs(ctx, ids, func(in string) string {
		return fmt.Sprintf("select id from %s where id in (%s) and (%s)", typ, in, cond)
	}, func(e *ftrack.Entity) { out = append(out, e.ID()) })
	return out, err
}

// readIDs reads the foreign keys fks of the entities of typ with ids: id → fk → value.
func (c *ftrackEntityClient) readIDs(ctx context.Context, typ string, ids []string, fks []string) (map[string]map[string]string, error) {
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
func (c *ftrackEntityClient) queryByIDs(ctx context.Context, ids []string, expr func(in string) string, each func(*ftrack.Entity)) error {
	for chunk := range slices.Chunk(sortedUnique(ids), queryChunk) {
		res, err := c.co.Do(ctx, map[string]any{"action": "query", "expression": expr(quoteList(chunk))})
		if err != nil {
			return err
		}
		entities, err := queryEntities(res[0])
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
		q[i] = strconv.Quote(id)
	}
	return strings.Join(q, ", ")
}
