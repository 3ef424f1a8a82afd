package querylang

import "strings"

// HasSelect reports whether expr parses and has a "select ... from" part,
// i.e. whether the client must not add default projections. Unlike the
// Python client, which looks for a lowercase leading "select", it accepts
// the keyword in any case. It returns false for an expression that does
// not parse; callers that go on to rewrite the query should call Parse and
// look at Query.Select instead.
func HasSelect(expr string) bool {
	q, err := Parse(expr)
	return err == nil && len(q.Select) > 0
}

// ParsePath parses a dotted attribute path such as "status.state.short".
func ParsePath(s string) (Path, error) {
	p := &parser{lex: lexer{src: s}}
	var path Path
	err := p.run(func() {
		p.advance()
		path = p.parsePath("expected attribute path")
		p.expectToken(tokEOF, "expected end of input")
	})
	return path, err
}

// ParseProjections parses a comma-separated projection list such as
// "name, status.state.short, count(id)", the attribute string the Python
// client's populate takes.
func ParseProjections(s string) ([]Projection, error) {
	p := &parser{lex: lexer{src: s}}
	var list []Projection
	err := p.run(func() {
		p.advance()
		list = p.parseProjections()
		p.expectToken(tokEOF, `expected "," or end of input`)
	})
	return list, err
}

// run calls f and turns a *SyntaxError panic into an error.
func (p *parser) run(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*SyntaxError)
			if !ok {
				panic(r)
			}
			err = se
		}
	}()
	f()
	return nil
}

// Clone returns a deep copy of q.
func (q *Query) Clone() *Query {
	if q == nil {
		return nil
	}
	c := &Query{
		EntityType: q.EntityType,
		Where:      CloneExpr(q.Where),
		Offset:     cloneInt(q.Offset),
		Limit:      cloneInt(q.Limit),
	}
	if q.Select != nil {
		c.Select = make([]Projection, len(q.Select))
		for i, p := range q.Select {
			c.Select[i] = Projection{Func: p.Func, Path: clonePath(p.Path)}
		}
	}
	if q.GroupBy != nil {
		c.GroupBy = make([]Path, len(q.GroupBy))
		for i, p := range q.GroupBy {
			c.GroupBy[i] = clonePath(p)
		}
	}
	if q.OrderBy != nil {
		c.OrderBy = make([]OrderItem, len(q.OrderBy))
		for i, o := range q.OrderBy {
			c.OrderBy[i] = OrderItem{Path: clonePath(o.Path), Descending: o.Descending}
		}
	}
	return c
}

// CloneExpr returns a deep copy of e.
func CloneExpr(e Expr) Expr {
	switch e := e.(type) {
	case *And:
		return &And{Left: CloneExpr(e.Left), Right: CloneExpr(e.Right)}
	case *Or:
		return &Or{Left: CloneExpr(e.Left), Right: CloneExpr(e.Right)}
	case *Not:
		return &Not{X: CloneExpr(e.X)}
	case *Comparison:
		return &Comparison{Path: clonePath(e.Path), Op: e.Op, Value: e.Value}
	case *In:
		c := &In{Path: clonePath(e.Path), Negated: e.Negated, Subquery: e.Subquery.Clone()}
		if e.Values != nil {
			c.Values = append([]Value(nil), e.Values...)
		}
		return c
	case *Relation:
		return &Relation{Path: clonePath(e.Path), Any: e.Any, Criteria: CloneExpr(e.Criteria)}
	}
	return e
}

func clonePath(p Path) Path {
	if p == nil {
		return nil
	}
	return append(Path(nil), p...)
}

func cloneInt(p *int) *int {
	if p == nil {
		return nil
	}
	n := *p
	return &n
}

func intPtr(n int) *int {
	if n < 0 {
		return nil
	}
	return &n
}

// WithPaging returns a copy of q with its offset and limit replaced, the
// way the Python client fetches one page ("<expr> offset <n> limit <size>").
// A negative offset or limit leaves that clause out.
func (q *Query) WithPaging(offset, limit int) *Query {
	c := q.Clone()
	c.Offset = intPtr(offset)
	c.Limit = intPtr(limit)
	return c
}

// WithLimit returns a copy of q with its limit replaced and its offset
// kept, as the Python client's one() ("limit 2") and first() ("limit 1")
// do. A negative limit leaves the clause out.
func (q *Query) WithLimit(limit int) *Query {
	c := q.Clone()
	c.Limit = intPtr(limit)
	return c
}

// WithoutPaging returns a copy of q without offset and limit, the base
// expression the Python client pages over.
func (q *Query) WithoutPaging() *Query {
	c := q.Clone()
	c.Offset, c.Limit = nil, nil
	return c
}

// WithDefaultSelect returns a copy of q that selects paths when q has no
// select list (the Python client's default-projection rewrite of
// "Task where …" into "select <default projections> from Task where …").
// When q already selects something, or paths is empty, the copy keeps q's
// select list.
func (q *Query) WithDefaultSelect(paths ...Path) *Query {
	c := q.Clone()
	if len(c.Select) == 0 && len(paths) > 0 {
		c.Select = make([]Projection, len(paths))
		for i, p := range paths {
			c.Select[i] = Projection{Path: clonePath(p)}
		}
	}
	return c
}

// AndAll joins exprs with "and", left-associatively, skipping nil entries.
// It returns nil when every entry is nil.
func AndAll(exprs ...Expr) Expr {
	var out Expr
	for _, e := range exprs {
		switch {
		case e == nil:
		case out == nil:
			out = e
		default:
			out = &And{Left: out, Right: e}
		}
	}
	return out
}

// OrAll joins exprs with "or", left-associatively, skipping nil entries.
// It returns nil when every entry is nil.
func OrAll(exprs ...Expr) Expr {
	var out Expr
	for _, e := range exprs {
		switch {
		case e == nil:
		case out == nil:
			out = e
		default:
			out = &Or{Left: out, Right: e}
		}
	}
	return out
}

// PathOf is a convenience for building paths: PathOf("status.state.short")
// splits on dots without validation.
func PathOf(dotted string) Path { return Path(strings.Split(dotted, ".")) }
