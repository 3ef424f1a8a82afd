package querylang

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// astGen builds random queries whose every part is representable: paths and
// entity types drawn from a pool rich in keywords (the parser reserves
// keywords only where they are expected), all literal kinds, and every
// clause. It checks the contract of Query.String on trees the parser did
// not produce.
type astGen struct {
	r *rand.Rand
}

var (
	genIdents = []string{"a", "id", "name", "_x1", "from", "group", "order", "by", "select", "where", "and", "or",
		"in", "not_in", "has", "any", "is", "is_not", "like", "limit", "offset", "asc", "desc", "count", "sum", "None", "True", "not"}
	genEntities = []string{"Task", "Group", "group", "order", "limit", "offset", "and", "not", "None", "T_1"}
	genBare     = []string{uuid1, "active", "jenkins", "x:y", "1.", "-", "a-b", "and", "or", "not", "limit", "select", "is", "in", "nulls", "True1"}
	genChars    = []string{"a", "Z", " ", `"`, `'`, `\`, "%", "_", "é", "✓", "\n", "(", ")", ","}
	genPattern  = []string{"a", " ", `"`, `'`, "%", `\%`, `\\`, "é", "_"}
	genAggs     = []string{"", "", "", "sum", "avg", "min", "max", "count"}
)

func (g *astGen) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *astGen) path() Path {
	n := 1 + g.r.IntN(3)
	p := make(Path, n)
	for i := range p {
		p[i] = g.pick(genIdents)
	}
	return p
}

// condPath is a path that may start a condition: not the lone word "not".
func (g *astGen) condPath() Path {
	for {
		if p := g.path(); len(p) > 1 || p[0] != "not" {
			return p
		}
	}
}

func (g *astGen) value(like bool) Value {
	switch g.r.IntN(6) {
	case 0:
		var b strings.Builder
		for range g.r.IntN(6) {
			if like {
				b.WriteString(g.pick(genPattern))
			} else {
				b.WriteString(g.pick(genChars))
			}
		}
		return StringValue(b.String())
	case 1:
		if g.r.IntN(2) == 0 {
			return IntValue(g.r.IntN(2000) - 1000)
		}
		return NumberValue(float64(g.r.IntN(20000)-10000) / 8)
	case 2:
		return BoolValue(g.r.IntN(2) == 0)
	case 3:
		return NullValue()
	default:
		return BareValue(g.pick(genBare))
	}
}

func (g *astGen) expr(depth int) Expr {
	k := g.r.IntN(7)
	if depth <= 0 {
		k = 3 + g.r.IntN(2)
	}
	switch k {
	case 0:
		return &And{Left: g.expr(depth - 1), Right: g.expr(depth - 1)}
	case 1:
		return &Or{Left: g.expr(depth - 1), Right: g.expr(depth - 1)}
	case 2:
		return &Not{X: g.expr(depth - 1)}
	case 3:
		op := Operator(1 + g.r.IntN(int(OpNotLike)))
		return &Comparison{Path: g.condPath(), Op: op, Value: g.value(op.IsLike())}
	case 4:
		in := &In{Path: g.condPath(), Negated: g.r.IntN(2) == 0}
		for range 1 + g.r.IntN(3) {
			v := g.value(false)
			if len(in.Values) == 0 && v.Kind == KindBare && v.Str == "select" {
				continue // would open a sub-query; String quotes it
			}
			in.Values = append(in.Values, v)
		}
		if len(in.Values) == 0 {
			in.Values = []Value{NullValue()}
		}
		return in
	case 5:
		if depth < 2 {
			return g.expr(0)
		}
		sub := g.query(depth - 2)
		sub.Select = sub.Select[:0]
		sub.Select = append(sub.Select, Projection{Func: g.pick(genAggs), Path: g.path()})
		return &In{Path: g.condPath(), Negated: g.r.IntN(2) == 0, Subquery: sub}
	default:
		r := &Relation{Path: g.condPath(), Any: g.r.IntN(2) == 0}
		if g.r.IntN(3) > 0 {
			r.Criteria = g.expr(depth - 1)
		}
		return r
	}
}

func (g *astGen) query(depth int) *Query {
	q := &Query{EntityType: g.pick(genEntities)}
	if g.r.IntN(3) > 0 {
		for range 1 + g.r.IntN(3) {
			q.Select = append(q.Select, Projection{Func: g.pick(genAggs), Path: g.path()})
		}
	}
	if q.Select == nil && strings.EqualFold(q.EntityType, "select") {
		q.EntityType = "Task"
	}
	if g.r.IntN(4) > 0 {
		q.Where = g.expr(depth)
	}
	if g.r.IntN(4) == 0 {
		for range 1 + g.r.IntN(2) {
			q.GroupBy = append(q.GroupBy, g.path())
		}
	}
	if g.r.IntN(3) == 0 {
		for range 1 + g.r.IntN(2) {
			q.OrderBy = append(q.OrderBy, OrderItem{Path: g.path(), Descending: g.r.IntN(2) == 0})
		}
	}
	if g.r.IntN(2) == 0 {
		q.Offset = ip(g.r.IntN(1000))
	}
	if g.r.IntN(2) == 0 {
		q.Limit = ip(g.r.IntN(1000))
	}
	return q
}

func TestStringRoundTripRandomTrees(t *testing.T) {
	t.Parallel()
	g := &astGen{r: rand.New(rand.NewPCG(1, 2))}
	const trees = 20000
	for i := range trees {
		q := g.query(4)
		text := q.String()
		got, err := Parse(text)
		if err != nil {
			t.Fatalf("tree %d: Parse(%q): %v", i, text, err)
		}
		if diff := cmp.Diff(q, got); diff != "" {
			t.Fatalf("tree %d: Parse(%q) differs (-built +parsed):\n%s", i, text, diff)
		}
	}
}
