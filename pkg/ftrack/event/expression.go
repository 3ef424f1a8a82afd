package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrParse is wrapped by every error ParseExpression returns.
var ErrParse = errors.New("event: invalid expression")

// Operator is a comparison operator of an expression condition.
type Operator string

// The comparison operators of the expression language.
const (
	OpEqual        Operator = "="
	OpNotEqual     Operator = "!="
	OpGreaterEqual Operator = ">="
	OpLessEqual    Operator = "<="
	OpGreater      Operator = ">"
	OpLess         Operator = "<"
)

// Expression is a parsed subscription or target expression, the language the
// ftrack clients use to select events ("topic=ftrack.update and
// source.user.username=jane") and subscribers ("id=<hub id>").
//
// Grammar (keywords are case-insensitive; precedence not > and > or):
//
//	expr      := or_expr
//	or_expr   := and_expr ( "or" and_expr )*
//	and_expr  := not_expr ( "and" not_expr )*
//	not_expr  := "not" not_expr | atom
//	atom      := condition | "(" expr ")"
//	condition := FIELD OP VALUE
//	FIELD     := [A-Za-z0-9_.]+
//	OP        := "=" | "!=" | ">=" | "<=" | ">" | "<"
//	VALUE     := '…' | "…" | [A-Za-z0-9\-_,./*@+]+
//
// Quoted values keep backslash escapes verbatim (they are not decoded), as the
// Python client does. An Expression is immutable and safe for concurrent use.
type Expression struct {
	root node
}

// ParseExpression parses s. Whitespace between tokens is optional. An empty
// or malformed expression yields an error wrapping ErrParse.
func ParseExpression(s string) (*Expression, error) {
	p := &parser{src: s}
	p.skipSpace()
	if p.eof() {
		return nil, fmt.Errorf("%w: empty expression", ErrParse)
	}
	root, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.errorf("unexpected %q", p.rest())
	}
	return &Expression{root: root}, nil
}

// MustParseExpression is like ParseExpression but panics on error. It is
// meant for expressions that are constants of the program.
func MustParseExpression(s string) *Expression {
	e, err := ParseExpression(s)
	if err != nil {
		panic(err)
	}
	return e
}

// Match reports whether candidate satisfies the expression.
//
// A condition's field is a dotted path into candidate; nested values must be
// map[string]any (or map[string]string). A missing key, a path through a
// non-map value, or a final value that is nil, a map or a slice never
// matches, whatever the operator (so "a!=x" is false when a is absent).
//
// The expression value is a string and comparisons are string comparisons
// (byte-wise, which orders UTF-8 text by code point). Scalar candidate values
// are first formatted: strings as they are, booleans as "true"/"false",
// numbers in their shortest decimal form without exponent where possible
// (1 → "1", 2.5 → "2.5"), json.Number verbatim. Ordering is therefore
// lexicographic, also for numbers ("10" < "9").
//
// "=" with a value ending in "*" is a prefix match: topic=ftrack.* matches
// every topic starting with "ftrack.". This follows the documentation and the
// JavaScript client (the Python client tests substring containment). Other
// operators treat "*" literally.
func (e *Expression) Match(candidate map[string]any) bool {
	if e == nil || e.root == nil {
		return false
	}
	return e.root.match(candidate)
}

// String returns the expression in canonical form: keywords in lower case,
// single spaces around keywords, no spaces around operators, parentheses only
// where the structure needs them. Parsing the result yields an equivalent
// expression with the same String.
func (e *Expression) String() string {
	if e == nil || e.root == nil {
		return ""
	}
	var b strings.Builder
	e.root.write(&b)
	return b.String()
}

// node is one element of the expression tree.
type node interface {
	match(candidate map[string]any) bool
	write(b *strings.Builder)
	precedence() int
}

const (
	precOr = iota + 1
	precAnd
	precNot
	precAtom
)

type orNode struct{ left, right node }
type andNode struct{ left, right node }
type notNode struct{ operand node }

type condition struct {
	field []string
	op    Operator
	value string
	quote byte // 0 for a bare value
}

func (n orNode) match(c map[string]any) bool  { return n.left.match(c) || n.right.match(c) }
func (n andNode) match(c map[string]any) bool { return n.left.match(c) && n.right.match(c) }
func (n notNode) match(c map[string]any) bool { return !n.operand.match(c) }

func (orNode) precedence() int    { return precOr }
func (andNode) precedence() int   { return precAnd }
func (notNode) precedence() int   { return precNot }
func (condition) precedence() int { return precAtom }

// writeOperand writes child, parenthesised when its precedence is below min.
func writeOperand(b *strings.Builder, child node, minPrec int) {
	if child.precedence() < minPrec {
		b.WriteByte('(')
		child.write(b)
		b.WriteByte(')')
		return
	}
	child.write(b)
}

// The binary operators are left-associative, so a right operand of the same
// precedence needs parentheses to keep the tree shape.
func (n orNode) write(b *strings.Builder) {
	writeOperand(b, n.left, precOr)
	b.WriteString(" or ")
	writeOperand(b, n.right, precOr+1)
}

func (n andNode) write(b *strings.Builder) {
	writeOperand(b, n.left, precAnd)
	b.WriteString(" and ")
	writeOperand(b, n.right, precAnd+1)
}

func (n notNode) write(b *strings.Builder) {
	b.WriteString("not ")
	writeOperand(b, n.operand, precNot)
}

func (n condition) write(b *strings.Builder) {
	b.WriteString(strings.Join(n.field, "."))
	b.WriteString(string(n.op))
	if n.quote == 0 {
		b.WriteString(n.value)
		return
	}
	b.WriteByte(n.quote)
	b.WriteString(n.value)
	b.WriteByte(n.quote)
}

func (n condition) match(candidate map[string]any) bool {
	var cur any = candidate
	for _, key := range n.field {
		switch m := cur.(type) {
		case map[string]any:
			v, ok := m[key]
			if !ok {
				return false
			}
			cur = v
		case map[string]string:
			v, ok := m[key]
			if !ok {
				return false
			}
			cur = v
		default:
			return false
		}
	}
	got, ok := scalarString(cur)
	if !ok {
		return false
	}
	want := n.value
	switch n.op {
	case OpEqual:
		if prefix, wildcard := strings.CutSuffix(want, "*"); wildcard {
			return strings.HasPrefix(got, prefix)
		}
		return got == want
	case OpNotEqual:
		return got != want
	case OpGreaterEqual:
		return got >= want
	case OpLessEqual:
		return got <= want
	case OpGreater:
		return got > want
	case OpLess:
		return got < want
	}
	return false
}

// scalarString formats a candidate value for comparison; see Match.
func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32), true
	case int:
		return strconv.FormatInt(int64(v), 10), true
	case int8:
		return strconv.FormatInt(int64(v), 10), true
	case int16:
		return strconv.FormatInt(int64(v), 10), true
	case int32:
		return strconv.FormatInt(int64(v), 10), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case uint:
		return strconv.FormatUint(uint64(v), 10), true
	case uint8:
		return strconv.FormatUint(uint64(v), 10), true
	case uint16:
		return strconv.FormatUint(uint64(v), 10), true
	case uint32:
		return strconv.FormatUint(uint64(v), 10), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	case json.Number:
		return v.String(), true
	}
	return "", false
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 200

type parser struct {
	src string
	pos int
}

func (p *parser) eof() bool    { return p.pos >= len(p.src) }
func (p *parser) rest() string { return p.src[p.pos:] }
func (p *parser) peek() byte   { return p.src[p.pos] }
func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", ErrParse, p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) skipSpace() {
	for !p.eof() {
		switch p.peek() {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func isFieldByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

func isBareValueByte(c byte) bool {
	if isFieldByte(c) {
		return true
	}
	switch c {
	case '-', ',', '/', '*', '@', '+':
		return true
	}
	return false
}

// isIdentByte reports whether c continues a keyword-like identifier; a keyword
// must not be followed by one (pyparsing's Keyword identChars).
func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$'
}

// keyword consumes kw (case-insensitively) at the current position, after
// optional whitespace, when it is not followed by an identifier byte.
func (p *parser) keyword(kw string) bool {
	save := p.pos
	p.skipSpace()
	end := p.pos + len(kw)
	if end <= len(p.src) && strings.EqualFold(p.src[p.pos:end], kw) &&
		(end == len(p.src) || !isIdentByte(p.src[end])) {
		p.pos = end
		return true
	}
	p.pos = save
	return false
}

func (p *parser) parseOr(depth int) (node, error) {
	left, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		right, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		left = orNode{left, right}
	}
	return left, nil
}

func (p *parser) parseAnd(depth int) (node, error) {
	left, err := p.parseNot(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		right, err := p.parseNot(depth)
		if err != nil {
			return nil, err
		}
		left = andNode{left, right}
	}
	return left, nil
}

func (p *parser) parseNot(depth int) (node, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested too deeply")
	}
	if p.keyword("not") {
		operand, err := p.parseNot(depth + 1)
		if err != nil {
			return nil, err
		}
		return notNode{operand}, nil
	}
	return p.parseAtom(depth)
}

func (p *parser) parseAtom(depth int) (node, error) {
	p.skipSpace()
	if p.eof() {
		return nil, p.errorf("unexpected end of expression")
	}
	if p.peek() == '(' {
		p.pos++
		inner, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.eof() || p.peek() != ')' {
			return nil, p.errorf("missing closing parenthesis")
		}
		p.pos++
		return inner, nil
	}
	return p.parseCondition()
}

func (p *parser) parseCondition() (node, error) {
	start := p.pos
	for !p.eof() && isFieldByte(p.peek()) {
		p.pos++
	}
	if p.pos == start {
		return nil, p.errorf("expected a field name")
	}
	field := p.src[start:p.pos]
	p.skipSpace()
	op, err := p.parseOperator()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() {
		return nil, p.errorf("expected a value")
	}
	c := condition{field: strings.Split(field, "."), op: op}
	switch q := p.peek(); q {
	case '"', '\'':
		value, err := p.parseQuoted(q)
		if err != nil {
			return nil, err
		}
		c.value, c.quote = value, q
	default:
		start := p.pos
		for !p.eof() && isBareValueByte(p.peek()) {
			p.pos++
		}
		if p.pos == start {
			return nil, p.errorf("expected a value")
		}
		c.value = p.src[start:p.pos]
	}
	return c, nil
}

func (p *parser) parseOperator() (Operator, error) {
	for _, op := range []Operator{OpNotEqual, OpGreaterEqual, OpLessEqual, OpEqual, OpGreater, OpLess} {
		if strings.HasPrefix(p.rest(), string(op)) {
			p.pos += len(op)
			return op, nil
		}
	}
	return "", p.errorf("expected an operator")
}

// parseQuoted reads a string quoted with q. A backslash keeps the next byte
// in the string (so \" does not end it) and both stay in the value; line
// breaks are not allowed inside quotes.
func (p *parser) parseQuoted(q byte) (string, error) {
	open := p.pos
	p.pos++
	start := p.pos
	for !p.eof() {
		switch c := p.peek(); c {
		case q:
			value := p.src[start:p.pos]
			p.pos++
			return value, nil
		case '\\':
			p.pos += 2
		case '\n', '\r':
			p.pos = open
			return "", p.errorf("line break in quoted value")
		default:
			p.pos++
		}
	}
	p.pos = open
	return "", p.errorf("unterminated quoted value")
}
