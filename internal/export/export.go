// Package export writes an existing ftrack site as FtrackEntity manifests that adopt what
// exists — the `ftrack-operator export` and `kubectl ftrack export` commands. Every object
// holds only what internal/plan accepts, so that applying the tree creates nothing and
// planning it again changes nothing.
package export

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/internal/plan"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
)

// Options say what to export.
type Options struct {
	// Conn reaches the site.
	Conn *connection.Connection
	// ConnectionRef is what the exported objects name as their connection.
	ConnectionRef v1alpha1.ConnectionReference
	// Projects are the names of the projects to export; AllProjects exports every one.
	Projects    []string
	AllProjects bool
	// Site adds the configuration the projects use: custom attribute configurations, and the
	// statuses, types and priorities they refer to.
	Site bool
	// Types, when set, narrows the exported entity types (projects are always read, to place
	// the rest).
	Types []string
	// Management is Manage (the default) or Observe.
	Management v1alpha1.Management
	// PageSize is the number of entities one query reads; 0 means 1000.
	PageSize int
}

// Object is one exported FtrackEntity and where it goes in the tree.
type Object struct {
	Entity *v1alpha1.FtrackEntity
	// Dir and File place it: the directory below the tree's root and the file in it.
	Dir, File string
}

// Result is an export: the objects in a deterministic order.
type Result struct {
	Objects []Object
}

// entity is an ftrack entity on its way to an object.
type entity struct {
	typ    string
	id     string
	values map[string]any
	parent string // parent_id, "" for a project
	name   string
	object string // the object name
	seg    string // its directory or file name among its siblings
	path   []string
}

// exporter is the state of one export.
type exporter struct {
	ctx    context.Context
	o      Options
	es     map[string]*entity // by id
	order  []*entity
	names  *namer
	lookup map[string]map[string]string // type → id → name of site entities referenced
	unique map[string]map[string]int    // type → name → how many entities have it
	site   map[string]*entity           // site entities exported (by id)
	// configs are the custom attribute configurations by id, with their defaults.
	configs map[string]configInfo
}

type configInfo struct {
	key          string
	def          any
	hasDef       bool
	configEntity *entity
}

// Export reads the site and returns the objects.
func Export(ctx context.Context, o Options) (*Result, error) {
	if o.PageSize <= 0 {
		o.PageSize = 1000
	}
	if !o.AllProjects && len(o.Projects) == 0 {
		return nil, fmt.Errorf("name the projects to export (--project NAME) or ask for every one (--all-projects)")
	}
	x := &exporter{ctx: ctx, o: o, es: map[string]*entity{}, names: newNamer(),
		lookup: map[string]map[string]string{}, unique: map[string]map[string]int{}, site: map[string]*entity{}, configs: map[string]configInfo{}}
	projects, err := x.readProjects()
	if err != nil {
		return nil, err
	}
	if err := x.readConfigs(); err != nil {
		return nil, err
	}
	for _, p := range projects {
		if err := x.readProject(p); err != nil {
			return nil, err
		}
	}
	x.placeAll()
	var shows []Object
	for _, e := range x.order {
		if !x.wanted(e.typ) && e.typ != "Project" {
			continue
		}
		obj, err := x.object(e)
		if err != nil {
			return nil, err
		}
		shows = append(shows, obj)
	}
	res := &Result{}
	if o.Site {
		// The shows' objects named the site objects they refer to: read those now.
		objs, err := x.siteObjects()
		if err != nil {
			return nil, err
		}
		res.Objects = append(res.Objects, objs...)
	}
	res.Objects = append(res.Objects, shows...)
	return res, nil
}

// wanted reports whether --types keeps entities of typ.
func (x *exporter) wanted(typ string) bool {
	return len(x.o.Types) == 0 || slices.Contains(x.o.Types, typ)
}

// query runs a query through the connection's session, page by page.
func (x *exporter) query(expr string) ([]*ftrack.Entity, error) {
	q, err := x.o.Conn.Session().Query(expr, ftrack.WithPageSize(x.o.PageSize))
	if err != nil {
		return nil, err
	}
	return q.All(x.ctx)
}

// projections are what an export reads of an entity of es.
func projections(es plan.EntityType) []string {
	p := []string{"id"}
	p = append(p, es.SettableAttributes()...)
	for rel, fk := range es.SettableReferences() {
		if fk != "" {
			p = append(p, fk)
		} else {
			p = append(p, rel+".id")
		}
	}
	if _, ok := es.Schema().Property("parent_id"); ok {
		p = append(p, "parent_id")
	}
	if es.HasMetadata() {
		p = append(p, "metadata.key", "metadata.value")
	}
	if es.CustomAttributeType() != "" {
		p = append(p, "custom_attributes.key", "custom_attributes.value", "custom_attributes.configuration_id")
	}
	slices.Sort(p)
	return slices.Compact(p)
}

func (x *exporter) typeOf(name string) (plan.EntityType, error) {
	s, ok := x.o.Conn.Schemas().Get(name)
	if !ok {
		return plan.EntityType{}, fmt.Errorf("the server has no entity type %s", name)
	}
	return plan.TypeOf(x.o.Conn.Schemas(), s), nil
}

// readProjects reads the projects to export, by name.
func (x *exporter) readProjects() ([]*entity, error) {
	es, err := x.typeOf("Project")
	if err != nil {
		return nil, err
	}
	expr := fmt.Sprintf("select %s from Project", strings.Join(projections(es), ", "))
	if !x.o.AllProjects {
		expr += " where " + ftrack.In("name", x.o.Projects)
	}
	found, err := x.query(expr + " order by name")
	if err != nil {
		return nil, fmt.Errorf("reading the projects: %w", err)
	}
	var out []*entity
	got := map[string]bool{}
	for _, f := range found {
		e := x.add(f)
		got[e.name] = true
		out = append(out, e)
	}
	for _, name := range x.o.Projects {
		if !got[name] {
			return nil, fmt.Errorf("the site has no project named %q", name)
		}
	}
	return out, nil
}

// add keeps an entity read from ftrack.
func (x *exporter) add(f *ftrack.Entity) *entity {
	v := f.Values()
	e := &entity{typ: f.EntityType(), id: f.ID(), values: v}
	e.parent, _ = v["parent_id"].(string)
	e.name, _ = v["name"].(string)
	if e.typ == "Project" {
		e.parent = ""
	}
	x.es[e.id] = e
	return e
}

// readProject reads every context of a project, one query per type it holds.
func (x *exporter) readProject(p *entity) error {
	found, err := x.query(fmt.Sprintf("select id from TypedContext where project_id is %s", ftrack.Quote(p.id)))
	if err != nil {
		return fmt.Errorf("reading project %s: %w", p.name, err)
	}
	types := map[string]bool{}
	for _, f := range found {
		types[f.EntityType()] = true
	}
	for _, typ := range slices.Sorted(maps.Keys(types)) {
		es, err := x.typeOf(typ)
		if err != nil {
			return err
		}
		entities, err := x.query(fmt.Sprintf("select %s from %s where project_id is %s", strings.Join(projections(es), ", "), typ, ftrack.Quote(p.id)))
		if err != nil {
			return fmt.Errorf("reading the %s entities of project %s: %w", typ, p.name, err)
		}
		for _, f := range entities {
			x.add(f)
		}
	}
	return nil
}

// readConfigs reads the custom attribute configurations: their keys and defaults.
func (x *exporter) readConfigs() error {
	found, err := x.query("select id, key, default from CustomAttributeConfiguration")
	if err != nil {
		return fmt.Errorf("reading the custom attribute configurations: %w", err)
	}
	for _, f := range found {
		v := f.Values()
		key, _ := v["key"].(string)
		def, has := v["default"]
		x.configs[f.ID()] = configInfo{key: key, def: decodeDefault(def), hasDef: has}
	}
	return nil
}

// decodeDefault reads a configuration's default, which ftrack keeps as JSON text.
func decodeDefault(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	var out any
	if json.Unmarshal([]byte(s), &out) == nil {
		return out
	}
	return s
}

// placeAll names every entity after its path and orders them: projects, then each
// project's contexts parents first.
func (x *exporter) placeAll() {
	var pathOf func(e *entity, depth int) []string
	pathOf = func(e *entity, depth int) []string {
		if e.path != nil || depth > 64 {
			return e.path
		}
		if p, ok := x.es[e.parent]; ok && e.parent != "" {
			e.path = append(slices.Clone(pathOf(p, depth+1)), e.name)
		} else {
			e.path = []string{e.name}
		}
		return e.path
	}
	all := slices.Collect(maps.Values(x.es))
	for _, e := range all {
		pathOf(e, 0)
	}
	slices.SortFunc(all, func(a, b *entity) int {
		if c := slices.Compare(a.path, b.path); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	// A project's children name its directories; their children name the files (which must
	// not be those of the directory's own object and kustomization).
	segs := map[string]*namer{}
	for _, e := range all {
		e.object = x.names.name(e.id, e.path...)
		if e.depth() == 0 {
			continue
		}
		n := segs[e.parent]
		if n == nil {
			n = newNamer()
			n.taken["kustomization"] = ""
			if p, ok := x.es[e.parent]; ok && p.depth() == 1 {
				n.taken[strings.ToLower(p.typ)] = ""
			}
			segs[e.parent] = n
		}
		e.seg = n.name(e.id, e.name)
	}
	x.order = all
}

// object turns an entity into its FtrackEntity and place in the tree.
func (x *exporter) object(e *entity) (Object, error) {
	es, err := x.typeOf(e.typ)
	if err != nil {
		return Object{}, err
	}
	obj := x.newObject(e.object, e.typ, e.id)
	if err := x.fill(obj, es, e); err != nil {
		return Object{}, err
	}
	if _, err := plan.Validate(x.o.Conn.Schemas(), &obj.Spec); err != nil {
		return Object{}, fmt.Errorf("the export of %s %s is not valid (%w); this is a bug of the export", e.typ, e.id, err)
	}
	return Object{Entity: obj, Dir: x.dirOf(e), File: x.fileOf(e)}, nil
}

func (x *exporter) newObject(name, typ, id string) *v1alpha1.FtrackEntity {
	obj := &v1alpha1.FtrackEntity{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "FtrackEntity"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.FtrackEntitySpec{
			ConnectionRef: x.o.ConnectionRef,
			EntityType:    typ,
			Adopt:         &v1alpha1.AdoptSpec{ID: id},
		},
	}
	if x.o.Management == v1alpha1.ManagementObserve {
		obj.Spec.Management = v1alpha1.ManagementObserve
	}
	return obj
}

// fill sets the spec from what ftrack holds: the settable attributes not at their default,
// the references, the custom attributes not at their configuration's default, the metadata.
func (x *exporter) fill(obj *v1alpha1.FtrackEntity, es plan.EntityType, e *entity) error {
	attrs := map[string]apiextensionsv1.JSON{}
	settableRefs := es.SettableReferences()
	keys := map[string]bool{} // written as references
	for rel, fk := range settableRefs {
		keys[fk], keys[rel+"_id"] = true, true
	}
	for _, name := range es.SettableAttributes() {
		v, ok := e.values[name]
		if !ok || keys[name] || atDefault(es, name, v) {
			continue
		}
		raw, err := json.Marshal(specValue(v))
		if err != nil {
			return fmt.Errorf("%s %s: attribute %s: %w", e.typ, e.id, name, err)
		}
		attrs[name] = apiextensionsv1.JSON{Raw: raw}
	}
	if len(attrs) > 0 {
		obj.Spec.Attributes = attrs
	}
	refs := map[string]v1alpha1.EntityReference{}
	for rel, fk := range settableRefs {
		var id string
		if fk != "" {
			id, _ = e.values[fk].(string)
		} else if r, ok := e.values[rel].(*ftrack.Entity); ok && r != nil {
			id = r.ID()
		}
		if id == "" {
			continue
		}
		if rel == "project" && es.ServerFills("project") {
			continue // follows from the parent
		}
		p, _ := es.Schema().Property(rel)
		ref, err := x.reference(p.Ref, id)
		if err != nil {
			return fmt.Errorf("%s %s: references.%s: %w", e.typ, e.id, rel, err)
		}
		refs[rel] = ref
	}
	if len(refs) > 0 {
		obj.Spec.References = refs
	}
	custom := map[string]apiextensionsv1.JSON{}
	for _, item := range connection.CollectionItems(e.values["custom_attributes"]) {
		iv := item.Values()
		key, _ := iv["key"].(string)
		cfgID, _ := iv["configuration_id"].(string)
		v := iv["value"]
		if key == "" || v == nil {
			continue
		}
		if cfg, ok := x.configs[cfgID]; ok && cfg.hasDef && plan.EqualValues(cfg.def, v) {
			continue
		}
		raw, err := json.Marshal(specValue(v))
		if err != nil {
			return fmt.Errorf("%s %s: custom attribute %s: %w", e.typ, e.id, key, err)
		}
		custom[key] = apiextensionsv1.JSON{Raw: raw}
		x.useConfig(cfgID)
	}
	if len(custom) > 0 {
		obj.Spec.CustomAttributes = custom
	}
	meta := map[string]string{}
	for _, item := range connection.CollectionItems(e.values["metadata"]) {
		iv := item.Values()
		k, _ := iv["key"].(string)
		v, _ := iv["value"].(string)
		if k != "" && k != v1alpha1.MetadataManagedBy {
			meta[k] = v
		}
	}
	if len(meta) > 0 {
		obj.Spec.Metadata = meta
	}
	return nil
}

// atDefault reports whether v is what ftrack holds when nobody set the attribute.
func atDefault(es plan.EntityType, name string, v any) bool {
	if v == nil {
		return true
	}
	if def, ok := es.ServerDefault(name); ok {
		return plan.EqualValues(def, v) || (def == nil && v == "")
	}
	return v == ""
}

// specValue is v as a spec holds it: datetimes as RFC 3339 text.
func specValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case ftrack.Date:
		return x.String()
	case *ftrack.Entity:
		return x.ID()
	}
	return v
}

// siteTypes are the types exported as site objects (--site) when the exported entities refer
// to them: what a studio configures once for every show.
var siteTypes = map[string]string{"Status": "statuses.yaml", "Type": "types.yaml", "Priority": "priorities.yaml"}

// nameAttribute is the attribute that names an entity of typ in a query reference.
func nameAttribute(es plan.EntityType) string {
	for _, a := range []string{"name", "key", "username"} {
		if _, ok := es.Schema().Property(a); ok {
			return a
		}
	}
	return ""
}

// reference is how an exported object refers to the entity id of type typ: by object name
// when it is exported too, by a query on its name when that name is unique in its type, else
// by id.
func (x *exporter) reference(typ, id string) (v1alpha1.EntityReference, error) {
	if e, ok := x.es[id]; ok {
		if x.wanted(e.typ) || e.typ == "Project" {
			return v1alpha1.EntityReference{Name: e.object}, nil
		}
		// A context of the show that --types leaves out: names are unique only among
		// siblings, so by id.
		return v1alpha1.EntityReference{ID: id}, nil
	}
	if err := x.loadLookup(typ); err != nil {
		return v1alpha1.EntityReference{}, err
	}
	name, ok := x.lookup[typ][id]
	if !ok {
		return v1alpha1.EntityReference{ID: id}, nil
	}
	if site, ok := x.site[id]; ok || (x.o.Site && siteTypes[typ] != "") {
		if !ok {
			site = &entity{typ: typ, id: id, name: name}
			site.object = x.names.name(id, strings.ToLower(typ), name)
			x.site[id] = site
		}
		return v1alpha1.EntityReference{Name: site.object}, nil
	}
	if x.unique[typ][name] != 1 {
		return v1alpha1.EntityReference{ID: id}, nil
	}
	es, _ := x.typeOf(typ)
	return v1alpha1.EntityReference{Query: fmt.Sprintf("%s where %s is %s", typ, nameAttribute(es), ftrack.Quote(name))}, nil
}

// loadLookup reads the names of every entity of typ, once: references are written as
// queries on a name only when the name is unique.
func (x *exporter) loadLookup(typ string) error {
	if _, ok := x.lookup[typ]; ok {
		return nil
	}
	x.lookup[typ], x.unique[typ] = map[string]string{}, map[string]int{}
	es, err := x.typeOf(typ)
	if err != nil {
		return nil // a base or unknown type: by id
	}
	attr := nameAttribute(es)
	if attr == "" || x.o.Conn.Schemas().IsAbstract(typ) {
		return nil
	}
	found, err := x.query(fmt.Sprintf("select id, %s from %s", attr, typ))
	if err != nil {
		return fmt.Errorf("reading the %s entities: %w", typ, err)
	}
	for _, f := range found {
		name, _ := f.Values()[attr].(string)
		x.lookup[typ][f.ID()] = name
		x.unique[typ][name]++
	}
	return nil
}

// useConfig records that an exported entity sets a custom attribute of configuration id:
// with --site, the configuration is exported too.
func (x *exporter) useConfig(id string) {
	if !x.o.Site {
		return
	}
	cfg, ok := x.configs[id]
	if !ok || cfg.configEntity != nil {
		return
	}
	cfg.configEntity = &entity{typ: plan.CustomAttributeConfigurationType, id: id, name: cfg.key}
	cfg.configEntity.object = x.names.name(id, "custom-attribute", cfg.key)
	x.configs[id] = cfg
	x.site[id] = cfg.configEntity
}

// siteObjects reads and returns the site entities the export refers to.
func (x *exporter) siteObjects() ([]Object, error) {
	byType := map[string][]*entity{}
	for _, e := range x.site {
		byType[e.typ] = append(byType[e.typ], e)
	}
	var out []Object
	for _, typ := range slices.Sorted(maps.Keys(byType)) {
		es, err := x.typeOf(typ)
		if err != nil {
			return nil, err
		}
		list := byType[typ]
		ids := make([]string, len(list))
		for i, e := range list {
			ids[i] = e.id
		}
		slices.Sort(ids)
		found, err := x.query(fmt.Sprintf("select %s from %s where %s", strings.Join(projections(es), ", "), typ, ftrack.In("id", ids)))
		if err != nil {
			return nil, fmt.Errorf("reading the %s entities: %w", typ, err)
		}
		values := map[string]map[string]any{}
		for _, f := range found {
			values[f.ID()] = f.Values()
		}
		slices.SortFunc(list, func(a, b *entity) int { return strings.Compare(a.object, b.object) })
		file := siteTypes[typ]
		if file == "" {
			file = "custom-attributes.yaml"
		}
		for _, e := range list {
			e.values = values[e.id]
			obj := x.newObject(e.object, typ, e.id)
			if err := x.fill(obj, es, e); err != nil {
				return nil, err
			}
			if _, err := plan.Validate(x.o.Conn.Schemas(), &obj.Spec); err != nil {
				return nil, fmt.Errorf("the export of %s %s is not valid (%w); this is a bug of the export", typ, e.id, err)
			}
			out = append(out, Object{Entity: obj, Dir: "site", File: file})
		}
	}
	return out, nil
}

// depth is how far below its project an entity is: 0 for the project.
func (e *entity) depth() int { return len(e.path) - 1 }

// ancestor returns e's ancestor at depth d (e itself at its own depth).
func (x *exporter) ancestor(e *entity, d int) *entity {
	for e.depth() > d {
		p, ok := x.es[e.parent]
		if !ok {
			break
		}
		e = p
	}
	return e
}

// dirOf is e's directory: show-<project>/, and a directory per child of the project.
func (x *exporter) dirOf(e *entity) string {
	project := x.ancestor(e, 0)
	dir := "show-" + project.object
	if e.depth() == 0 {
		return dir
	}
	return dir + "/" + x.ancestor(e, 1).seg
}

// fileOf is e's file: project.yaml; <type>.yaml for a child of the project; one file per
// grandchild of the project (a shot) with everything below it (its tasks).
func (x *exporter) fileOf(e *entity) string {
	switch e.depth() {
	case 0:
		return "project.yaml"
	case 1:
		return strings.ToLower(e.typ) + ".yaml"
	}
	return x.ancestor(e, 2).seg + ".yaml"
}
