package ftracktest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/internal/querylang"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// batch is the execution of one /api request. All fields are used under
// the server lock.
type batch struct {
	srv      *Server
	m        *model
	st       *store
	user     *record
	username string
	strict   bool
	now      time.Time
	changes  []*change
	// subqueries caches the values of each sub-query while one query runs;
	// runQuery resets it, so a later operation of the batch sees its changes.
	subqueries map[*querylang.Query]map[string]bool
	// written are the records this batch created or updated, in order: their required
	// attributes are checked when the batch ends (ftrack runs it as one transaction).
	written []*record
}

// change records one entity change for the ftrack.update event.
type change struct {
	action string // add, update, remove, move
	rec    *record
	data   map[string]any // attributes after the change (before, for remove)
	keys   []string
	old    map[string]any
	new    map[string]any
}

// readOnlyActions never change the store.
var readOnlyActions = map[string]bool{
	"query_server_information": true, "query_schemas": true, "query": true, "search": true,
	"get_widget_url": true, "get_upload_metadata": true, "complete_multipart_upload": true, "send_user_invite": true, "send_review_session_invite": true,
}

func (b *batch) run(op map[string]any) (any, error) {
	action, _ := op["action"].(string)
	switch action {
	case "query_server_information":
		return b.srv.serverInformation(op, b.user), nil
	case "query_schemas":
		raw, err := b.m.set.MarshalJSON()
		if err != nil {
			return nil, serverError("cannot encode schemas: %v", err)
		}
		return json.RawMessage(raw), nil
	case "search":
		return b.search(op)
	case "delayed_job":
		return b.delayedJob(op)
	case "encode_media":
		return b.encodeMedia(op)
	case "add_user_security_role", "remove_user_security_role", "update_user_security_role",
		"grant_user_security_role_project", "revoke_user_security_role_project":
		return b.securityRole(action, op)
	case "query":
		expr, ok := op["expression"].(string)
		if !ok {
			return nil, validationError("The %s action needs an \"expression\" string", action)
		}
		return b.runQuery(action, expr)
	case "create":
		return b.create(op)
	case "update":
		return b.update(op)
	case "delete":
		return b.delete(op)
	case "reset_remote":
		return b.resetRemote(op)
	case "get_upload_metadata":
		return b.uploadMetadata(op)
	case "complete_multipart_upload":
		return b.completeMultipartUpload(op)
	case "send_user_invite":
		return b.sendInvite(op, "User", "user_id")
	case "send_review_session_invite":
		return b.sendInvite(op, "ReviewSessionInvitee", "review_session_invitee_id")
	case "get_widget_url":
		name, _ := op["name"].(string)
		return map[string]any{"widget_url": b.srv.URL + "/widget/" + name}, nil
	}
	return nil, &apiError{Exception: "ServerError", Content: fmt.Sprintf("Invalid action u'%s'", action), Status: 400}
}

func (b *batch) entityType(op map[string]any) (*entityType, error) {
	name, _ := op["entity_type"].(string)
	if name == "" {
		return nil, validationError("The %v action needs an \"entity_type\"", op["action"])
	}
	t, ok := b.m.types[name]
	if !ok {
		return nil, validationError("Unknown entity type %q", name)
	}
	return t, nil
}

// entityKey reads entity_key, a list of primary-key values or a bare string.
func entityKey(t *entityType, op map[string]any) (string, error) {
	var parts []string
	switch k := op["entity_key"].(type) {
	case string:
		parts = []string{k}
	case []any:
		for _, v := range k {
			parts = append(parts, keyPart(v))
		}
	case map[string]any:
		for _, pk := range t.s.PrimaryKey {
			parts = append(parts, keyPart(k[pk]))
		}
	default:
		return "", validationError("The %v action on %s needs an \"entity_key\"", op["action"], t.name)
	}
	if len(parts) != len(t.s.PrimaryKey) {
		return "", validationError("%s is keyed by %s; got %d key values", t.name, strings.Join(t.s.PrimaryKey, ", "), len(parts))
	}
	return strings.Join(parts, "\x1f"), nil
}

func entityData(op map[string]any) (map[string]any, error) {
	switch d := op["entity_data"].(type) {
	case map[string]any:
		return d, nil
	case nil:
		return map[string]any{}, nil
	}
	return nil, validationError("entity_data must be an object")
}

// parseRef reads an entity reference {"__entity_type__", pk...} and finds it.
func (b *batch) parseRef(owner *entityType, attr, want string, v any) (*record, error) {
	m, ok := v.(map[string]any)
	if !ok {
		if s, ok := v.(string); ok {
			// A bare id is accepted for single-key types.
			if t, ok := b.m.types[want]; ok {
				if r := b.st.find(t, s); r != nil {
					return r, nil
				}
			}
		}
		return nil, validationError("%s.%s must be an entity reference, got %s", owner.name, attr, describe(v))
	}
	tn, _ := m["__entity_type__"].(string)
	if tn == "" {
		tn = want
	}
	t, ok := b.m.types[tn]
	if !ok {
		return nil, validationError("%s.%s refers to unknown entity type %q", owner.name, attr, tn)
	}
	if want != "" && !t.is(want) {
		return nil, validationError("%s.%s must refer to a %s, got a %s", owner.name, attr, want, tn)
	}
	key := recordKey(t, m)
	r := b.st.find(t, key)
	if r == nil {
		return nil, validationError("%s.%s refers to %s %q, which does not exist", owner.name, attr, tn, strings.ReplaceAll(key, "\x1f", ", "))
	}
	return r, nil
}

// pendingCollection is a collection assignment applied after the owner is stored.
type pendingCollection struct {
	attr  string
	items []*record
	// mapped is set for a mapped attribute (metadata).
	mapped bool
}

// applyData validates entity_data and writes scalar attributes into data.
// explicit records which foreign keys the client set (they must exist).
func (b *batch) applyData(t *entityType, data, in map[string]any, existing *record) ([]pendingCollection, error) {
	var pending []pendingCollection
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		v := in[k]
		if k == "__entity_type__" {
			continue
		}
		p, ok := t.prop(k)
		if !ok {
			return nil, validationError("%s has no attribute %q", t.name, k)
		}
		if t.s.IsComputed(k) {
			continue
		}
		switch p.Kind() {
		case schema.KindReference:
			fk, ok := t.refFK[k]
			if !ok {
				continue
			}
			if v == nil {
				data[fk] = nil
				continue
			}
			r, err := b.parseRef(t, k, p.Ref, v)
			if err != nil {
				return nil, err
			}
			data[fk] = r.key
		case schema.KindCollection:
			list, ok := v.([]any)
			if !ok {
				return nil, validationError("%s.%s must be a list of entity references, got %s", t.name, k, describe(v))
			}
			pc := pendingCollection{attr: k}
			for _, item := range list {
				r, err := b.parseRef(t, k, p.ItemsRef, item)
				if err != nil {
					return nil, err
				}
				pc.items = append(pc.items, r)
			}
			pending = append(pending, pc)
		case schema.KindMapped:
			// Metadata is written through its own entities; a list of them sent with
			// the owner names the ones the batch wrote (the Python client sends one after
			// creating them), and the answer carries them. Custom attribute lists are
			// written through their own entities too.
			if p.ItemsRef != "Metadata" {
				continue
			}
			list, ok := v.([]any)
			if !ok {
				return nil, validationError("%s.%s must be a list of entity references, got %s", t.name, k, describe(v))
			}
			pc := pendingCollection{attr: k, mapped: true}
			for _, item := range list {
				r, err := b.parseRef(t, k, p.ItemsRef, item)
				if err != nil {
					return nil, err
				}
				if existing != nil && r.data["parent_id"] != existing.id() {
					return nil, validationError("%s.%s: Metadata %q belongs to %v, not to this %s", t.name, k, r.data["key"], r.data["parent_id"], t.name)
				}
				pc.items = append(pc.items, r)
			}
			pending = append(pending, pc)
		case schema.KindUnknown:
			// Restricted attributes are ignored.
			continue
		default:
			val, err := coerce(t, p, v)
			if err != nil {
				return nil, err
			}
			// Like the Python client, an immutable attribute may still be
			// set while it has no value.
			if existing != nil && t.s.IsImmutable(k) && existing.data[k] != nil && !equalStored(existing.data[k], val) {
				return nil, validationError("%s.%s is immutable: it cannot be changed from %s to %s", t.name, k, describe(encodeValue(existing.data[k])), describe(encodeValue(val)))
			}
			if s, ok := val.(string); ok && p.Format == "foreign_key" {
				// A subtype's id is a foreign key to its base type's row
				// (FileComponent.id → Component.id): the row being created.
				tgt, ok := b.m.types[fkTarget(p)]
				if ok && (!t.s.IsPrimaryKey(k) || !t.is(tgt.name)) && b.st.find(tgt, s) == nil {
					return nil, validationError("%s.%s refers to %s %q, which does not exist", t.name, k, tgt.name, s)
				}
			}
			data[k] = val
		}
	}
	if existing != nil {
		for _, k := range names {
			if fk, ok := t.refFK[k]; ok && t.s.IsImmutable(fk) && !equalStored(existing.data[fk], data[fk]) {
				return nil, validationError("%s.%s is immutable: it cannot be changed", t.name, k)
			}
		}
	}
	return pending, nil
}

func equalStored(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return equalValues(a, b)
}

// serverDefaults fills attributes the server computes on create.
func (b *batch) serverDefaults(t *entityType, data map[string]any) {
	set := func(attr string, v any) {
		if _, ok := t.prop(attr); !ok {
			return
		}
		if cur, ok := data[attr]; !ok || cur == nil {
			data[attr] = v
		}
	}
	if _, ok := t.prop("created_at"); ok {
		set("created_at", b.now)
	}
	if b.user != nil {
		set("created_by_id", b.user.id())
	}
	switch {
	case t.is("Project"):
		set("context_type", "show")
		set("is_global", false)
		set("status", "active")
	case t.is("TypedContext"):
		set("context_type", "task")
		set("bid", 0.0)
		set("sort", 0.0)
		if pid, ok := data["parent_id"].(string); ok {
			if parent := b.st.find(b.m.types["Context"], pid); parent != nil {
				data["project_id"] = projectID(parent)
			}
		}
		if data["status_id"] == nil {
			data["status_id"] = b.preferred("Status", "not started")
		}
		if data["type_id"] == nil {
			data["type_id"] = b.preferred("Type", "generic")
		}
	case t.is("Context"):
		set("context_type", strings.ToLower(t.name))
	case t.is("Resource"):
		set("resource_type", strings.ToLower(t.name))
	}
	if t.is("Component") {
		kind := strings.ToLower(strings.TrimSuffix(t.name, "Component"))
		if kind == "" {
			kind = "component" // a plain Component; ftrack's value is not recorded
		}
		set("system_type", kind)
	}
	switch {
	case t.is("User") && data["username"] == nil:
		// ftrack names a user created without a username; how exactly is not recorded in
		// the reference answers: the email when there is one, else first.last.
		if email, _ := data["email"].(string); email != "" {
			data["username"] = email
		} else {
			first, _ := data["first_name"].(string)
			last, _ := data["last_name"].(string)
			if name := strings.Trim(strings.ToLower(strings.Join(strings.Fields(first+" "+last), ".")), "."); name != "" {
				data["username"] = name
			}
		}
	case t.is("Timer"):
		set("start", b.now)
	}
	for attr, v := range t.s.Classifiers() {
		set(attr, v)
	}
	// Required flags without a schema default are false on the server
	// (User.is_active, Group.local, AssetVersion.is_published), and a
	// required status is the "Not started" one (AssetVersion).
	for _, name := range t.s.Required {
		p, ok := t.prop(name)
		if !ok || data[name] != nil {
			continue
		}
		switch {
		case p.Type == "boolean":
			data[name] = false
		case name == "status_id":
			data[name] = b.preferred("Status", "not started")
		}
	}
}

// preferred returns the id of the entity of typ named name (any case), or
// of the first one, or nil when there is none: the server's choice of a
// status or type for contexts created without one.
func (b *batch) preferred(typ, name string) any {
	t, ok := b.m.types[typ]
	if !ok {
		return nil
	}
	all := b.st.all(t)
	for _, r := range all {
		if n, _ := r.data["name"].(string); strings.EqualFold(n, name) {
			return r.key
		}
	}
	if len(all) > 0 {
		return all[0].key
	}
	return nil
}

// checkRequired reports the first required attribute without a value.
func (b *batch) checkRequired(t *entityType, data map[string]any) error {
	for _, name := range t.s.Required {
		p, ok := t.prop(name)
		if !ok {
			continue
		}
		attr := name
		if p.Kind() == schema.KindReference {
			if fk, ok := t.refFK[name]; ok {
				attr = fk
			} else {
				continue
			}
		} else if p.Kind() != schema.KindScalar && p.Kind() != schema.KindDateTime {
			continue
		}
		if data[attr] == nil {
			return validationError("Missing required attribute %q for %s", name, t.name)
		}
	}
	if t.is("Context") {
		if name, _ := data["name"].(string); strings.TrimSpace(name) == "" {
			return validationError("%s.name must not be empty", t.name)
		}
	}
	return nil
}

// sameFamily reports whether two types share rows (a Task id is also a
// Context id).
func sameFamily(a, b *entityType) bool {
	if a == b || a.is(b.name) || b.is(a.name) {
		return true
	}
	for _, x := range a.bases {
		if b.is(x.name) {
			return true
		}
	}
	return false
}

// checkUnique enforces the uniqueness ftrack enforces: primary keys,
// project names, sibling context names and usernames.
func (b *batch) checkUnique(t *entityType, data map[string]any, self *record) error {
	key := recordKey(t, data)
	if self == nil {
		if len(t.s.PrimaryKey) == 1 && t.s.PrimaryKey[0] == "id" {
			for _, r := range b.st.byIndex(nil, "id", key) {
				if sameFamily(r.typ, t) && r.key == key {
					return duplicateError("Duplicate entry: a %s with id %q already exists", r.typ.name, key)
				}
			}
		} else if b.st.lookup(t, key) != nil {
			return duplicateError("Duplicate entry: a %s with key %s already exists", t.name, strings.ReplaceAll(key, "\x1f", ", "))
		}
	}
	if k, ok := uniqueKey(t, data); ok {
		for _, r := range b.st.holders(k) {
			if r == self {
				continue
			}
			switch {
			case t.is("Project"):
				return duplicateError("Duplicate entry: a Project named %q already exists", data["name"])
			case t.is("Context"):
				return duplicateError("Duplicate entry: context %s already has a child named %q (%s %s)", data["parent_id"], data["name"], r.typ.name, r.id())
			default:
				return duplicateError("Duplicate entry: a User with username %q already exists", data["username"])
			}
		}
	}
	return nil
}

// applyCollections points the items of assigned collections at owner.
func (b *batch) applyCollections(owner *record, pending []pendingCollection) {
	for _, pc := range pending {
		if pc.mapped {
			continue // the items name their owner themselves
		}
		fk, ok := owner.typ.inverse[pc.attr]
		if !ok {
			if _, link := linkFor(owner.typ, pc.attr); link {
				b.applyLinks(owner, pc)
			} else {
				b.storeCollection(owner, pc)
			}
			continue
		}
		for _, item := range pc.items {
			if _, ok := item.typ.prop(fk); !ok || item.data[fk] == owner.id() {
				continue
			}
			nd := cloneData(item.data)
			old := nd[fk]
			nd[fk] = owner.id()
			if _, ok := item.typ.prop("parent_type"); ok && fk == "parent_id" {
				// Notes and metadata name the type of their polymorphic parent.
				nd["parent_type"] = owner.typ.name
			}
			b.st.replace(item, nd)
			b.record("update", item, []string{fk}, map[string]any{fk: old}, map[string]any{fk: owner.id()})
		}
	}
}

// storedCollection is the hidden attribute of a record that holds a collection the schema
// gives no link type or back reference of its own (Context.scopes): the keys of its items.
func storedCollection(attr string) string { return "\x00" + attr }

// storeCollection replaces such a collection of owner with pc's items.
func (b *batch) storeCollection(owner *record, pc pendingCollection) {
	keys := make([]string, 0, len(pc.items))
	for _, it := range pc.items {
		if !slices.Contains(keys, it.key) {
			keys = append(keys, it.key)
		}
	}
	nd := cloneData(owner.data)
	nd[storedCollection(pc.attr)] = keys
	b.st.replace(owner, nd)
}

// applyLinks makes the link rows of a many-to-many collection those of pc's items: ftrack
// replaces the collection with the list sent.
func (b *batch) applyLinks(owner *record, pc pendingCollection) {
	l, ok := linkFor(owner.typ, pc.attr)
	if !ok || l.itemFK == "" {
		return
	}
	lt, ok := b.m.types[l.link]
	if !ok {
		return
	}
	for _, lr := range b.st.byIndex(lt, l.ownerFK, owner.id()) {
		if !slices.ContainsFunc(pc.items, func(it *record) bool { return it.key == lr.data[l.itemFK] }) {
			if err := b.deleteCascade(lr, 0); err != nil {
				return
			}
		}
	}
	for _, item := range pc.items {
		exists := false
		for _, lr := range b.st.byIndex(lt, l.ownerFK, owner.id()) {
			if lr.data[l.itemFK] == item.key {
				exists = true
				break
			}
		}
		if exists {
			continue
		}
		b.insertRow(lt, map[string]any{l.ownerFK: owner.id(), l.itemFK: item.key})
	}
}

// insertRow stores a row the server adds by itself (a link row, a recipient), with the
// schema's defaults for what data leaves out, and records it for the update event.
func (b *batch) insertRow(t *entityType, data map[string]any) {
	for name, p := range t.s.Properties {
		if _, set := data[name]; !set {
			if v, ok := p.DefaultValue(b.srv.newID); ok {
				data[name] = v
			}
		}
	}
	r := b.st.insert(t, data)
	b.record("add", r, nil, nil, nil)
}

func (b *batch) create(op map[string]any) (any, error) {
	t, err := b.entityType(op)
	if err != nil {
		return nil, err
	}
	in, err := entityData(op)
	if err != nil {
		return nil, err
	}
	if isCustomAttributeValue(t) {
		return b.upsertCustomAttribute("create", t, in, nil)
	}
	if t.abstract {
		return nil, validationError("%s is an abstract type; create one of its concrete types instead", t.name)
	}
	data := map[string]any{}
	pending, err := b.applyData(t, data, in, nil)
	if err != nil {
		return nil, err
	}
	for name, p := range t.s.Properties {
		if _, set := data[name]; set {
			continue
		}
		if p.Kind() != schema.KindScalar && p.Kind() != schema.KindDateTime {
			continue
		}
		if v, ok := p.DefaultValue(b.srv.newID); ok {
			cv, err := coerce(t, p, v)
			if err != nil {
				cv = v
			}
			data[name] = cv
		}
	}
	b.serverDefaults(t, data)
	if err := b.checkUnique(t, data, nil); err != nil {
		return nil, err
	}
	if t.is("Timer") {
		// One running timer per user.
		if running := b.st.byIndex(t, "user_id", fmt.Sprint(data["user_id"])); len(running) > 0 {
			return nil, duplicateError("Duplicate entry: user %v already has a running timer (%s)", data["user_id"], running[0].id())
		}
	}
	r := b.st.insert(t, data)
	b.written = append(b.written, r)
	b.applyCollections(r, pending)
	b.record("add", r, nil, nil, nil)
	if t.is("Note") {
		b.authorIsRecipient(r)
	}
	return map[string]any{"action": "create", "data": b.encodeWritten(r, pending)}, nil
}

// authorIsRecipient makes the author of a new note one of its recipients, as ftrack does.
func (b *batch) authorIsRecipient(note *record) {
	author, _ := note.data["user_id"].(string)
	rt, ok := b.m.types["Recipient"]
	if author == "" || !ok {
		return
	}
	for _, r := range b.st.byIndex(rt, "note_id", note.id()) {
		if r.data["resource_id"] == author {
			return
		}
	}
	b.insertRow(rt, map[string]any{"note_id": note.id(), "resource_id": author})
}

// finish checks what ftrack checks when a batch's transaction ends: every entity the batch
// created or updated, and that still exists, has its required attributes (a later
// operation of the batch may have set them).
func (b *batch) finish() error {
	seen := map[*record]bool{}
	for _, r := range b.written {
		if seen[r] || b.st.lookup(r.typ, r.key) != r {
			continue
		}
		seen[r] = true
		if err := b.checkRequired(r.typ, r.data); err != nil {
			return err
		}
		if r.typ.is("TypedContext") && r.data["project_id"] == nil {
			// Every context below a project sits under a parent, which gives it its project
			// (showid cannot be null).
			return validationError("%s needs a parent: a context of a project, or the project itself; project_id (showid) cannot be null", r.typ.name)
		}
	}
	return nil
}

// encodeWritten is the answer to a create or update of r: every attribute, and the
// collections the operation set (pending) as they now are.
func (b *batch) encodeWritten(r *record, pending []pendingCollection) map[string]any {
	out := b.encodeFull(r)
	for _, pc := range pending {
		items := b.collection(r, pc.attr)
		list := make([]any, len(items))
		for i, it := range items {
			if pc.mapped {
				list[i] = b.encodeFull(it)
			} else {
				list[i] = b.base(it)
			}
		}
		out[pc.attr] = list
	}
	return out
}

func (b *batch) update(op map[string]any) (any, error) {
	t, err := b.entityType(op)
	if err != nil {
		return nil, err
	}
	in, err := entityData(op)
	if err != nil {
		return nil, err
	}
	key, err := entityKey(t, op)
	if err != nil {
		return nil, err
	}
	if isCustomAttributeValue(t) {
		return b.upsertCustomAttribute("update", t, in, strings.Split(key, "\x1f"))
	}
	r := b.st.find(t, key)
	if r == nil {
		return nil, notFoundError("%s %q does not exist", t.name, strings.ReplaceAll(key, "\x1f", ", "))
	}
	t = r.typ
	data := cloneData(r.data)
	pending, err := b.applyData(t, data, in, r)
	if err != nil {
		return nil, err
	}
	if t.is("TypedContext") && data["parent_id"] != r.data["parent_id"] {
		if pid, ok := data["parent_id"].(string); ok {
			if parent := b.st.find(b.m.types["Context"], pid); parent != nil {
				data["project_id"] = projectID(parent)
			}
		}
	}
	if data["name"] != r.data["name"] || data["parent_id"] != r.data["parent_id"] || data["username"] != r.data["username"] {
		if err := b.checkUnique(t, data, r); err != nil {
			return nil, err
		}
	}
	var keys []string
	old, nw := map[string]any{}, map[string]any{}
	for k, v := range data {
		if !equalStored(r.data[k], v) {
			keys = append(keys, k)
			old[k], nw[k] = r.data[k], v
		}
	}
	slices.Sort(keys)
	if len(keys) > 0 {
		b.st.replace(r, data)
		action := "update"
		if slices.Contains(keys, "parent_id") {
			action = "move"
		}
		b.record(action, r, keys, old, nw)
	}
	b.written = append(b.written, r)
	b.applyCollections(r, pending)
	return map[string]any{"action": "update", "data": b.encodeWritten(r, pending)}, nil
}

func (b *batch) delete(op map[string]any) (any, error) {
	t, err := b.entityType(op)
	if err != nil {
		return nil, err
	}
	key, err := entityKey(t, op)
	if err != nil {
		return nil, err
	}
	r := b.st.find(t, key)
	if r == nil {
		return nil, notFoundError("%s %q does not exist", t.name, strings.ReplaceAll(key, "\x1f", ", "))
	}
	if err := b.deleteCascade(r, 0); err != nil {
		return nil, err
	}
	return map[string]any{"action": "delete", "data": true}, nil
}

// deleteCascade removes r and what depends on it: children, notes,
// metadata, custom attribute values, memberships and other rows whose
// owning foreign key points at r. Rows that merely refer to r through an
// optional foreign key lose the reference; a required non-owning reference
// (a Task's status) refuses the delete.
func (b *batch) deleteCascade(r *record, depth int) error {
	if depth > 10000 {
		return serverError("delete of %s %s cascades too deep", r.typ.name, r.id())
	}
	if b.st.lookup(r.typ, r.key) != r {
		return nil // already removed through another path
	}
	b.st.remove(r)
	b.record("remove", r, nil, nil, nil)
	id := r.id()
	if id == "" {
		return nil
	}
	attrs := make([]string, 0, len(b.st.index))
	for attr := range b.st.index {
		if attr != "id" {
			attrs = append(attrs, attr)
		}
	}
	slices.Sort(attrs)
	for _, attr := range attrs {
		for _, dep := range b.st.byIndex(nil, attr, id) {
			if dep == r {
				continue
			}
			switch {
			case cascadeFKs[attr]:
				if err := b.deleteCascade(dep, depth+1); err != nil {
					return err
				}
			case dep.typ.s.IsRequired(attr):
				return validationError("Cannot delete %s %s: %s %s refers to it through its required attribute %q", r.typ.name, id, dep.typ.name, dep.id(), attr)
			default:
				nd := cloneData(dep.data)
				nd[attr] = nil
				b.st.replace(dep, nd)
			}
		}
	}
	return nil
}

func isCustomAttributeValue(t *entityType) bool {
	return strings.HasSuffix(t.name, "CustomAttributeValue")
}

// upsertCustomAttribute writes a custom attribute value keyed by
// [configuration_id, entity_id], creating the row when it does not exist.
func (b *batch) upsertCustomAttribute(action string, t *entityType, in map[string]any, key []string) (any, error) {
	cfgID, entityID := "", ""
	if len(key) == 2 {
		cfgID, entityID = key[0], key[1]
	}
	if v, ok := in["configuration_id"].(string); ok {
		cfgID = v
	}
	if v, ok := in["entity_id"].(string); ok {
		entityID = v
	}
	if ref, ok := in["configuration"].(map[string]any); ok {
		cfgID, _ = ref["id"].(string)
	}
	cfgType := b.m.types["CustomAttributeConfiguration"]
	if cfgType == nil {
		return nil, validationError("This schema has no CustomAttributeConfiguration type")
	}
	cfg := b.st.find(cfgType, cfgID)
	if cfg == nil {
		return nil, validationError("%s: custom attribute configuration %q does not exist", t.name, cfgID)
	}
	var entity *record
	if p, ok := t.prop("entity_id"); ok {
		if et, ok := b.m.types[fkTarget(p)]; ok {
			entity = b.st.find(et, entityID)
		}
	}
	if entity == nil {
		for _, r := range b.st.byIndex(nil, "id", entityID) {
			entity = r
			break
		}
	}
	if entity == nil {
		return nil, validationError("%s: entity %q does not exist", t.name, entityID)
	}
	cfgKey, _ := cfg.data["key"].(string)
	if !configurationApplies(cfg, entity) {
		return nil, validationError("Custom attribute %q does not apply to %s %s", cfgKey, entity.typ.name, entityID)
	}
	value, err := b.checkCustomAttributeValue(cfg, cfgKey, in["value"])
	if err != nil {
		return nil, err
	}
	data := map[string]any{"configuration_id": cfgID, "entity_id": entityID, "key": cfgKey, "value": value}
	if _, ok := t.prop("project_id"); ok {
		data["project_id"] = projectID(entity)
	}
	old := cfg.data["default"]
	if existing := b.st.lookup(t, recordKey(t, data)); existing != nil {
		old = existing.data["value"]
		b.st.replace(existing, data)
	} else {
		b.st.insert(t, data)
	}
	r := b.st.lookup(t, recordKey(t, data))
	if !equalStored(old, value) {
		b.record("update", entity, []string{cfgKey}, map[string]any{cfgKey: old}, map[string]any{cfgKey: value})
	}
	return map[string]any{"action": action, "data": b.encodeFull(r)}, nil
}

// checkCustomAttributeValue type-checks a value against the configuration's
// CustomAttributeType.
func (b *batch) checkCustomAttributeValue(cfg *record, key string, v any) (any, error) {
	typeName := ""
	if tt, ok := b.m.types["CustomAttributeType"]; ok {
		if id, ok := cfg.data["type_id"].(string); ok {
			if tr := b.st.find(tt, id); tr != nil {
				typeName, _ = tr.data["name"].(string)
			}
		}
	}
	if v == nil {
		return nil, nil
	}
	bad := func(want string) error {
		return validationError("Custom attribute value for %q must be of type %s, got %s", key, want, describe(v))
	}
	switch typeName {
	case "number":
		if _, ok := v.(float64); !ok {
			return nil, bad("number")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return nil, bad("boolean")
		}
	case "text", "url":
		if _, ok := v.(string); !ok {
			return nil, bad("text")
		}
	case "date":
		tm, ok := decodeDateTime(v)
		if !ok {
			return nil, bad("date")
		}
		return tm, nil
	case "enumerator", "dynamic enumerator":
		switch x := v.(type) {
		case string:
		case []any:
			for _, e := range x {
				if _, ok := e.(string); !ok {
					return nil, bad("enumerator (a list of strings)")
				}
			}
		default:
			return nil, bad("enumerator (a list of strings)")
		}
	}
	return v, nil
}

// resetRemote implements reset_remote for User.api_key: a new key each call.
func (b *batch) resetRemote(op map[string]any) (any, error) {
	resetType, _ := op["reset_type"].(string)
	if resetType != "api_key" {
		return nil, validationError("reset_remote supports only reset_type \"api_key\", got %q", resetType)
	}
	key, _ := op["entity_key"].(string)
	if l, ok := op["entity_key"].([]any); ok && len(l) == 1 {
		key, _ = l[0].(string)
	}
	ut := b.m.types["User"]
	if ut == nil {
		return nil, validationError("This schema has no User type")
	}
	u := b.st.find(ut, key)
	if u == nil {
		return nil, notFoundError("User %q does not exist", key)
	}
	username, _ := u.data["username"].(string)
	newKey := b.srv.newID()
	b.srv.setAPIKey(username, newKey)
	return map[string]any{"action": "reset_remote", "data": map[string]any{"api_key": newKey}}, nil
}

// sendInvite answers send_user_invite and send_review_session_invite: the entity the
// invitation is for (its id under key) must exist. No mail is sent; what ftrack answers
// beyond success is not recorded.
func (b *batch) sendInvite(op map[string]any, typ, key string) (any, error) {
	id, _ := op[key].(string)
	if id == "" {
		return nil, validationError("%v: %s is required", op["action"], key)
	}
	t := b.m.types[typ]
	if t == nil {
		return nil, validationError("This schema has no %s type", typ)
	}
	if b.st.find(t, id) == nil {
		return nil, notFoundError("%s %q does not exist", typ, id)
	}
	return map[string]any{"sent": true}, nil
}

// record notes a change for the ftrack.update event.
func (b *batch) record(action string, r *record, keys []string, old, nw map[string]any) {
	b.changes = append(b.changes, &change{action: action, rec: r, data: r.data, keys: keys, old: old, new: nw})
}
