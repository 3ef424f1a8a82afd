package ftrack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/internal/querylang"
)

// DefaultPageSize is the number of entities fetched per query page.
const DefaultPageSize = 500

// QueryResult is a lazily fetched query: pages are requested with
// "offset N limit M", following the server's next offset, until it is null
// or the expression's own limit is reached. Results are merged into the
// identity map. A QueryResult is not safe for concurrent use.
type QueryResult struct {
	s        *Session
	base     *querylang.Query // without offset and limit
	offset   *int
	limit    *int
	pageSize int
	results  []*Entity
	next     *int
	started  bool
}

// QueryOption configures Query.
type QueryOption func(*QueryResult)

// WithPageSize sets the page size (default 500).
func WithPageSize(n int) QueryOption {
	return func(r *QueryResult) {
		if n > 0 {
			r.pageSize = n
		}
	}
}

// Query prepares expr for fetching. Without "select … from" the entity
// type's default projections are selected. Nothing is sent until a result
// method is called.
func (s *Session) Query(expr string, opts ...QueryOption) (*QueryResult, error) {
	if s.closed.Load() {
		return nil, ErrSessionClosed
	}
	q, err := querylang.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("ftrack: query %q: %w", expr, err)
	}
	if len(q.Select) == 0 {
		sc, ok := s.schemas.GetFold(q.EntityType)
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrUnknownEntityType, q.EntityType)
		}
		paths := make([]querylang.Path, len(sc.DefaultProjections))
		for i, p := range sc.DefaultProjections {
			paths[i] = querylang.PathOf(p)
		}
		q = q.WithDefaultSelect(paths...)
	}
	r := &QueryResult{s: s, base: q.WithoutPaging(), offset: q.Offset, limit: q.Limit, pageSize: DefaultPageSize}
	for _, o := range opts {
		o(r)
	}
	if r.limit != nil && *r.limit < r.pageSize {
		r.pageSize = *r.limit
	}
	return r, nil
}

// Expression returns the base expression (with the default projections,
// without offset and limit).
func (r *QueryResult) Expression() string { return r.base.String() }

// fetchMore fetches the next page; it reports false when done.
func (r *QueryResult) fetchMore(ctx context.Context) (bool, error) {
	if !r.started {
		r.started = true
		start := 0
		if r.offset != nil {
			start = *r.offset
		}
		r.next = &start
	}
	if r.next == nil {
		return false, nil
	}
	expr := r.base.WithPaging(*r.next, r.pageSize).String()
	data, next, err := r.s.runQuery(ctx, expr)
	if err != nil {
		return false, err
	}
	r.results = append(r.results, data...)
	r.next = next
	if r.limit != nil && len(r.results) >= *r.limit {
		r.results = r.results[:*r.limit]
		r.next = nil
	}
	return true, nil
}

// All fetches every page and returns the entities.
func (r *QueryResult) All(ctx context.Context) ([]*Entity, error) {
	for {
		more, err := r.fetchMore(ctx)
		if err != nil {
			return nil, err
		}
		if !more {
			return r.results, nil
		}
	}
}

// Iter yields the entities, fetching pages as needed. A fetch error is
// yielded once with a nil entity and ends the iteration.
func (r *QueryResult) Iter(ctx context.Context) iter.Seq2[*Entity, error] {
	return func(yield func(*Entity, error) bool) {
		i := 0
		for {
			for ; i < len(r.results); i++ {
				if !yield(r.results[i], nil) {
					return
				}
			}
			more, err := r.fetchMore(ctx)
			if err != nil {
				yield(nil, err)
				return
			}
			if !more {
				return
			}
		}
	}
}

// One returns the only entity matching the query: ErrNoResultFound or
// ErrMultipleResultsFound otherwise. The expression must not have its own
// offset or limit.
func (r *QueryResult) One(ctx context.Context) (*Entity, error) {
	if r.limit != nil {
		return nil, errors.New("ftrack: expression already contains a limit clause")
	}
	if r.offset != nil {
		return nil, errors.New("ftrack: expression contains an offset clause which does not make sense when selecting a single item")
	}
	data, _, err := r.s.runQuery(ctx, r.base.WithLimit(2).String())
	if err != nil {
		return nil, err
	}
	switch len(data) {
	case 0:
		return nil, ErrNoResultFound
	case 1:
		return data[0], nil
	}
	return nil, ErrMultipleResultsFound
}

// First returns the first entity or nil when nothing matched.
func (r *QueryResult) First(ctx context.Context) (*Entity, error) {
	q := r.base.WithLimit(1)
	if r.offset != nil {
		q = r.base.WithPaging(*r.offset, 1)
	}
	data, _, err := r.s.runQuery(ctx, q.String())
	if err != nil || len(data) == 0 {
		return nil, err
	}
	return data[0], nil
}

// runQuery sends one query action and returns its entities and the next
// offset.
func (s *Session) runQuery(ctx context.Context, expr string) ([]*Entity, *int, error) {
	res, err := s.callRaw(ctx, []map[string]any{{"action": "query", "expression": expr}}, s.mergeEntityPairs)
	if err != nil {
		return nil, nil, err
	}
	m, ok := res[0].(map[string]any)
	if !ok {
		return nil, nil, &TransportError{Op: "query", Err: fmt.Errorf("want an object, got %T", res[0])}
	}
	list, _ := m["data"].([]any)
	out := make([]*Entity, 0, len(list))
	for _, v := range list {
		if e, ok := v.(*Entity); ok {
			out = append(out, e)
		}
	}
	var next *int
	if md, ok := m["metadata"].(map[string]any); ok {
		if n, ok := md["next"].(map[string]any); ok {
			if f, ok := n["offset"].(float64); ok {
				i := int(f)
				next = &i
			}
		}
	}
	return out, next, nil
}

// quoteValue quotes a query literal.
func quoteValue(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// Get returns the entity of entityType with the given primary-key values
// (in schema order) from the identity map, else from the server. A missing
// entity is reported with an error matching ErrNotFound.
func (s *Session) Get(ctx context.Context, entityType string, key ...string) (*Entity, error) {
	if s.closed.Load() {
		return nil, ErrSessionClosed
	}
	t, ok := s.types[entityType]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEntityType, entityType)
	}
	if len(key) != len(t.primary) {
		return nil, fmt.Errorf("ftrack: incompatible primary key for %s: got %d values, want %d", entityType, len(key), len(t.primary))
	}
	s.mu.Lock()
	e := s.lookupLocked(s.identityKeyLocked(Identity{Type: entityType, Key: key}))
	s.mu.Unlock()
	if e != nil {
		return e, nil
	}
	crit := make([]string, 0, len(key))
	for i, v := range key {
		crit = append(crit, t.primary[i].name+" is "+quoteValue(v))
	}
	r, err := s.Query(entityType + " where (" + strings.Join(crit, " and ") + ")")
	if err != nil {
		return nil, err
	}
	e, err = r.First(ctx)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, fmt.Errorf("%w: %s %v", ErrNotFound, entityType, key)
	}
	return e, nil
}

// Populate loads the attributes named in projections ("a, b.c") of the
// entities with one query; entities not yet committed are skipped, and
// local values are kept.
func (s *Session) Populate(ctx context.Context, entities []*Entity, projections string) error {
	if s.closed.Load() {
		return ErrSessionClosed
	}
	return s.populate(ctx, entities, projections)
}

func (s *Session) populate(ctx context.Context, entities []*Entity, projections string) error {
	if len(entities) == 0 {
		return nil
	}
	s.mu.Lock()
	var todo []*Entity
	for _, e := range entities {
		if e.state != StateCreated {
			todo = append(todo, e)
		}
	}
	if len(todo) == 0 {
		s.mu.Unlock()
		return nil
	}
	t := todo[0].typ
	var where string
	if len(t.primary) > 1 {
		crit := make([]string, 0, len(todo))
		for _, e := range todo {
			parts := make([]string, len(t.primary))
			for i, kv := range e.primaryKeyLocked() {
				parts[i] = kv.Name + " is " + quoteValue(kv.Value)
			}
			crit = append(crit, "("+strings.Join(parts, " and ")+")")
		}
		where = strings.Join(crit, " or ")
	} else {
		pk := t.primary[0].name
		if len(todo) == 1 {
			where = pk + " is " + quoteValue(todo[0].primaryKeyLocked()[0].Value)
		} else {
			vals := make([]string, len(todo))
			for i, e := range todo {
				vals[i] = quoteValue(e.primaryKeyLocked()[0].Value)
			}
			where = pk + " in (" + strings.Join(vals, ", ") + ")"
		}
	}
	s.mu.Unlock()
	r, err := s.Query("select " + projections + " from " + t.name + " where " + where)
	if err != nil {
		return err
	}
	_, err = r.All(ctx)
	return err
}

// Ensure returns the entity of entityType matching data on the
// identifying keys (all keys of data when none are given), creating it when
// there is none, or updating the attributes that differ; either change is
// committed at once (with any other pending operations, as in the Python
// client).
func (s *Session) Ensure(ctx context.Context, entityType string, data map[string]any, identifyingKeys ...string) (*Entity, error) {
	if len(identifyingKeys) == 0 {
		for k := range data {
			identifyingKeys = append(identifyingKeys, k)
		}
		slices.Sort(identifyingKeys)
	}
	if len(identifyingKeys) == 0 {
		return nil, errors.New("ftrack: ensure: could not determine any identifying data to check against")
	}
	crit := make([]string, len(identifyingKeys))
	for i, k := range identifyingKeys {
		v, ok := data[k]
		if !ok {
			return nil, fmt.Errorf("ftrack: ensure: identifying key %q not in data", k)
		}
		crit[i] = k + " is " + queryLiteral(v)
	}
	r, err := s.Query(entityType + " where " + strings.Join(crit, " and "))
	if err != nil {
		return nil, err
	}
	e, err := r.One(ctx)
	if errors.Is(err, ErrNoResultFound) {
		e, err = s.Create(entityType, data)
		if err != nil {
			return nil, err
		}
		return e, s.Commit(ctx)
	}
	if err != nil {
		return nil, err
	}
	updated := false
	for k, want := range data {
		got, err := e.GetContext(ctx, k)
		if err != nil {
			return nil, err
		}
		if !valuesEqual(got, want) {
			if err := e.Set(k, want); err != nil {
				return nil, err
			}
			updated = true
		}
	}
	if updated {
		return e, s.Commit(ctx)
	}
	return e, nil
}

// queryLiteral writes a value as Python's ensure does: strings quoted,
// datetimes as naive UTC without fractional seconds, others as Python's
// str().
func queryLiteral(v any) string {
	switch x := v.(type) {
	case string:
		return quoteValue(x)
	case time.Time:
		return quoteValue(formatQueryDateTime(x))
	case Date:
		return quoteValue(x.String() + "T00:00:00")
	case *Entity:
		return quoteValue(x.ID())
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// valuesEqual compares an attribute value with a wanted value.
func valuesEqual(got, want any) bool {
	switch w := want.(type) {
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	case Date:
		switch g := got.(type) {
		case Date:
			return g == w
		case time.Time:
			return DateOf(g.UTC()) == w
		}
		return false
	case *Entity:
		g, ok := got.(*Entity)
		return ok && (g == w || (g != nil && w != nil && g.Identity().String() == w.Identity().String()))
	case int, int32, int64, float32, float64:
		gf, ok1 := toFloat(got)
		wf, ok2 := toFloat(want)
		return ok1 && ok2 && gf == wf
	case nil:
		return got == nil
	case string, bool:
		return got == want
	}
	gj, err1 := json.Marshal(got)
	wj, err2 := json.Marshal(want)
	return err1 == nil && err2 == nil && string(gj) == string(wj)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, !math.IsNaN(x)
	}
	return 0, false
}
