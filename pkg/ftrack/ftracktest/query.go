package ftracktest

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/internal/querylang"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// maxDescendants bounds the walk of computed descendants collections.
const maxDescendants = 100000

// runQuery executes one query expression and returns the query action result.
func (b *batch) runQuery(action, expr string) (map[string]any, error) {
	q, err := querylang.Parse(expr)
	if err != nil {
		return nil, validationError("Invalid query %q: %v", expr, err)
	}
	t, err := b.queryType(q)
	if err != nil {
		return nil, err
	}
	b.subqueries = map[*querylang.Query]map[string]bool{}
	if len(q.GroupBy) > 0 || slices.ContainsFunc(q.Select, func(p querylang.Projection) bool { return p.Func != "" }) {
		return b.runAggregate(action, t, q)
	}
	rows, err := b.filter(t, q.Where)
	if err != nil {
		return nil, err
	}
	b.order(rows, q.OrderBy)
	offset := 0
	if q.Offset != nil && *q.Offset > 0 {
		offset = *q.Offset
	}
	end := len(rows)
	if q.Limit != nil && offset+*q.Limit < end {
		end = offset + *q.Limit
	}
	var page []*record
	if offset < len(rows) {
		page = rows[offset:max(end, offset)]
	}
	var next any
	if q.Limit != nil && offset+*q.Limit < len(rows) {
		next = offset + *q.Limit
	}
	paths := make([]querylang.Path, 0, len(q.Select))
	for _, p := range q.Select {
		paths = append(paths, p.Path)
	}
	data := make([]any, 0, len(page))
	for _, r := range page {
		data = append(data, b.project(r, paths))
	}
	return map[string]any{"action": action, "data": data, "metadata": map[string]any{"next": map[string]any{"offset": next}}}, nil
}

// queryType resolves the queried type and checks every path of q.
func (b *batch) queryType(q *querylang.Query) (*entityType, error) {
	t, ok := b.m.get(q.EntityType)
	if !ok {
		return nil, validationError("Unknown entity type %q in query", q.EntityType)
	}
	for _, p := range q.Select {
		if err := b.checkPath(t, p.Path); err != nil {
			return nil, err
		}
	}
	for _, p := range q.GroupBy {
		if err := b.checkPath(t, p); err != nil {
			return nil, err
		}
	}
	for _, o := range q.OrderBy {
		if err := b.checkPath(t, o.Path); err != nil {
			return nil, err
		}
	}
	if err := b.checkExpr(t, q.Where); err != nil {
		return nil, err
	}
	return t, nil
}

// lookupProp finds attribute name on t or, for polymorphic queries, on one
// of its concrete types.
func (b *batch) lookupProp(t *entityType, name string) (*schema.Property, *entityType, bool) {
	if p, ok := t.prop(name); ok {
		return p, t, true
	}
	for _, c := range t.concrete {
		if p, ok := c.prop(name); ok {
			return p, c, true
		}
	}
	return nil, nil, false
}

func (b *batch) checkPath(t *entityType, path querylang.Path) error {
	cur := t
	for i, name := range path {
		p, _, ok := b.lookupProp(cur, name)
		if !ok {
			return validationError("%s has no attribute %q (in %q)", cur.name, name, path.String())
		}
		if i == len(path)-1 {
			return nil
		}
		next, ok := b.m.types[p.Target()]
		if !ok {
			return validationError("%s.%s is not a relation, so %q cannot continue after it", cur.name, name, path.String())
		}
		cur = next
	}
	return nil
}

func (b *batch) checkExpr(t *entityType, e querylang.Expr) error {
	switch x := e.(type) {
	case nil:
		return nil
	case *querylang.And:
		if err := b.checkExpr(t, x.Left); err != nil {
			return err
		}
		return b.checkExpr(t, x.Right)
	case *querylang.Or:
		if err := b.checkExpr(t, x.Left); err != nil {
			return err
		}
		return b.checkExpr(t, x.Right)
	case *querylang.Not:
		return b.checkExpr(t, x.X)
	case *querylang.Comparison:
		return b.checkPath(t, x.Path)
	case *querylang.In:
		if x.Subquery != nil {
			if _, err := b.queryType(x.Subquery); err != nil {
				return err
			}
			if len(x.Subquery.Select) != 1 {
				return validationError("A sub-query must select exactly one attribute")
			}
		}
		return b.checkPath(t, x.Path)
	case *querylang.Relation:
		if err := b.checkPath(t, x.Path); err != nil {
			return err
		}
		target := t
		for _, name := range x.Path {
			p, _, _ := b.lookupProp(target, name)
			target = b.m.types[p.Target()]
			if target == nil {
				return validationError("%q is not a relation: has/any need a relation", x.Path.String())
			}
		}
		return b.checkExpr(target, x.Criteria)
	}
	return nil
}

// filter returns the records of t matching where, in insertion order,
// using the id and foreign-key indexes when the criteria allow.
func (b *batch) filter(t *entityType, where querylang.Expr) ([]*record, error) {
	cands, ok, err := b.candidates(t, where)
	if err != nil {
		return nil, err
	}
	if !ok {
		cands = b.st.all(t)
	}
	if where == nil {
		return cands, nil
	}
	out := cands[:0:0]
	for _, r := range cands {
		m, err := b.eval(r, where)
		if err != nil {
			return nil, err
		}
		if m {
			out = append(out, r)
		}
	}
	return out, nil
}

// indexAttr returns the indexed attribute a path denotes on t: "id",
// "parent_id", or the foreign key of a reference ("parent", "parent.id").
func (b *batch) indexAttr(t *entityType, path querylang.Path) (string, bool) {
	switch len(path) {
	case 1:
		p, owner, ok := b.lookupProp(t, path[0])
		if !ok {
			return "", false
		}
		if p.Kind() == schema.KindReference {
			fk, ok := owner.refFK[path[0]]
			return fk, ok
		}
		if indexed(path[0]) && p.Type == "string" {
			return path[0], true
		}
	case 2:
		p, owner, ok := b.lookupProp(t, path[0])
		if ok && p.Kind() == schema.KindReference && path[1] == "id" {
			fk, ok := owner.refFK[path[0]]
			return fk, ok
		}
	}
	return "", false
}

func literalKey(v querylang.Value) (string, bool) {
	switch v.Kind {
	case querylang.KindString, querylang.KindBare, querylang.KindNumber:
		return v.Str, true
	}
	return "", false
}

// candidates narrows the rows through the indexes. ok is false when the
// criteria cannot use an index; the result is a superset of the matches.
func (b *batch) candidates(t *entityType, e querylang.Expr) ([]*record, bool, error) {
	switch x := e.(type) {
	case *querylang.Comparison:
		if x.Op != querylang.OpEq {
			return nil, false, nil
		}
		attr, ok := b.indexAttr(t, x.Path)
		key, lok := literalKey(x.Value)
		if !ok || !lok {
			return nil, false, nil
		}
		return b.st.byIndex(t, attr, key), true, nil
	case *querylang.In:
		if x.Negated {
			return nil, false, nil
		}
		attr, ok := b.indexAttr(t, x.Path)
		if !ok {
			return nil, false, nil
		}
		var keys []string
		if x.Subquery != nil {
			set, err := b.subquerySet(x.Subquery)
			if err != nil {
				return nil, false, err
			}
			for k := range set {
				keys = append(keys, k)
			}
		} else {
			for _, v := range x.Values {
				if k, ok := literalKey(v); ok {
					keys = append(keys, k)
				}
			}
		}
		seen := map[*record]bool{}
		var out []*record
		for _, k := range keys {
			for _, r := range b.st.byIndex(t, attr, k) {
				if !seen[r] {
					seen[r] = true
					out = append(out, r)
				}
			}
		}
		sortBySeq(out)
		return out, true, nil
	case *querylang.And:
		l, lok, err := b.candidates(t, x.Left)
		if err != nil {
			return nil, false, err
		}
		r, rok, err := b.candidates(t, x.Right)
		if err != nil {
			return nil, false, err
		}
		switch {
		case lok && rok:
			if len(r) < len(l) {
				return r, true, nil
			}
			return l, true, nil
		case lok:
			return l, true, nil
		case rok:
			return r, true, nil
		}
	case *querylang.Or:
		l, lok, err := b.candidates(t, x.Left)
		if err != nil || !lok {
			return nil, false, err
		}
		r, rok, err := b.candidates(t, x.Right)
		if err != nil || !rok {
			return nil, false, err
		}
		seen := map[*record]bool{}
		out := make([]*record, 0, len(l)+len(r))
		for _, rec := range append(l, r...) {
			if !seen[rec] {
				seen[rec] = true
				out = append(out, rec)
			}
		}
		sortBySeq(out)
		return out, true, nil
	}
	return nil, false, nil
}

func (b *batch) subqueryValues(q *querylang.Query) ([]any, error) {
	t, err := b.queryType(q)
	if err != nil {
		return nil, err
	}
	if len(q.Select) != 1 {
		return nil, validationError("A sub-query must select exactly one attribute")
	}
	rows, err := b.filter(t, q.Where)
	if err != nil {
		return nil, err
	}
	var out []any
	for _, r := range rows {
		out = append(out, b.values(r, q.Select[0].Path)...)
	}
	return out, nil
}

// subquerySet returns the values a sub-query selects, as valueKey strings,
// computed once per query.
func (b *batch) subquerySet(q *querylang.Query) (map[string]bool, error) {
	if set, ok := b.subqueries[q]; ok {
		return set, nil
	}
	vals, err := b.subqueryValues(q)
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(vals))
	for _, v := range vals {
		if v != nil {
			set[valueKey(v)] = true
		}
	}
	if b.subqueries == nil {
		b.subqueries = map[*querylang.Query]map[string]bool{}
	}
	b.subqueries[q] = set
	return set, nil
}

// valueKey is the comparison key of a stored value: equal values (a
// datetime and its UTC text included) have equal keys.
func valueKey(v any) string {
	if t, ok := v.(time.Time); ok {
		return formatDateTime(t)
	}
	return stringify(v)
}

// eval evaluates criteria against r.
func (b *batch) eval(r *record, e querylang.Expr) (bool, error) {
	switch x := e.(type) {
	case nil:
		return true, nil
	case *querylang.And:
		l, err := b.eval(r, x.Left)
		if err != nil || !l {
			return false, err
		}
		return b.eval(r, x.Right)
	case *querylang.Or:
		l, err := b.eval(r, x.Left)
		if err != nil || l {
			return l, err
		}
		return b.eval(r, x.Right)
	case *querylang.Not:
		v, err := b.eval(r, x.X)
		return !v, err
	case *querylang.Comparison:
		for _, v := range b.values(r, x.Path) {
			if compare(v, x.Op, x.Value) {
				return true, nil
			}
		}
		return false, nil
	case *querylang.In:
		vals := b.values(r, x.Path)
		var set map[string]bool
		if x.Subquery != nil {
			sv, err := b.subquerySet(x.Subquery)
			if err != nil {
				return false, err
			}
			set = sv
		}
		found := false
		for _, v := range vals {
			if x.Subquery != nil {
				if v != nil && set[valueKey(v)] {
					found = true
				}
			} else {
				for _, lit := range x.Values {
					if compare(v, querylang.OpEq, lit) {
						found = true
						break
					}
				}
			}
			if found {
				break
			}
		}
		if x.Negated {
			return !found, nil
		}
		return found, nil
	case *querylang.Relation:
		for _, target := range b.records(r, x.Path) {
			m, err := b.eval(target, x.Criteria)
			if err != nil {
				return false, err
			}
			if m {
				return true, nil
			}
		}
		return false, nil
	}
	return false, nil
}

// records returns the records a relation path leads to from r.
func (b *batch) records(r *record, path querylang.Path) []*record {
	cur := []*record{r}
	for _, name := range path {
		var next []*record
		for _, c := range cur {
			p, ok := c.typ.prop(name)
			if !ok {
				continue
			}
			switch p.Kind() {
			case schema.KindReference:
				if tr := b.resolveRef(c, name); tr != nil {
					next = append(next, tr)
				}
			case schema.KindCollection, schema.KindMapped:
				next = append(next, b.collection(c, name)...)
			}
		}
		cur = next
	}
	return cur
}

// values returns the values a path denotes from r: one value through
// references, one per item through collections. A reference at the end of
// the path stands for its primary key.
func (b *batch) values(r *record, path querylang.Path) []any {
	p, ok := r.typ.prop(path[0])
	if !ok {
		return nil
	}
	switch p.Kind() {
	case schema.KindReference:
		tr := b.resolveRef(r, path[0])
		if tr == nil {
			return []any{nil}
		}
		if len(path) == 1 {
			return []any{tr.key}
		}
		return b.values(tr, path[1:])
	case schema.KindCollection, schema.KindMapped:
		var out []any
		for _, item := range b.collection(r, path[0]) {
			if len(path) == 1 {
				out = append(out, item.key)
			} else {
				out = append(out, b.values(item, path[1:])...)
			}
		}
		return out
	}
	if len(path) > 1 {
		return nil
	}
	return []any{b.scalar(r, path[0])}
}

// compare reports whether stored value v satisfies "v op lit".
func compare(v any, op querylang.Operator, lit querylang.Value) bool {
	if lit.Kind == querylang.KindNull {
		switch op {
		case querylang.OpEq:
			return v == nil
		case querylang.OpNe:
			return v != nil
		}
		return false
	}
	if v == nil {
		return false
	}
	if op.IsLike() {
		s, ok := v.(string)
		if !ok {
			s = stringify(v)
		}
		m := querylang.MatchLike(strings.ToLower(lit.Str), strings.ToLower(s))
		if op == querylang.OpLike {
			return m
		}
		return !m
	}
	c, ok := compareLiteral(v, lit)
	if !ok {
		return op == querylang.OpNe
	}
	switch op {
	case querylang.OpEq:
		return c == 0
	case querylang.OpNe:
		return c != 0
	case querylang.OpLt:
		return c < 0
	case querylang.OpGt:
		return c > 0
	case querylang.OpLe:
		return c <= 0
	case querylang.OpGe:
		return c >= 0
	}
	return false
}

// compareLiteral orders a stored value against a literal; ok is false when
// they cannot be compared.
func compareLiteral(v any, lit querylang.Value) (int, bool) {
	switch x := v.(type) {
	case string:
		switch lit.Kind {
		case querylang.KindString, querylang.KindBare, querylang.KindNumber:
			return strings.Compare(x, lit.Str), true
		case querylang.KindBool:
			return strings.Compare(strings.ToLower(x), strconv.FormatBool(lit.Bool)), true
		}
	case float64:
		f := lit.Num
		if lit.Kind != querylang.KindNumber {
			var err error
			if f, err = strconv.ParseFloat(lit.Str, 64); err != nil {
				if lit.Kind == querylang.KindBool {
					f = 0
					if lit.Bool {
						f = 1
					}
				} else {
					return 0, false
				}
			}
		}
		return cmp.Compare(x, f), true
	case bool:
		var lb bool
		switch lit.Kind {
		case querylang.KindBool:
			lb = lit.Bool
		case querylang.KindNumber:
			lb = lit.Num != 0
		default:
			pb, err := strconv.ParseBool(strings.ToLower(lit.Str))
			if err != nil {
				return 0, false
			}
			lb = pb
		}
		switch {
		case x == lb:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	case time.Time:
		if lit.Kind != querylang.KindString && lit.Kind != querylang.KindBare {
			return 0, false
		}
		lt, ok := parseDateTime(lit.Str)
		if !ok {
			return 0, false
		}
		return x.Compare(lt), true
	default:
		return strings.Compare(stringify(v), lit.Str), true
	}
	return 0, false
}

func equalValues(a, b any) bool {
	if a == nil || b == nil {
		return false
	}
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return stringify(a) == stringify(b)
}

// orderValues sorts two stored values: nulls first, then by natural order.
func orderValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case float64:
		if y, ok := b.(float64); ok {
			return cmp.Compare(x, y)
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y)
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			}
			return 1
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(strings.ToLower(x), strings.ToLower(y))
		}
	}
	return strings.Compare(stringify(a), stringify(b))
}

func (b *batch) order(rows []*record, items []querylang.OrderItem) {
	if len(items) == 0 {
		return
	}
	keys := make(map[*record][]any, len(rows))
	for _, r := range rows {
		k := make([]any, len(items))
		for i, it := range items {
			if vs := b.values(r, it.Path); len(vs) > 0 {
				k[i] = vs[0]
			}
		}
		keys[r] = k
	}
	slices.SortStableFunc(rows, func(x, y *record) int {
		kx, ky := keys[x], keys[y]
		for i, it := range items {
			c := orderValues(kx[i], ky[i])
			if it.Descending {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
}
