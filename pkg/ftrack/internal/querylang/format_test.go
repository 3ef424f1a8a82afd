package querylang

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQueryStringCanonical(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		expr   string
		want   string
	}{
		"synonyms": {reason: "operators render in their canonical spelling",
			expr: `Task where a = 1 and b != 2 and c after 3 and d greater_than 4 and e before 5 and f less_than 6 and g<=7 and h>=8`,
			want: `Task where a is 1 and b is_not 2 and c > 3 and d > 4 and e < 5 and f < 6 and g <= 7 and h >= 8`},
		"keywords lowercase": {reason: "keywords render lowercase",
			expr: `SELECT COUNT(id) FROM Task WHERE a IS 1 GROUP BY b ORDER BY c ASCENDING, d DESCENDING LIMIT 1 OFFSET 2`,
			want: `select count(id) from Task where a is 1 group by b order by c, d desc offset 2 limit 1`},
		"literals": {reason: "literals render canonically",
			expr: `Task where a in ('x', "y\"z", 'it\'s', 007, -1.50, none, NULL, true, FALSE, bare-word)`,
			want: `Task where a in ("x", "y\"z", "it's", 007, -1.50, None, None, True, False, bare-word)`},
		"escapes": {reason: "backslashes and quotes are escaped; like patterns keep \\%",
			expr: `Task where a is "C:\temp\\x" and b like '50\% "off" %' and c is "50\%"`,
			want: `Task where a is "C:\\temp\\x" and b like "50\% \"off\" %" and c is "50%"`},
		"minimal parentheses": {reason: "parentheses only where precedence needs them",
			expr: `Task where ((a is 1 and b is 2) or (c is 3)) and (not (d is 4)) and (e is 5 or (f is 6 or g is 7))`,
			want: `Task where (a is 1 and b is 2 or c is 3) and not d is 4 and (e is 5 or (f is 6 or g is 7))`},
		"not groups": {reason: "not over a conjunction keeps its parentheses",
			expr: `Task where not (a is 1 and b is 2) or not (c is 3 or d is 4)`,
			want: `Task where not (a is 1 and b is 2) or not (c is 3 or d is 4)`},
		"right-nested and": {reason: "a right-nested and keeps its parentheses",
			expr: `Task where a is 1 and (b is 2 and c is 3)`,
			want: `Task where a is 1 and (b is 2 and c is 3)`},
		"relations and subqueries": {reason: "relations and sub-queries",
			expr: `Task where parent has(name is x) and timelogs any() and id not_in(select id from Task where a in (1,2))`,
			want: `Task where parent has (name is x) and timelogs any () and id not_in (select id from Task where a in (1, 2))`},
		"metadata gotcha": {reason: "the populate composite shape",
			expr: `select value from Metadata where (parent_id is "p1"and key is "k1") or (parent_id is "p2"and key is "k2")`,
			want: `select value from Metadata where parent_id is "p1" and key is "k1" or parent_id is "p2" and key is "k2"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			q, err := Parse(tc.expr)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.expr, err)
			}
			if diff := cmp.Diff(tc.want, q.String()); diff != "" {
				t.Errorf("%s\nString() (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestStringRoundTripHandBuilt(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		query  *Query
		want   *Query // nil means the query itself
		text   string
	}{
		"right-nested or": {reason: "a right-nested or keeps its shape",
			query: where(&Or{cmpE("a", OpEq, num("1", 1)), &Or{cmpE("b", OpEq, num("2", 2)), cmpE("c", OpEq, num("3", 3))}}),
			text:  `Task where a is 1 or (b is 2 or c is 3)`},
		"or inside and inside not": {reason: "parentheses are added where needed",
			query: where(&Not{&And{&Or{cmpE("a", OpEq, null()), cmpE("b", OpEq, null())}, &Not{cmpE("c", OpEq, null())}}}),
			text:  `Task where not ((a is None or b is None) and not c is None)`},
		"bare that looks like a number": {reason: "a bare value that would read back as a number is quoted",
			query: where(cmpE("a", OpEq, bare("10"))),
			want:  where(cmpE("a", OpEq, str("10"))),
			text:  `Task where a is "10"`},
		"bare with space": {reason: "a bare value with invalid characters is quoted",
			query: where(cmpE("a", OpEq, bare("x y"))),
			want:  where(cmpE("a", OpEq, str("x y"))),
			text:  `Task where a is "x y"`},
		"bare none": {reason: "a bare None would read back as null, so it is quoted",
			query: where(cmpE("a", OpEq, bare("None"))),
			want:  where(cmpE("a", OpEq, str("None"))),
			text:  `Task where a is "None"`},
		"number from constructor": {reason: "NumberValue formats the float",
			query: where(&In{Path: path("a"), Values: []Value{NumberValue(-2.5), IntValue(14400), NumberValue(1e21)}}),
			text:  `Task where a in (-2.5, 14400, 1000000000000000000000)`},
		"number without token": {reason: "a number without Str is formatted from Num",
			query: where(cmpE("a", OpEq, Value{Kind: KindNumber, Num: 3})),
			want:  where(cmpE("a", OpEq, num("3", 3))),
			text:  `Task where a is 3`},
		"constructors": {reason: "value constructors",
			query: where(&In{Path: path("a"), Values: []Value{StringValue(`q"\`), BoolValue(false), NullValue(), BareValue(uuid1)}}),
			text:  `Task where a in ("q\"\\", False, None, ` + uuid1 + `)`},
		"like pattern": {reason: "an escaped ordinary character in a pattern is the character itself",
			query: where(cmpE("a", OpLike, str(`\a\%\\%"`))),
			want:  where(cmpE("a", OpLike, str(`a\%\\%"`))),
			text:  `Task where a like "a\%\\%\""`},
		"bare select in list": {reason: "a leading bare select in a value list is quoted so it is not read as a sub-query",
			query: where(&In{Path: path("a"), Values: []Value{bare("select"), bare("select")}}),
			want:  where(&In{Path: path("a"), Values: []Value{str("select"), bare("select")}}),
			text:  `Task where a in ("select", select)`},
		"bare not before and": {reason: "a bare value not followed by and reads back",
			query: where(&And{cmpE("a", OpEq, bare("not")), cmpE("b", OpEq, bare("not"))}),
			text:  `Task where a is not and b is not`},
		"everything": {reason: "every clause",
			query: &Query{Select: []Projection{{Func: "max", Path: path("bid")}, {Path: path("status.name")}}, EntityType: "Task",
				Where:   &Relation{Path: path("timelogs"), Any: true},
				GroupBy: []Path{path("status.name")}, OrderBy: []OrderItem{{Path: path("status.name"), Descending: true}},
				Offset: ip(0), Limit: ip(0)},
			text: `select max(bid), status.name from Task where timelogs any () group by status.name order by status.name desc offset 0 limit 0`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			text := tc.query.String()
			if diff := cmp.Diff(tc.text, text); diff != "" {
				t.Errorf("%s\nString() (-want +got):\n%s", tc.reason, diff)
			}
			got, err := Parse(text)
			if err != nil {
				t.Fatalf("Parse(%q): %v", text, err)
			}
			want := tc.want
			if want == nil {
				want = tc.query
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\nParse(String()) (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestFormatters(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		got    string
		want   string
	}{
		"path":           {reason: "Path.String joins with dots", got: path("status.state.short").String(), want: "status.state.short"},
		"projection":     {reason: "aggregate projection", got: Projection{Func: "count", Path: path("id")}.String(), want: "count(id)"},
		"order item":     {reason: "descending order item", got: OrderItem{Path: path("a"), Descending: true}.String(), want: "a desc"},
		"order item asc": {reason: "ascending order item", got: OrderItem{Path: path("a")}.String(), want: "a"},
		"expr":           {reason: "FormatExpr", got: FormatExpr(&Or{cmpE("a", OpEq, str("x")), &Not{&Relation{Path: path("b")}}}), want: `a is "x" or not b has ()`},
		"value string":   {reason: "Value.String quotes", got: StringValue(`a"b`).String(), want: `"a\"b"`},
		"value null":     {reason: "Value.String null", got: NullValue().String(), want: `None`},
		"value bool":     {reason: "Value.String bool", got: BoolValue(true).String(), want: `True`},
		"value nan":      {reason: "NaN has no literal; formatted from Num", got: Value{Kind: KindNumber, Num: math.NaN()}.String(), want: `NaN`},
		"op unknown":     {reason: "invalid operator", got: Operator(0).String(), want: "Operator(0)"},
		"op like":        {reason: "canonical spelling", got: OpNotLike.String(), want: "not_like"},
		"kind":           {reason: "kind names", got: KindBare.String(), want: "bare"},
		"kind unknown":   {reason: "invalid kind", got: ValueKind(0).String(), want: "ValueKind(0)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestOperatorStrings(t *testing.T) {
	t.Parallel()
	want := map[Operator]string{
		OpEq: "is", OpNe: "is_not", OpLt: "<", OpGt: ">", OpLe: "<=", OpGe: ">=", OpLike: "like", OpNotLike: "not_like",
	}
	for op, s := range want {
		if op.String() != s {
			t.Errorf("%d.String() = %q, want %q", int(op), op.String(), s)
		}
		q, err := Parse("Task where a " + s + " 1")
		if err != nil {
			t.Fatalf("canonical spelling %q does not parse: %v", s, err)
		}
		if got := q.Where.(*Comparison).Op; got != op {
			t.Errorf("%q parses to %v, want %v", s, got, op)
		}
	}
}
