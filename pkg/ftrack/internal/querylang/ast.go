package querylang

import (
	"strconv"
	"strings"
)

// Query is a parsed query expression.
type Query struct {
	// Select lists the projections; empty when the expression had no
	// "select ... from".
	Select []Projection
	// EntityType is the queried entity type, e.g. "Task".
	EntityType string
	// Where is the criteria; nil when there is no where clause.
	Where Expr
	// GroupBy lists the "group by" paths.
	GroupBy []Path
	// OrderBy lists the "order by" items.
	OrderBy []OrderItem
	// Offset is the "offset" value; nil when absent.
	Offset *int
	// Limit is the "limit" value; nil when absent. Limit 0 is valid.
	Limit *int
}

// Path is a dotted attribute path, e.g. {"status", "state", "short"}.
type Path []string

// String returns the path joined with dots, e.g. "status.state.short".
func (p Path) String() string { return strings.Join(p, ".") }

// Projection is one item of a select list: an attribute path, optionally
// wrapped in an aggregate function.
type Projection struct {
	// Func is "" or one of "sum", "avg", "min", "max", "count" (lowercase).
	Func string
	// Path is the projected attribute path.
	Path Path
}

// String renders the projection, e.g. "name" or "count(id)".
func (p Projection) String() string {
	if p.Func == "" {
		return p.Path.String()
	}
	return p.Func + "(" + p.Path.String() + ")"
}

// OrderItem is one item of an "order by" clause.
type OrderItem struct {
	Path       Path
	Descending bool
}

// String renders the item, e.g. "name" or "name desc".
func (o OrderItem) String() string {
	if o.Descending {
		return o.Path.String() + " desc"
	}
	return o.Path.String()
}

// Expr is a node of the criteria tree: *And, *Or, *Not, *Comparison, *In or
// *Relation.
type Expr interface{ exprNode() }

// And is "Left and Right".
type And struct{ Left, Right Expr }

// Or is "Left or Right".
type Or struct{ Left, Right Expr }

// Not is "not X".
type Not struct{ X Expr }

// Comparison is "Path Op Value", e.g. name is "x" or bid >= 14400.
type Comparison struct {
	Path  Path
	Op    Operator
	Value Value
}

// In is "Path in (...)" or, when Negated, "Path not_in (...)". Exactly one of
// Values and Subquery is set.
type In struct {
	Path     Path
	Negated  bool
	Values   []Value
	Subquery *Query
}

// Relation is "Path has (Criteria)" or, when Any, "Path any (Criteria)".
// Criteria is nil for an empty pair of parentheses, as in "timelogs any ()".
type Relation struct {
	Path     Path
	Any      bool
	Criteria Expr
}

func (*And) exprNode()        {}
func (*Or) exprNode()         {}
func (*Not) exprNode()        {}
func (*Comparison) exprNode() {}
func (*In) exprNode()         {}
func (*Relation) exprNode()   {}

// Operator is a comparison operator. Synonyms are normalised at parse time.
type Operator int

// Comparison operators.
const (
	OpEq      Operator = iota + 1 // is, =
	OpNe                          // is_not, !=
	OpLt                          // <, before, less_than
	OpGt                          // >, after, greater_than
	OpLe                          // <=
	OpGe                          // >=
	OpLike                        // like
	OpNotLike                     // not_like
)

var operatorNames = [...]string{
	OpEq:      "is",
	OpNe:      "is_not",
	OpLt:      "<",
	OpGt:      ">",
	OpLe:      "<=",
	OpGe:      ">=",
	OpLike:    "like",
	OpNotLike: "not_like",
}

// String returns the canonical spelling: "is", "is_not", "<", ">", "<=",
// ">=", "like" or "not_like".
func (o Operator) String() string {
	if o >= OpEq && int(o) < len(operatorNames) {
		return operatorNames[o]
	}
	return "Operator(" + strconv.Itoa(int(o)) + ")"
}

// IsLike reports whether o is OpLike or OpNotLike, i.e. whether a string
// value of a comparison with o is a LIKE pattern.
func (o Operator) IsLike() bool { return o == OpLike || o == OpNotLike }

// ValueKind tells what kind of literal a Value is.
type ValueKind int

// Value kinds.
const (
	KindString ValueKind = iota + 1 // quoted string
	KindNumber                      // integer or decimal number
	KindBool                        // True / False
	KindNull                        // None / null
	KindBare                        // unquoted word such as a bare UUID
)

var kindNames = [...]string{
	KindString: "string",
	KindNumber: "number",
	KindBool:   "bool",
	KindNull:   "null",
	KindBare:   "bare",
}

// String returns a lowercase name of the kind, e.g. "string".
func (k ValueKind) String() string {
	if k >= KindString && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "ValueKind(" + strconv.Itoa(int(k)) + ")"
}

// Value is a literal on the right-hand side of a condition.
type Value struct {
	Kind ValueKind
	// Str is the decoded string for KindString (a LIKE pattern under
	// like/not_like, see the package documentation), and the token as
	// written for KindBare and KindNumber.
	Str string
	// Num is the number for KindNumber.
	Num float64
	// Bool is the boolean for KindBool.
	Bool bool
}

// StringValue returns a KindString value holding s.
func StringValue(s string) Value { return Value{Kind: KindString, Str: s} }

// NumberValue returns a KindNumber value holding f.
func NumberValue(f float64) Value {
	return Value{Kind: KindNumber, Str: strconv.FormatFloat(f, 'f', -1, 64), Num: f}
}

// IntValue returns a KindNumber value holding n.
func IntValue(n int) Value {
	return Value{Kind: KindNumber, Str: strconv.Itoa(n), Num: float64(n)}
}

// BoolValue returns a KindBool value holding b.
func BoolValue(b bool) Value { return Value{Kind: KindBool, Bool: b} }

// NullValue returns the KindNull value.
func NullValue() Value { return Value{Kind: KindNull} }

// BareValue returns a KindBare value holding word, e.g. an unquoted id.
// Query.String renders it quoted when word is not a valid bare word.
func BareValue(word string) Value { return Value{Kind: KindBare, Str: word} }
