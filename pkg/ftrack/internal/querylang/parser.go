package querylang

import (
	"strconv"
	"strings"
)

// MaxDepth is the deepest nesting of parentheses, "not", has/any relations
// and sub-queries (the query itself counts as one level) that Parse accepts.
const MaxDepth = 100

// Parse parses a query expression. The error, if any, is a *SyntaxError
// whose Pos is the byte offset of the problem.
func Parse(expr string) (q *Query, err error) {
	p := &parser{lex: lexer{src: expr}}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*SyntaxError)
			if !ok {
				panic(r)
			}
			q, err = nil, se
		}
	}()
	p.advance()
	return p.parseQuery(false), nil
}

// parser is a recursive-descent parser over a lazily lexed token stream.
// Errors are raised by panicking with a *SyntaxError, recovered in Parse.
type parser struct {
	lex      lexer
	tok      token // current token
	ahead    token // next token when hasAhead
	hasAhead bool
	depth    int
	paths    []string // backing array for the parts of parsed paths
}

func (p *parser) advance() {
	if p.hasAhead {
		p.tok, p.hasAhead = p.ahead, false
		return
	}
	p.tok = p.lex.next()
}

func (p *parser) peek() token {
	if !p.hasAhead {
		p.ahead, p.hasAhead = p.lex.next(), true
	}
	return p.ahead
}

func (p *parser) isKeyword(kw string) bool {
	return p.tok.kind == tokWord && strings.EqualFold(p.tok.text, kw)
}

// fail reports that msg was expected (or went wrong) at the current token.
func (p *parser) fail(msg string) {
	panic(&SyntaxError{Pos: p.tok.pos, Msg: msg, Found: p.tok.describe()})
}

func (p *parser) failHint(msg, hint string) {
	panic(&SyntaxError{Pos: p.tok.pos, Msg: msg, Found: p.tok.describe(), Hint: hint})
}

func (p *parser) expectKeyword(kw, msg string) {
	if !p.isKeyword(kw) {
		p.fail(msg)
	}
	p.advance()
}

func (p *parser) expectToken(kind tokenKind, msg string) {
	if p.tok.kind != kind {
		p.fail(msg)
	}
	p.advance()
}

func (p *parser) enter() {
	p.depth++
	if p.depth > MaxDepth {
		panic(&SyntaxError{
			Pos:  p.tok.pos,
			Msg:  "expression nested too deeply",
			Hint: "at most " + strconv.Itoa(MaxDepth) + " levels of parentheses, not, has/any and sub-queries are allowed",
		})
	}
}

func (p *parser) leave() { p.depth-- }

// query clauses, in the order they must appear.
const (
	stageEntity = iota
	stageWhere
	stageGroup
	stageOrder
	stagePaging
)

func (p *parser) parseQuery(sub bool) *Query {
	p.enter()
	q := &Query{}
	entityMsg := `expected "select" or an entity type`
	if p.isKeyword("select") {
		p.advance()
		q.Select = p.parseProjections()
		p.expectKeyword("from", `expected "," or "from"`)
		entityMsg = "expected entity type"
	}
	q.EntityType = p.parseEntityType(entityMsg)
	stage := stageEntity
	if p.isKeyword("where") {
		p.advance()
		q.Where = p.parseOr()
		stage = stageWhere
	}
	if p.isKeyword("group") {
		p.advance()
		p.expectKeyword("by", `expected "by" after "group"`)
		q.GroupBy = p.parsePathList()
		stage = stageGroup
	}
	if p.isKeyword("order") {
		p.advance()
		p.expectKeyword("by", `expected "by" after "order"`)
		q.OrderBy = p.parseOrderItems()
		stage = stageOrder
	}
	for {
		switch {
		case q.Offset == nil && p.isKeyword("offset"):
			p.advance()
			n := p.parseInt("offset")
			q.Offset = &n
		case q.Limit == nil && p.isKeyword("limit"):
			p.advance()
			n := p.parseInt("limit")
			q.Limit = &n
		default:
			goto end
		}
		stage = stagePaging
	}
end:
	if sub && p.tok.kind == tokRParen || !sub && p.tok.kind == tokEOF {
		p.leave()
		return q
	}
	p.failEndOfQuery(q, stage, sub)
	return nil
}

// failEndOfQuery reports an unexpected token after a complete query,
// listing what could have followed.
func (p *parser) failEndOfQuery(q *Query, stage int, sub bool) {
	var want []string
	switch stage {
	case stageEntity:
		want = append(want, `"where"`)
	case stageWhere:
		want = append(want, `"and"`, `"or"`)
	case stageGroup, stageOrder:
		want = append(want, `","`)
	}
	if stage < stageGroup {
		want = append(want, `"group by"`)
	}
	if stage < stageOrder {
		want = append(want, `"order by"`)
	}
	if q.Offset == nil {
		want = append(want, `"offset"`)
	}
	if q.Limit == nil {
		want = append(want, `"limit"`)
	}
	if sub {
		want = append(want, `")"`)
	} else {
		want = append(want, "end of input")
	}
	msg := "expected " + strings.Join(want[:len(want)-1], ", ") + " or " + want[len(want)-1]
	hint := ""
	if p.tok.kind == tokWord {
		switch w := strings.ToLower(p.tok.text); w {
		case "offset", "limit":
			hint = `"` + w + `" may appear only once`
		case "select", "from", "where", "group", "order":
			hint = "clauses must come in the order select … from, where, group by, order by, offset/limit"
		}
	}
	p.failHint(msg, hint)
}

func (p *parser) parseEntityType(msg string) string {
	t := p.tok
	if t.kind != tokWord || !isIdent(t.text) {
		p.fail(msg)
	}
	switch strings.ToLower(t.text) {
	case "select", "from", "where":
		p.fail(msg)
	}
	p.advance()
	return t.text
}

var aggregates = map[string]bool{"sum": true, "avg": true, "min": true, "max": true, "count": true}

func (p *parser) parseProjections() []Projection {
	var list []Projection
	for {
		list = append(list, p.parseProjection())
		if p.tok.kind != tokComma {
			return list
		}
		p.advance()
	}
}

func (p *parser) parseProjection() Projection {
	if p.tok.kind == tokWord && p.peek().kind == tokLParen {
		name := strings.ToLower(p.tok.text)
		if !aggregates[name] {
			p.failHint("unknown aggregate function", "use sum, avg, min, max or count")
		}
		p.advance()
		p.advance()
		path := p.parsePath("expected attribute path")
		p.expectToken(tokRParen, `expected ")"`)
		return Projection{Func: name, Path: path}
	}
	return Projection{Path: p.parsePath("expected attribute path")}
}

func (p *parser) parsePath(msg string) Path {
	if p.tok.kind != tokWord {
		p.fail(msg)
	}
	path, ok := p.splitPath(p.tok.text)
	if !ok {
		p.failHint("invalid attribute path",
			`each part of a path must start with a letter or "_" and contain only letters, digits and "_"`)
	}
	p.advance()
	return path
}

func (p *parser) parsePathList() []Path {
	var list []Path
	for {
		list = append(list, p.parsePath("expected attribute path"))
		if p.tok.kind != tokComma {
			return list
		}
		p.advance()
	}
}

func (p *parser) parseOrderItems() []OrderItem {
	var list []OrderItem
	for {
		item := OrderItem{Path: p.parsePath("expected attribute path")}
		if p.tok.kind == tokWord {
			switch strings.ToLower(p.tok.text) {
			case "desc", "descending":
				item.Descending = true
				p.advance()
			case "asc", "ascending":
				p.advance()
			}
		}
		list = append(list, item)
		if p.tok.kind != tokComma {
			return list
		}
		p.advance()
	}
}

func (p *parser) parseInt(keyword string) int {
	t := p.tok
	if t.kind != tokWord || !isDigits(t.text) {
		p.fail(`expected a non-negative integer after "` + keyword + `"`)
	}
	n, err := strconv.Atoi(t.text)
	if err != nil {
		p.fail(keyword + " is too large")
	}
	p.advance()
	return n
}

func (p *parser) parseOr() Expr {
	left := p.parseAnd()
	for p.isKeyword("or") {
		p.advance()
		left = &Or{Left: left, Right: p.parseAnd()}
	}
	return left
}

func (p *parser) parseAnd() Expr {
	left := p.parseUnary()
	for p.isKeyword("and") {
		p.advance()
		left = &And{Left: left, Right: p.parseUnary()}
	}
	return left
}

func (p *parser) parseUnary() Expr {
	if p.isKeyword("not") {
		p.enter()
		p.advance()
		e := &Not{X: p.parseUnary()}
		p.leave()
		return e
	}
	if p.tok.kind == tokLParen {
		p.enter()
		p.advance()
		e := p.parseOr()
		p.expectToken(tokRParen, `expected "and", "or" or ")"`)
		p.leave()
		return e
	}
	path := p.parsePath(`expected attribute path, "not" or "("`)
	return p.parseCondition(path)
}

var symbolOps = map[string]Operator{
	"=": OpEq, "!=": OpNe, "<": OpLt, ">": OpGt, "<=": OpLe, ">=": OpGe,
}

var wordOps = map[string]Operator{
	"is":           OpEq,
	"is_not":       OpNe,
	"before":       OpLt,
	"less_than":    OpLt,
	"after":        OpGt,
	"greater_than": OpGt,
	"like":         OpLike,
	"not_like":     OpNotLike,
}

func (p *parser) parseCondition(path Path) Expr {
	t := p.tok
	switch t.kind {
	case tokOp:
		op := symbolOps[t.text]
		p.advance()
		return &Comparison{Path: path, Op: op, Value: p.parseValue(op.IsLike(), "expected value")}
	case tokWord:
		w := strings.ToLower(t.text)
		if op, ok := wordOps[w]; ok {
			p.advance()
			if op == OpEq && p.isKeyword("not") && startsValue(p.peek()) {
				p.failHint(`expected value`, `for "not equal" write "is_not"`)
			}
			return &Comparison{Path: path, Op: op, Value: p.parseValue(op.IsLike(), "expected value")}
		}
		switch w {
		case "in", "not_in":
			p.advance()
			return p.parseIn(path, w == "not_in")
		case "has", "any":
			p.advance()
			return p.parseRelation(path, w == "any")
		}
	}
	p.failHint("expected operator after attribute path "+strconv.Quote(path.String()),
		`operators: is, is_not, =, !=, <, >, <=, >=, before, after, less_than, greater_than, like, not_like, in, not_in, has, any`)
	return nil
}

// startsValue reports whether t can only be read as a value here: a string
// or a word that cannot continue a query after a complete condition. It
// tells "a is not None" (a mistake for is_not) from the bare value "not"
// in "a is not and b is 1".
func startsValue(t token) bool {
	switch t.kind {
	case tokString:
		return true
	case tokWord:
		switch strings.ToLower(t.text) {
		case "and", "or", "group", "order", "offset", "limit":
			return false
		}
		return true
	}
	return false
}

func (p *parser) parseValue(like bool, msg string) Value {
	t := p.tok
	switch t.kind {
	case tokString:
		p.advance()
		return Value{Kind: KindString, Str: decodeString(t.text, like)}
	case tokWord:
		v, ok := classifyWord(t.text)
		if !ok {
			p.fail("number out of range")
		}
		p.advance()
		return v
	}
	p.fail(msg)
	return Value{}
}

func (p *parser) parseIn(path Path, negated bool) Expr {
	kw := "in"
	if negated {
		kw = "not_in"
	}
	p.expectToken(tokLParen, `expected "(" after "`+kw+`"`)
	in := &In{Path: path, Negated: negated}
	if p.isKeyword("select") {
		t := p.tok
		sub := p.parseQuery(true)
		if len(sub.Select) != 1 {
			panic(&SyntaxError{
				Pos:  t.pos,
				Msg:  "sub-query must select exactly one attribute",
				Hint: "e.g. (select id from Task where …)",
			})
		}
		in.Subquery = sub
		p.advance() // ")", checked by parseQuery
		return in
	}
	for {
		in.Values = append(in.Values, p.parseValue(false, `expected value or "select"`))
		if p.tok.kind != tokComma {
			break
		}
		p.advance()
	}
	p.expectToken(tokRParen, `expected "," or ")"`)
	return in
}

func (p *parser) parseRelation(path Path, anyItem bool) Expr {
	kw := "has"
	if anyItem {
		kw = "any"
	}
	p.expectToken(tokLParen, `expected "(" after "`+kw+`"`)
	r := &Relation{Path: path, Any: anyItem}
	if p.tok.kind == tokRParen {
		p.advance()
		return r
	}
	p.enter()
	r.Criteria = p.parseOr()
	p.expectToken(tokRParen, `expected "and", "or" or ")"`)
	p.leave()
	return r
}

// classifyWord turns a bare word in value position into a Value. It returns
// false for a number that does not fit a float64.
func classifyWord(w string) (Value, bool) {
	if isNumber(w) {
		f, err := strconv.ParseFloat(w, 64)
		if err != nil {
			return Value{}, false
		}
		return Value{Kind: KindNumber, Str: w, Num: f}, true
	}
	switch {
	case strings.EqualFold(w, "none"), strings.EqualFold(w, "null"):
		return Value{Kind: KindNull}, true
	case strings.EqualFold(w, "true"):
		return Value{Kind: KindBool, Bool: true}, true
	case strings.EqualFold(w, "false"):
		return Value{Kind: KindBool}, true
	}
	return Value{Kind: KindBare, Str: w}, true
}

// isNumber reports whether w matches -?DIGITS(.DIGITS)?.
func isNumber(w string) bool {
	i := 0
	if i < len(w) && w[i] == '-' {
		i++
	}
	j := i
	for j < len(w) && w[j] >= '0' && w[j] <= '9' {
		j++
	}
	if j == i {
		return false
	}
	if j == len(w) {
		return true
	}
	if w[j] != '.' {
		return false
	}
	return isDigits(w[j+1:])
}

func isDigits(w string) bool {
	if w == "" {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return true
}

// isIdent reports whether s matches [A-Za-z_][A-Za-z0-9_]*.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// splitPath splits a dotted path and validates every part. Paths are cut
// from a shared backing array with their capacity capped, so appending to
// one never writes into another.
func (p *parser) splitPath(s string) (Path, bool) {
	n := strings.Count(s, ".") + 1
	if len(p.paths)+n > cap(p.paths) {
		p.paths = make([]string, 0, max(32, n))
	}
	start := len(p.paths)
	path := p.paths[start : start : start+n]
	p.paths = p.paths[:start+n]
	for {
		i := strings.IndexByte(s, '.')
		part := s
		if i >= 0 {
			part = s[:i]
		}
		if !isIdent(part) {
			return nil, false
		}
		path = append(path, part)
		if i < 0 {
			return path, true
		}
		s = s[i+1:]
	}
}
