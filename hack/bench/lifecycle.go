package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/internal/export"
	"github.com/ftrack-operator/ftrack-operator/internal/plan"
	"github.com/ftrack-operator/ftrack-operator/internal/planrun"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// PagedPass is the baseline of plan and export: opening a session and reading the show's
// entities as one paged query pass, one query per entity type with what a spec of the show
// sets, 1,000 per page; for plan, also one list of the cluster's FtrackEntity objects, as plan
// lists them (every namespace: an entity may be claimed from another one).
type PagedPass struct {
	Seconds  float64 `json:"seconds"`
	Requests int     `json:"requests"`
	Entities int     `json:"entities"`
}

// PlanResult is `plan` of the converged bulk show's manifests against the cluster and the site
// that hold them.
type PlanResult struct {
	N                 int       `json:"n"`
	Seconds           float64   `json:"seconds"`
	Requests          int       `json:"requests"`
	RequestsPerObject float64   `json:"requestsPerObject"`
	Baseline          PagedPass `json:"baseline"`
	// TimeRatio is Seconds / Baseline.Seconds.
	TimeRatio float64 `json:"timeRatio"`
}

// ExportResult is `export` of a show of N entities nobody manages yet, and the adoption of
// what it wrote.
type ExportResult struct {
	N        int       `json:"n"`
	Seconds  float64   `json:"seconds"`
	Requests int       `json:"requests"`
	Objects  int       `json:"objects"`
	Baseline PagedPass `json:"baseline"`
	// TimeRatio is Seconds / Baseline.Seconds.
	TimeRatio float64 `json:"timeRatio"`
	// AdoptSeconds is the time from the first create of the exported objects until all are
	// Ready; AdoptWriteRequests the ftrack requests with a create, update or delete meanwhile
	// (the ownership marks), until the operator went quiet.
	AdoptSeconds                float64        `json:"adoptSeconds"`
	AdoptRequests               int            `json:"adoptRequests"`
	AdoptWriteRequests          int            `json:"adoptWriteRequests"`
	AdoptWriteRequestsPerObject float64        `json:"adoptWriteRequestsPerObject"`
	AdoptOperations             map[string]int `json:"adoptOperations"`
}

// pagedPass opens a session of its own and reads the entities of project by type, page by
// page, selecting what plan reads of each (connection.Projections of the show's specs); with
// listCluster it also lists the cluster's FtrackEntity objects. It reports the time and the
// emulator's requests.
func (b *bench) pagedPass(ctx context.Context, project string, listCluster bool) (PagedPass, error) {
	before := len(b.emulator.Requests())
	start := time.Now()
	if listCluster {
		var list v1alpha1.FtrackEntityList
		if err := b.k8s.List(ctx, &list); err != nil {
			return PagedPass{}, err
		}
	}
	s, err := ftrack.NewSession(ctx, ftrack.WithServerURL(b.emulator.URL), ftrack.WithAPIUser(ftracktest.DefaultUser),
		ftrack.WithAPIKey(ftracktest.DefaultAPIKey), ftrack.WithoutSchemaCache(), ftrack.WithPluginPaths())
	if err != nil {
		return PagedPass{}, err
	}
	defer func() { _ = s.Close() }()
	// One spec of each type says what is read of that type.
	proj := map[string][]string{}
	var order []string
	for _, o := range showObjects("pass", project, 1+shotsPerSequence*(1+tasksPerShot)+1) {
		typ := o.Spec.EntityType
		if _, ok := proj[typ]; ok {
			continue
		}
		want, err := plan.Validate(s.Schemas(), &o.Spec)
		if err != nil {
			return PagedPass{}, err
		}
		for rel := range o.Spec.References {
			want.Refs[rel] = plan.Ref{}
		}
		maps.Copy(want.Metadata, plan.ManagedByMarker("x"))
		proj[typ] = connection.Projections(want)
		order = append(order, typ)
	}
	n := 0
	for _, typ := range order {
		where := "project.name is " + ftrack.Quote(project)
		if typ == "Project" {
			where = "name is " + ftrack.Quote(project)
		}
		r, err := s.Query(fmt.Sprintf("select %s from %s where %s", strings.Join(proj[typ], ", "), typ, where), ftrack.WithPageSize(1000))
		if err != nil {
			return PagedPass{}, err
		}
		all, err := r.All(ctx)
		if err != nil {
			return PagedPass{}, err
		}
		n += len(all)
	}
	return PagedPass{Seconds: time.Since(start).Seconds(), Requests: len(b.emulator.Requests()) - before, Entities: n}, nil
}

// runPlan plans the manifests of the converged bulk show of n objects against the cluster
// and the emulator: the plan must be empty.
func (b *bench) runPlan(ctx context.Context, n int) error {
	ns, project := fmt.Sprintf("bench-op-%d", n), fmt.Sprintf("show%d", n)
	var objs []*unstructured.Unstructured
	for _, o := range showObjects(ns, project, n) {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{Object: m}
		u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("FtrackEntity"))
		objs = append(objs, u)
	}
	base, err := b.pagedPass(ctx, project, true)
	if err != nil {
		return fmt.Errorf("the paged pass: %w", err)
	}
	before := len(b.emulator.Requests())
	start := time.Now()
	res, err := planrun.Run(ctx, planrun.Options{Objects: objs, Namespace: ns, Cluster: b.k8s, Log: logr.Discard()})
	if err != nil {
		return err
	}
	took := time.Since(start)
	reqs := len(b.emulator.Requests()) - before
	if res.Changed() || res.Summary.Invalid > 0 || res.Summary.Unchanged != n {
		return fmt.Errorf("the plan of the converged show is not empty: %s", res.Summary.Line())
	}
	r := PlanResult{N: n, Seconds: took.Seconds(), Requests: reqs, RequestsPerObject: float64(reqs) / float64(n), Baseline: base, TimeRatio: took.Seconds() / base.Seconds}
	b.logf("plan %d: %.2f s with %d requests (%.4f per object); one paged pass: %.2f s with %d requests (%d entities); %.2f× the pass",
		n, r.Seconds, reqs, r.RequestsPerObject, base.Seconds, base.Requests, base.Entities, r.TimeRatio)
	b.results.Plan = append(b.results.Plan, r)
	return nil
}

// seedShow writes a show of n entities shaped like the bulk show straight into the emulator,
// as a site that exists before the operator: nobody manages it.
func (b *bench) seedShow(ctx context.Context, project string, n int) error {
	s, err := ftrack.NewSession(ctx, ftrack.WithServerURL(b.emulator.URL), ftrack.WithAPIUser(ftracktest.DefaultUser),
		ftrack.WithAPIKey(ftracktest.DefaultAPIKey), ftrack.WithoutSchemaCache(), ftrack.WithPluginPaths())
	if err != nil {
		return err
	}
	defer func() { _ = s.Close() }()
	ids := map[string]string{}
	var ops []ftrack.Op
	for _, o := range showObjects("seed", project, n) {
		id := uuid.NewString()
		ids[o.Name] = id
		data := map[string]any{"id": id}
		for k, raw := range o.Spec.Attributes {
			var v any
			if err := json.Unmarshal(raw.Raw, &v); err != nil {
				return err
			}
			data[k] = v
		}
		for rel, ref := range o.Spec.References {
			if ref.Name != "" {
				data[rel+"_id"] = ids[ref.Name]
			} else {
				data[rel+"_id"] = ref.ID
			}
		}
		ops = append(ops, ftrack.CreateOp(o.Spec.EntityType, data))
	}
	for len(ops) > 0 {
		k := min(len(ops), 1000)
		if _, err := s.Do(ctx, ops[:k]...); err != nil {
			return fmt.Errorf("seeding %s: %w", project, err)
		}
		ops = ops[k:]
	}
	return nil
}

// runExport seeds a show of n entities nobody manages, exports it, and applies the export
// into namespace bench-adopt-n.
func (b *bench) runExport(ctx context.Context, n int) error {
	ns, project := adoptNamespace(n), fmt.Sprintf("site%d", n)
	if err := b.seedShow(ctx, project, n); err != nil {
		return err
	}
	base, err := b.pagedPass(ctx, project, false)
	if err != nil {
		return fmt.Errorf("the paged pass: %w", err)
	}
	before := len(b.emulator.Requests())
	start := time.Now()
	var pool connection.Pool
	settings := &v1alpha1.ConnectionSettings{ServerURL: b.emulator.URL}
	conn, err := pool.Open(ctx, connection.Spec{Key: connection.Key{Kind: "Server", Name: b.emulator.URL}, Settings: settings,
		Credentials: connection.Credentials{APIUser: ftracktest.DefaultUser, APIKey: ftracktest.DefaultAPIKey}, Log: logr.Discard()})
	if err != nil {
		return err
	}
	defer conn.Close()
	res, err := export.Export(ctx, export.Options{Conn: conn, ConnectionRef: v1alpha1.ConnectionReference{Name: connectionName}, Projects: []string{project}})
	if err != nil {
		return err
	}
	took := time.Since(start)
	r := ExportResult{N: n, Seconds: took.Seconds(), Requests: len(b.emulator.Requests()) - before, Objects: len(res.Objects), Baseline: base, TimeRatio: took.Seconds() / base.Seconds}
	b.logf("export %d: %d objects in %.2f s with %d requests; one paged pass: %.2f s with %d requests; %.2f× the pass",
		n, r.Objects, r.Seconds, r.Requests, base.Seconds, base.Requests, r.TimeRatio)
	if r.Objects != n {
		return fmt.Errorf("the export holds %d objects, want %d", r.Objects, n)
	}

	if err := createConnection(ctx, b.k8s, ns, b.emulator.URL, b.opts.RPS, b.opts.Burst, nil); err != nil {
		return err
	}
	if err := waitConnection(ctx, b.k8s, ns, true); err != nil {
		return err
	}
	b.emulator.ResetRequests()
	start = time.Now()
	if err := forEach(ctx, b.opts.Creators, res.Objects, func(ctx context.Context, o export.Object) error {
		obj := o.Entity.DeepCopy()
		obj.Namespace = ns
		return b.k8s.Create(ctx, obj)
	}); err != nil {
		return err
	}
	last, err := b.mgr.ready.waitReady(ctx, ns, n, b.opts.PhaseTimeout)
	if err != nil {
		return err
	}
	reqs, err := b.waitQuiet(ctx, 5*time.Second, b.opts.PhaseTimeout)
	if err != nil {
		return err
	}
	for _, q := range reqs {
		for _, a := range q.Actions {
			if a == "create" || a == "update" || a == "delete" {
				r.AdoptWriteRequests++
				break
			}
		}
	}
	r.AdoptSeconds = last.Sub(start).Seconds()
	r.AdoptRequests = len(reqs)
	r.AdoptWriteRequestsPerObject = float64(r.AdoptWriteRequests) / float64(n)
	r.AdoptOperations = countActions(reqs)
	b.managed += n
	b.logf("adopt %d: all Ready after %.1f s; %d requests, %d of them writes (%.4f per object); operations %v",
		n, r.AdoptSeconds, r.AdoptRequests, r.AdoptWriteRequests, r.AdoptWriteRequestsPerObject, r.AdoptOperations)
	if ops := r.AdoptOperations; ops["update"]+ops["delete"] > 0 || ops["create"] > n {
		return fmt.Errorf("adopting the export changed ftrack: operations %v", ops)
	}
	b.results.Export = append(b.results.Export, r)
	return nil
}

// adoptNamespace is the namespace the export of the show of n entities is applied to.
func adoptNamespace(n int) string { return fmt.Sprintf("bench-adopt-%d", n) }

// lifecycleLines are the table lines of plan and export.
func lifecycleLines(r *results) []string {
	var out []string
	for _, p := range r.Plan {
		out = append(out, fmt.Sprintf("plan %d: ftrack requests, seconds\t%d (%.4f per object), %.2f s (%.2f× the pass)\tone paged pass: %d, %.2f s\t≤ 0.02 per object, ≤ 2×",
			p.N, p.Requests, p.RequestsPerObject, p.Seconds, p.TimeRatio, p.Baseline.Requests, p.Baseline.Seconds))
	}
	for _, e := range r.Export {
		out = append(out, fmt.Sprintf("export %d: ftrack requests, seconds\t%d, %.2f s (%.2f× the pass)\tone paged pass: %d, %.2f s\t≤ 50, ≤ 3×",
			e.N, e.Requests, e.Seconds, e.TimeRatio, e.Baseline.Requests, e.Baseline.Seconds),
			fmt.Sprintf("adopt %d: ftrack write requests per object\t%.4f (%d; all Ready after %.1f s)\t\t≤ 0.01", e.N, e.AdoptWriteRequestsPerObject, e.AdoptWriteRequests, e.AdoptSeconds))
	}
	return out
}
