// Package planrun computes what applying a set of FtrackEntity manifests would change in
// ftrack — the plan of `ftrack-operator plan` and `kubectl ftrack plan` — with the
// reconciler's own decisions (internal/plan) and reads, and writes nothing, neither to
// ftrack nor to the cluster.
package planrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/internal/manifests"
	"github.com/ftrack-operator/ftrack-operator/internal/plan"
)

// Action is the kind of a plan line.
type Action string

// Actions, with the symbol that starts their line.
const (
	ActionCreate  Action = "create"  // +
	ActionUpdate  Action = "update"  // ~
	ActionNone    Action = "none"    // =
	ActionAdopt   Action = "adopt"   // <
	ActionDelete  Action = "delete"  // - (deleted from ftrack)
	ActionRemove  Action = "remove"  // - (the object goes, the entity stays in ftrack)
	ActionInvalid Action = "invalid" // !
	ActionWait    Action = "wait"    // …
	ActionBlocked Action = "blocked" // - (deletion waits for other objects)
)

// Change is one attribute that changes, with its value in ftrack and in the spec.
type Change struct {
	Field string `json:"field"`
	Old   string `json:"old,omitempty"`
	New   string `json:"new"`
}

// ObjectRef names a manifest's object.
type ObjectRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// Item is one line of the plan: what happens to one object's entity.
type Item struct {
	Action     Action    `json:"action"`
	Object     ObjectRef `json:"object"`
	EntityType string    `json:"entityType"`
	// Path is the entity's place in ftrack (project / … / name), as far as it is known.
	Path string `json:"path,omitempty"`
	// ID is the entity's ftrack id, "" for an entity this plan creates without one yet.
	ID      string   `json:"id,omitempty"`
	Changes []Change `json:"changes,omitempty"`
	// Drift says that the changes undo changes made in ftrack outside Git.
	Drift bool `json:"drift,omitempty"`
	// Reason and Message say why an object is invalid or waits: the Stalled or Reconciling
	// condition the reconciler would write.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Notes are further facts: "under sq030 (created by this plan)", what a delete takes
	// with it.
	Notes []string `json:"notes,omitempty"`
}

// Summary counts the items by what they do.
type Summary struct {
	Create    int `json:"create"`
	Update    int `json:"update"`
	Adopt     int `json:"adopt"`
	Delete    int `json:"delete"`
	Remove    int `json:"remove"`
	Unchanged int `json:"unchanged"`
	Invalid   int `json:"invalid"`
	Waiting   int `json:"waiting"`
	Blocked   int `json:"blocked"`
}

// Result is a plan.
type Result struct {
	// Version is the version of this JSON form.
	Version string `json:"version"`
	Items   []Item `json:"items"`
	// Notes are remarks on the input: objects that are not FtrackEntity, for example.
	Notes   []string `json:"notes,omitempty"`
	Summary Summary  `json:"summary"`
}

// Changed reports whether the plan changes anything: the exit code 2 of plan.
func (r *Result) Changed() bool {
	s := r.Summary
	return s.Create+s.Update+s.Adopt+s.Delete+s.Remove+s.Waiting+s.Blocked > 0
}

// Options are the inputs of Run.
type Options struct {
	// Objects are the manifests.
	Objects []*unstructured.Unstructured
	// Namespace is the namespace of objects that name none.
	Namespace string
	// Cluster reads the cluster's objects; nil when plan runs without a cluster.
	Cluster client.Reader
	// Server, when set, is the ftrack server of every connection.
	Server *Server
	// Prune plans the objects of the manifests' namespaces and connections that are in the
	// cluster but not in the manifests as deleted.
	Prune bool
	// NewSession opens sessions; nil means ftrack.NewSession.
	NewSession connection.SessionOpener
	// Log is handed to the sessions.
	Log logr.Logger
}

// node is one object of the plan on its way.
type node struct {
	obj   *v1alpha1.FtrackEntity // the object as it would be once applied
	live  *v1alpha1.FtrackEntity // the object in the cluster, nil when new
	conn  *connection.Connection
	want  *plan.Desired
	have  *plan.Observed
	item  *Item
	isNew bool // the entity does not exist yet
	done  bool
	path  string
	err   error // a *plan.SpecError or *plan.Wait that settles the item
}

// Run computes the plan.
func Run(ctx context.Context, opts Options) (*Result, error) {
	res := &Result{Version: "v1alpha1"}
	ns := opts.Namespace
	if ns == "" {
		ns = "default"
	}
	op := &opener{reader: newOverlay(opts.Objects, ns, opts.Cluster), server: opts.Server, newSession: opts.NewSession, log: opts.Log,
		conns: map[connection.Key]*connection.Connection{}, errs: map[connection.Key]error{}}
	defer op.close()
	r := &run{ctx: ctx, opts: opts, op: op, nodes: map[types.NamespacedName]*node{}}
	if err := r.load(ns, res); err != nil {
		return nil, err
	}
	// The connections open (a session reads the server's schemas) while the cluster's
	// objects are listed: both are reads plan cannot do without.
	type connRef struct {
		namespace string
		ref       v1alpha1.ConnectionReference
	}
	var refs []connRef
	seen := map[connRef]bool{}
	for _, key := range r.order {
		n := r.nodes[key]
		c := connRef{n.obj.Namespace, n.obj.Spec.ConnectionRef}
		if !seen[c] {
			seen[c] = true
			refs = append(refs, c)
		}
	}
	opened := make(chan struct{})
	go func() {
		defer close(opened)
		for _, c := range refs {
			_, _ = op.get(ctx, c.namespace, c.ref) // an error is kept, and reported per object
		}
	}()
	err := r.cluster()
	<-opened
	if err != nil {
		return nil, err
	}
	r.validate()
	if err := r.identify(); err != nil {
		return nil, err
	}
	if err := r.observe(); err != nil {
		return nil, err
	}
	if err := r.resolve(); err != nil {
		return nil, err
	}
	for _, key := range r.order {
		if err := r.decide(r.nodes[key]); err != nil {
			return nil, err
		}
	}
	if opts.Prune {
		if err := r.prune(); err != nil {
			return nil, err
		}
	}
	if err := r.names(); err != nil {
		return nil, err
	}
	for _, key := range r.order {
		res.Items = append(res.Items, *r.nodes[key].item)
	}
	res.Items = append(res.Items, r.pruned...)
	for _, it := range res.Items {
		res.Summary.add(it.Action)
	}
	return res, nil
}

func (s *Summary) add(a Action) {
	switch a {
	case ActionCreate:
		s.Create++
	case ActionUpdate:
		s.Update++
	case ActionAdopt:
		s.Adopt++
	case ActionDelete:
		s.Delete++
	case ActionRemove:
		s.Remove++
	case ActionNone:
		s.Unchanged++
	case ActionInvalid:
		s.Invalid++
	case ActionWait:
		s.Waiting++
	case ActionBlocked:
		s.Blocked++
	}
}

// run is the state of one Run.
type run struct {
	ctx   context.Context
	opts  Options
	op    *opener
	nodes map[types.NamespacedName]*node
	order []types.NamespacedName
	// all are the cluster's FtrackEntity objects, when there is a cluster.
	all    []*v1alpha1.FtrackEntity
	byUID  map[types.UID]*v1alpha1.FtrackEntity
	claims map[string][]*v1alpha1.FtrackEntity // entity id → objects that point at it
	pruned []Item
}

// load turns the manifests into nodes.
func (r *run) load(ns string, res *Result) error {
	for _, u := range r.opts.Objects {
		switch {
		case manifests.Is(u, "FtrackEntity"):
		case manifests.Is(u, "FtrackConnection"), manifests.Is(u, "ClusterFtrackConnection"), u.GetKind() == "Secret", u.GetKind() == "ConfigMap", u.GetKind() == "Namespace":
			continue // read through the overlay
		default:
			res.Notes = append(res.Notes, fmt.Sprintf("%s %s is not an FtrackEntity: ignored", u.GetKind(), u.GetName()))
			continue
		}
		obj := &v1alpha1.FtrackEntity{}
		if err := manifests.Convert(u, obj); err != nil {
			return fmt.Errorf("FtrackEntity %s: %w", u.GetName(), err)
		}
		if obj.Namespace == "" {
			obj.Namespace = ns
		}
		key := client.ObjectKeyFromObject(obj)
		if _, dup := r.nodes[key]; dup {
			return fmt.Errorf("FtrackEntity %s appears twice in the manifests", key)
		}
		// Until it is created, the object has no UID: one of the plan's own stands in, so that
		// no entity's mark or derived id is taken for this object's.
		obj.UID = types.UID("planned:" + key.String())
		r.nodes[key] = &node{obj: obj, item: &Item{Object: ObjectRef{Namespace: obj.Namespace, Name: obj.Name}, EntityType: obj.Spec.EntityType}}
		r.order = append(r.order, key)
	}
	return nil
}

// cluster reads the cluster's FtrackEntity objects, and makes each node the object as the
// cluster would hold it once applied: its identity, annotations and status, with the
// manifest's spec.
func (r *run) cluster() error {
	r.byUID, r.claims = map[types.UID]*v1alpha1.FtrackEntity{}, map[string][]*v1alpha1.FtrackEntity{}
	if r.opts.Cluster == nil {
		return nil
	}
	var list v1alpha1.FtrackEntityList
	if err := r.opts.Cluster.List(r.ctx, &list); err != nil {
		if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
			return nil // the CRDs are not installed: nothing exists yet
		}
		return fmt.Errorf("listing the FtrackEntity objects of the cluster: %w", err)
	}
	for i := range list.Items {
		o := &list.Items[i]
		r.all = append(r.all, o)
		r.byUID[o.UID] = o
		for _, id := range connection.EntityIDIndexValues(o) {
			r.claims[id] = append(r.claims[id], o)
		}
	}
	for _, o := range r.all {
		n, ok := r.nodes[client.ObjectKeyFromObject(o)]
		if !ok {
			continue
		}
		n.live = o
		applied := o.DeepCopy()
		applied.Spec = n.obj.Spec
		for k, v := range n.obj.Annotations {
			if applied.Annotations == nil {
				applied.Annotations = map[string]string{}
			}
			applied.Annotations[k] = v
		}
		if !equality.Semantic.DeepEqual(specWithDefaults(o.Spec), specWithDefaults(n.obj.Spec)) {
			applied.Generation = o.Generation + 1
		}
		n.obj = applied
	}
	return nil
}

// specWithDefaults fills what the API server defaults, so that a manifest that leaves a
// default out equals the stored object.
func specWithDefaults(s v1alpha1.FtrackEntitySpec) v1alpha1.FtrackEntitySpec {
	s = *s.DeepCopy()
	if s.ConnectionRef.Kind == "" {
		s.ConnectionRef.Kind = connection.KindFtrackConnection
	}
	if s.DeletionPolicy == "" {
		s.DeletionPolicy = v1alpha1.DeletionPolicyOrphan
	}
	if s.DriftPolicy == "" {
		s.DriftPolicy = v1alpha1.DriftPolicyCorrect
	}
	if s.Management == "" {
		s.Management = v1alpha1.ManagementManage
	}
	return s
}

// settle records err (a *plan.SpecError or *plan.Wait) as the node's item.
func (n *node) settle(err error) {
	n.done, n.err = true, err
	var se *plan.SpecError
	var w *plan.Wait
	switch {
	case errors.As(err, &se):
		n.item.Action, n.item.Reason, n.item.Message = ActionInvalid, se.Reason, se.Message
	case errors.As(err, &w):
		n.item.Action, n.item.Reason, n.item.Message = ActionWait, w.Reason, w.Message
	default:
		n.item.Action, n.item.Reason, n.item.Message = ActionWait, v1alpha1.ReasonConnectionNotReady, err.Error()
	}
}

// validate checks every spec against its connection's schema.
func (r *run) validate() {
	for _, key := range r.order {
		n := r.nodes[key]
		if n.obj.Spec.Suspend || n.obj.Annotations[v1alpha1.AnnotationPaused] == "true" {
			n.done, n.item.Action, n.item.Reason, n.item.Message = true, ActionNone, v1alpha1.ReasonSuspended, "reconciling is paused: ftrack is left as it is"
			continue
		}
		conn, err := r.op.get(r.ctx, n.obj.Namespace, n.obj.Spec.ConnectionRef)
		if err != nil {
			n.settle(&plan.Wait{Reason: v1alpha1.ReasonConnectionNotReady, Message: err.Error()})
			continue
		}
		n.conn = conn
		want, err := plan.Validate(conn.Schemas(), &n.obj.Spec)
		if err != nil {
			n.settle(err)
			continue
		}
		n.want = want
		// Placeholders until they are resolved, so that the bulk read selects them.
		for rel := range n.obj.Spec.References {
			want.Refs[rel] = plan.Ref{}
		}
		for key := range n.obj.Spec.CustomAttributes {
			want.Custom[key] = plan.Custom{}
		}
		if n.obj.Spec.Management != v1alpha1.ManagementObserve && want.Type.HasMetadata() {
			maps.Copy(want.Metadata, plan.ManagedByMarker(n.obj.UID))
		}
	}
}

// identify chooses each entity's id as the reconciler would: the annotation, status.id,
// adopt (id, or match through ftrack).
func (r *run) identify() error {
	for _, key := range r.order {
		n := r.nodes[key]
		if n.done {
			continue
		}
		id := n.obj.Annotations[v1alpha1.AnnotationEntityID]
		if id == "" {
			id = n.obj.Status.ID
		}
		if a := n.obj.Spec.Adopt; id == "" && a != nil {
			switch {
			case a.ID != "":
				id = a.ID
			case len(a.Match) > 0:
				ids, err := n.conn.Entities().Find(r.ctx, n.want.Type, a.Match)
				if err != nil {
					n.settle(plan.Errorf(v1alpha1.ReasonAdoptionFailed, "adopt.match: ftrack refused the query: %s", err.Error()))
					continue
				}
				switch len(ids) {
				case 0:
				case 1:
					id = ids[0]
				default:
					n.settle(plan.Errorf(v1alpha1.ReasonAdoptionFailed, "adopt.match: more than one %s matches; add attributes until one does", n.want.Type.Name()))
					continue
				}
			}
		}
		n.want.ID = id
		n.isNew = id == ""
	}
	return nil
}

// observe reads every entity with an id, in bulk per connection.
func (r *run) observe() error {
	byConn := map[*connection.Connection][]*plan.Desired{}
	for _, key := range r.order {
		n := r.nodes[key]
		if !n.done && !n.isNew {
			byConn[n.conn] = append(byConn[n.conn], n.want)
		}
	}
	for conn, wants := range byConn {
		found, err := conn.Entities().ObserveMany(r.ctx, wants)
		if err != nil {
			return fmt.Errorf("reading the entities from ftrack: %w", err)
		}
		for _, key := range r.order {
			n := r.nodes[key]
			if n.conn == conn && !n.done && !n.isNew {
				n.have = found[n.want.ID]
			}
		}
	}
	return nil
}

// resolve resolves the references by id and by query (together, so that their reads share
// batches) and the custom attributes, then the references by name in dependency order.
func (r *run) resolve() error {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, key := range r.order {
		n := r.nodes[key]
		if n.done {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			remote := map[string]v1alpha1.EntityReference{}
			for rel, ref := range n.obj.Spec.References {
				if ref.Name == "" {
					remote[rel] = ref
				}
			}
			ec := n.conn.Entities()
			err := ec.ResolveReferences(r.ctx, n.want, remote)
			if err == nil {
				err = ec.ResolveCustomAttributes(r.ctx, n.want, n.obj.Spec.CustomAttributes, func() (map[string]string, error) {
					return r.declared(n), nil
				})
			}
			if err != nil {
				n.err = err
			}
		})
	}
	wg.Wait()
	for _, key := range r.order {
		n := r.nodes[key]
		if !n.done && n.err != nil {
			n.settle(n.err)
		}
	}
	for _, key := range r.order {
		r.resolveNames(r.nodes[key], nil)
	}
	return nil
}

// declared lists the custom attribute keys that objects of n's connection declare, in the
// manifests and in the cluster.
func (r *run) declared(n *node) map[string]string {
	key := connection.KeyFor(n.obj.Namespace, n.obj.Spec.ConnectionRef)
	out := map[string]string{}
	add := func(e *v1alpha1.FtrackEntity) {
		if e.Spec.EntityType != plan.CustomAttributeConfigurationType || connection.KeyFor(e.Namespace, e.Spec.ConnectionRef) != key {
			return
		}
		var k string
		if raw, ok := e.Spec.Attributes["key"]; ok && json.Unmarshal(raw.Raw, &k) == nil && k != "" {
			out[k] = e.Name
		}
	}
	for _, m := range r.nodes {
		add(m.obj)
	}
	for _, e := range r.all {
		add(e)
	}
	return out
}

// resolveNames resolves the references by name of n: to another object of the manifests
// (planned first: a parent this plan creates has no id yet) or of the cluster.
func (r *run) resolveNames(n *node, seen map[types.NamespacedName]bool) {
	if n.done || n.path != "" || n.want == nil {
		return
	}
	if seen == nil {
		seen = map[types.NamespacedName]bool{}
	}
	key := client.ObjectKeyFromObject(n.obj)
	if seen[key] {
		return
	}
	seen[key] = true
	for _, rel := range slices.Sorted(maps.Keys(n.obj.Spec.References)) {
		name := n.obj.Spec.References[rel].Name
		if name == "" {
			continue
		}
		tkey := types.NamespacedName{Namespace: n.obj.Namespace, Name: name}
		if tkey == key || seen[tkey] {
			n.settle(plan.Errorf(v1alpha1.ReasonReferenceCycle, "references.%s: the references by name form a cycle through FtrackEntity %q; an entity cannot be its own ancestor", rel, name))
			return
		}
		if t, ok := r.nodes[tkey]; ok {
			r.resolveNames(t, seen)
			if err := n.want.Type.CheckReferenceType(rel, t.obj.Spec.EntityType, fmt.Sprintf("FtrackEntity %q", name)); err != nil {
				n.settle(err)
				return
			}
			if t.done && t.item.Action != ActionNone && t.item.Action != ActionUpdate {
				if t.item.Action == ActionInvalid || t.item.Action == ActionWait {
					n.settle(&plan.Wait{Reason: v1alpha1.ReasonReferenceNotReady, Message: fmt.Sprintf("references.%s: FtrackEntity %q cannot be applied (%s)", rel, name, t.item.Reason)})
					return
				}
			}
			if t.want == nil {
				n.settle(&plan.Wait{Reason: v1alpha1.ReasonReferenceNotReady, Message: fmt.Sprintf("references.%s: FtrackEntity %q cannot be applied", rel, name)})
				return
			}
			id := t.want.ID
			if t.isNew {
				id = "new:" + tkey.String()
				if rel == "parent" {
					n.item.Notes = append(n.item.Notes, fmt.Sprintf("under %s (created by this plan)", name))
				}
			}
			n.want.Refs[rel] = plan.Ref{ID: id, Type: t.obj.Spec.EntityType, Path: t.path}
			if rel == "parent" {
				n.want.ParentPath = t.path
			}
			continue
		}
		var live *v1alpha1.FtrackEntity
		for _, o := range r.all {
			if o.Namespace == tkey.Namespace && o.Name == tkey.Name {
				live = o
			}
		}
		if live == nil {
			n.settle(&plan.Wait{Reason: v1alpha1.ReasonReferenceNotReady, Message: fmt.Sprintf("references.%s: FtrackEntity %q is neither in the manifests nor in the cluster", rel, name)})
			return
		}
		if err := n.want.Type.CheckReferenceType(rel, live.Spec.EntityType, fmt.Sprintf("FtrackEntity %q", name)); err != nil {
			n.settle(err)
			return
		}
		if live.Status.ID == "" || !meta.IsStatusConditionTrue(live.Status.Conditions, v1alpha1.ConditionReady) {
			n.settle(&plan.Wait{Reason: v1alpha1.ReasonReferenceNotReady, Message: fmt.Sprintf("references.%s: waiting for FtrackEntity %q to be Ready", rel, name)})
			return
		}
		n.want.Refs[rel] = plan.Ref{ID: live.Status.ID, Type: live.Spec.EntityType, Path: live.Status.Path}
		if rel == "parent" {
			n.want.ParentPath = live.Status.Path
		}
	}
	n.path = n.plannedPath()
}

// plannedPath is the entity's path once the plan is carried out.
func (n *node) plannedPath() string {
	if n.have != nil && n.have.Path != "" {
		return n.have.Path
	}
	name, _ := n.want.Attrs["name"].(string)
	if name == "" {
		return ""
	}
	return plan.EntityPath(n.want.ParentPath, name)
}

// decide asks the planner what happens to n's entity.
func (r *run) decide(n *node) error {
	if n.done {
		n.item.ID = n.obj.Status.ID
		return nil
	}
	in := plan.Input{Object: n.obj, Desired: n.want, Observed: n.have}
	sc := meta.FindStatusCondition(n.obj.Status.Conditions, v1alpha1.ConditionSynced)
	in.SyncedBefore = sc != nil && sc.Status == metav1.ConditionTrue && sc.ObservedGeneration == n.obj.Generation
	in.Owned = n.obj.Status.Ownership == v1alpha1.OwnershipCreated || n.obj.Status.Ownership == v1alpha1.OwnershipAdopted
	if n.have != nil {
		if mark := n.have.Metadata[v1alpha1.MetadataManagedBy]; mark != "" && mark != string(n.obj.UID) {
			in.MarkOwner = r.byUID[types.UID(mark)]
		}
	}
	for _, o := range r.claims[n.want.ID] {
		if o.UID != n.obj.UID && plan.ClaimsID(o, n.want.ID) {
			in.Rivals = append(in.Rivals, o)
		}
	}
	p, err := plan.Decide(in)
	if err != nil {
		n.settle(err)
		return nil
	}
	n.item.ID, n.item.Drift = p.ID, p.Drift
	if p.Path != "" {
		n.item.Path = p.Path
	} else {
		n.item.Path = n.path
	}
	if n.isNew {
		n.item.ID = ""
	}
	switch {
	case p.Adopted || p.ReplacedOwner != "":
		n.item.Action = ActionAdopt
	case p.Action == plan.ActionCreate || p.Action == plan.ActionRecreate:
		n.item.Action = ActionCreate
		if p.Action == plan.ActionRecreate {
			n.item.Notes = append(n.item.Notes, "recreated: the entity was deleted in ftrack")
		}
		// A create sets everything the spec names.
		p.Changes = plan.Diff(n.want, &plan.Observed{})
	case p.Action == plan.ActionUpdate:
		n.item.Action = ActionUpdate
	case p.Action == plan.ActionReportDrift:
		n.item.Action = ActionNone
		n.item.Notes = append(n.item.Notes, "ftrack differs from the spec; driftPolicy Report leaves it")
	case p.Action == plan.ActionReportDeleted:
		n.item.Action = ActionNone
		n.item.Notes = append(n.item.Notes, "the entity was deleted in ftrack; driftPolicy Report leaves it deleted")
	default:
		n.item.Action = ActionNone
	}
	for _, c := range p.Changes {
		if c.Kind == plan.ChangeMetadata && c.Name == v1alpha1.MetadataManagedBy {
			continue // the operator's own mark, not worth a line
		}
		ch := Change{Field: c.Path(), New: plan.Canonical(c.Want)}
		if c.HaveSet {
			ch.Old = plan.Canonical(c.Have)
		}
		n.item.Changes = append(n.item.Changes, ch)
	}
	if n.item.Action == ActionUpdate && len(n.item.Changes) == 0 {
		n.item.Action = ActionNone
	}
	return nil
}

// prune plans the cluster's objects of the manifests' namespaces and connections that the
// manifests no longer hold.
func (r *run) prune() error {
	scope := map[string]bool{}
	for _, key := range r.order {
		n := r.nodes[key]
		scope[n.obj.Namespace+"\x00"+connection.KeyFor(n.obj.Namespace, n.obj.Spec.ConnectionRef).String()] = true
	}
	for _, o := range r.all {
		if _, kept := r.nodes[client.ObjectKeyFromObject(o)]; kept || !scope[o.Namespace+"\x00"+connection.KeyFor(o.Namespace, o.Spec.ConnectionRef).String()] {
			continue
		}
		it := Item{Object: ObjectRef{Namespace: o.Namespace, Name: o.Name}, EntityType: o.Spec.EntityType, ID: o.Status.ID, Path: o.Status.Path}
		if err := r.pruneOne(o, &it); err != nil {
			return err
		}
		r.pruned = append(r.pruned, it)
	}
	return nil
}

func (r *run) pruneOne(o *v1alpha1.FtrackEntity, it *Item) error {
	it.Action = ActionRemove
	if o.Spec.DeletionPolicy != v1alpha1.DeletionPolicyDelete || o.Status.ID == "" {
		it.Notes = append(it.Notes, "the object goes; the entity is left in ftrack (deletionPolicy Orphan)")
		return nil
	}
	conn, err := r.op.get(r.ctx, o.Namespace, o.Spec.ConnectionRef)
	if err != nil {
		it.Notes = append(it.Notes, "the connection cannot be used: "+err.Error())
		return nil
	}
	es, err := plan.LookupType(conn.Schemas(), o.Spec.EntityType)
	if err != nil {
		it.Notes = append(it.Notes, err.Error())
		return nil
	}
	want := &plan.Desired{Type: es, ID: o.Status.ID, Attrs: map[string]any{}, Refs: map[string]plan.Ref{}, Metadata: map[string]string{}}
	have, err := conn.Entities().Observe(r.ctx, want)
	if err != nil {
		return fmt.Errorf("reading %s %s: %w", o.Spec.EntityType, o.Status.ID, err)
	}
	var markOwner *v1alpha1.FtrackEntity
	if have != nil {
		if mark := have.Metadata[v1alpha1.MetadataManagedBy]; mark != "" && mark != string(o.UID) {
			markOwner = r.byUID[types.UID(mark)]
		}
	}
	var rivals []*v1alpha1.FtrackEntity
	for _, c := range r.claims[o.Status.ID] {
		if c.UID != o.UID {
			rivals = append(rivals, c)
		}
	}
	d, err := plan.DecideDelete(o, o.Status.ID, have, markOwner, rivals, nil)
	if err != nil {
		return err
	}
	if d.Delete {
		blockers, err := r.blockers(conn, o, es)
		if err != nil {
			return err
		}
		if d, err = plan.DecideDelete(o, o.Status.ID, have, markOwner, rivals, blockers); err != nil {
			return err
		}
	}
	switch {
	case len(d.Blockers) > 0:
		it.Action, it.Reason, it.Message = ActionBlocked, v1alpha1.ReasonDeleteBlocked, plan.DeleteBlockedMessage(o.Spec.EntityType, o.Status.ID, d.Blockers)
	case d.Leave != "":
		it.Notes = append(it.Notes, d.Leave)
	case !d.Delete:
		it.Notes = append(it.Notes, "the entity is already gone from ftrack")
	default:
		it.Action = ActionDelete
		n, err := conn.Entities().CountDescendants(r.ctx, es, o.Status.ID)
		if err != nil {
			return err
		}
		note := "deleted from ftrack"
		if len(n) > 0 {
			var parts []string
			for _, typ := range slices.Sorted(maps.Keys(n)) {
				parts = append(parts, fmt.Sprintf("%d %s", n[typ], typ))
			}
			note += " with what ftrack deletes with it: " + strings.Join(parts, ", ")
		}
		it.Notes = append(it.Notes, note)
	}
	return nil
}

// blockers are the objects that keep descendants of o's entity: the objects of the
// manifests (as applied) and the cluster's other objects whose deletionPolicy is not
// Delete.
func (r *run) blockers(conn *connection.Connection, o *v1alpha1.FtrackEntity, es plan.EntityType) ([]*v1alpha1.FtrackEntity, error) {
	candidates := map[string]string{}
	keepers := map[string][]*v1alpha1.FtrackEntity{}
	add := func(e *v1alpha1.FtrackEntity) {
		if e.UID == o.UID || e.Status.ID == "" || e.Status.ID == o.Status.ID || (e.Spec.DeletionPolicy == v1alpha1.DeletionPolicyDelete && e.Spec.Management != v1alpha1.ManagementObserve) {
			return
		}
		candidates[e.Status.ID] = e.Spec.EntityType
		keepers[e.Status.ID] = append(keepers[e.Status.ID], e)
	}
	for _, e := range r.all {
		if n, ok := r.nodes[client.ObjectKeyFromObject(e)]; ok {
			add(n.obj)
		} else if !r.isPruned(e) {
			add(e)
		}
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	ids, err := conn.Entities().Descendants(r.ctx, es, o.Status.ID, candidates)
	if err != nil {
		return nil, err
	}
	var out []*v1alpha1.FtrackEntity
	for _, id := range ids {
		out = append(out, keepers[id]...)
	}
	return out, nil
}

// isPruned reports whether e is an object the plan prunes (it goes with the others).
func (r *run) isPruned(e *v1alpha1.FtrackEntity) bool {
	if !r.opts.Prune {
		return false
	}
	for _, key := range r.order {
		n := r.nodes[key]
		if n.obj.Namespace == e.Namespace && connection.KeyFor(n.obj.Namespace, n.obj.Spec.ConnectionRef) == connection.KeyFor(e.Namespace, e.Spec.ConnectionRef) {
			return true
		}
	}
	return false
}

// names shows references by what they name: `Status "In progress"` instead of its id, and an
// object this plan creates by its object name.
func (r *run) names() error {
	type want struct {
		conn *connection.Connection
		typ  string
	}
	ids := map[want][]string{}
	refType := func(n *node, field string) string {
		rel, ok := strings.CutPrefix(field, "references.")
		if !ok || n.want == nil {
			return ""
		}
		if p, ok := n.want.Type.Schema().Property(rel); ok {
			return p.Ref
		}
		return ""
	}
	for _, key := range r.order {
		n := r.nodes[key]
		for _, c := range n.item.Changes {
			typ := refType(n, c.Field)
			if typ == "" {
				continue
			}
			for i, v := range []string{c.Old, c.New} {
				var id string
				if json.Unmarshal([]byte(v), &id) != nil || id == "" || strings.HasPrefix(id, "new:") {
					continue
				}
				t := typ
				// The new value's concrete type is known from its resolution.
				if rel := strings.TrimPrefix(c.Field, "references."); i == 1 && n.want.Refs[rel].Type != "" {
					t = n.want.Refs[rel].Type
				}
				ids[want{n.conn, t}] = append(ids[want{n.conn, t}], id)
			}
		}
	}
	names := map[string]string{}
	for w, list := range ids {
		found, err := w.conn.Entities().Names(r.ctx, w.typ, list)
		if err != nil {
			return fmt.Errorf("reading the names of %s entities: %w", w.typ, err)
		}
		for id, name := range found {
			names[id] = fmt.Sprintf("%s %q", w.typ, name)
		}
	}
	show := func(v string) string {
		var id string
		if json.Unmarshal([]byte(v), &id) != nil || id == "" {
			return v
		}
		if obj, ok := strings.CutPrefix(id, "new:"); ok {
			_, name, _ := strings.Cut(obj, "/")
			return fmt.Sprintf("FtrackEntity %q (created by this plan)", name)
		}
		if name, ok := names[id]; ok {
			return name
		}
		return v
	}
	for _, key := range r.order {
		n := r.nodes[key]
		for i, c := range n.item.Changes {
			if refType(n, c.Field) == "" {
				continue
			}
			n.item.Changes[i].Old, n.item.Changes[i].New = show(c.Old), show(c.New)
		}
	}
	return nil
}
