package querylang

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t *testing.T, expr string) *Query {
	t.Helper()
	q, err := Parse(expr)
	if err != nil {
		t.Fatalf("Parse(%q): %v", expr, err)
	}
	return q
}

func TestRewrites(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason  string
		expr    string
		rewrite func(*Query) *Query
		want    string
	}{
		"paging appended": {reason: "Python pages with offset n limit size",
			expr: `select id from Task where name is "x"`, rewrite: func(q *Query) *Query { return q.WithPaging(500, 500) },
			want: `select id from Task where name is "x" offset 500 limit 500`},
		"paging replaced": {reason: "existing paging is replaced wherever it was written",
			expr: `Task limit 3 offset 7`, rewrite: func(q *Query) *Query { return q.WithPaging(0, 3) },
			want: `Task offset 0 limit 3`},
		"paging negative offset": {reason: "a negative offset leaves the clause out",
			expr: `Task offset 7`, rewrite: func(q *Query) *Query { return q.WithPaging(-1, 2) },
			want: `Task limit 2`},
		"one": {reason: "one() appends limit 2",
			expr: `Task where a is 1`, rewrite: func(q *Query) *Query { return q.WithLimit(2) },
			want: `Task where a is 1 limit 2`},
		"first keeps offset": {reason: "first() keeps the offset",
			expr: `Task offset 4`, rewrite: func(q *Query) *Query { return q.WithLimit(1) },
			want: `Task offset 4 limit 1`},
		"without paging": {reason: "paging is stripped before paging",
			expr: `Task where a is 1 order by a limit 3 offset 7`, rewrite: (*Query).WithoutPaging,
			want: `Task where a is 1 order by a`},
		"default select": {reason: "default projections are added without select",
			expr: `Task where a is 1`, rewrite: func(q *Query) *Query { return q.WithDefaultSelect(path("context_type"), path("id"), path("name")) },
			want: `select context_type, id, name from Task where a is 1`},
		"default select kept": {reason: "an explicit select is kept",
			expr: `select name from Task`, rewrite: func(q *Query) *Query { return q.WithDefaultSelect(path("id")) },
			want: `select name from Task`},
		"default select uppercase": {reason: "SELECT in capitals is a select (Python would prepend another)",
			expr: `SELECT name FROM Task`, rewrite: func(q *Query) *Query { return q.WithDefaultSelect(path("id")) },
			want: `select name from Task`},
		"populate composite": {reason: "AndAll/OrAll build the populate criteria",
			expr: `Metadata`, rewrite: func(q *Query) *Query {
				q = q.WithDefaultSelect(path("value"))
				q.Where = OrAll(
					AndAll(cmpE("parent_id", OpEq, str("p1")), nil, cmpE("key", OpEq, str("k1"))),
					AndAll(cmpE("parent_id", OpEq, str("p2")), cmpE("key", OpEq, str("k2"))),
				)
				return q
			},
			want: `select value from Metadata where parent_id is "p1" and key is "k1" or parent_id is "p2" and key is "k2"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			q := mustParse(t, tc.expr)
			before := q.String()
			got := tc.rewrite(q)
			if diff := cmp.Diff(tc.want, got.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
			if q.String() != before {
				t.Errorf("rewrite changed the original: %q became %q", before, q.String())
			}
		})
	}
}

func TestCloneIsDeep(t *testing.T) {
	t.Parallel()
	q := mustParse(t, `select count(id), a.b from Task where not (x.y is 1 or z has (w in (1, 2))) and id in (select id from Task limit 1) group by a.b order by a.b desc offset 1 limit 2`)
	c := q.Clone()
	if diff := cmp.Diff(q, c); diff != "" {
		t.Fatalf("Clone differs (-orig +clone):\n%s", diff)
	}
	before := q.String()
	// Mutate every part of the clone; the original must not change.
	c.Select[0].Path[0] = "mutated"
	c.GroupBy[0][0] = "mutated"
	c.OrderBy[0].Path[0] = "mutated"
	*c.Offset, *c.Limit = 9, 9
	and := c.Where.(*And)
	not := and.Left.(*Not)
	or := not.X.(*Or)
	or.Left.(*Comparison).Path[0] = "mutated"
	or.Right.(*Relation).Criteria.(*In).Values[0] = StringValue("mutated")
	*and.Right.(*In).Subquery.Limit = 9
	if after := q.String(); after != before {
		t.Errorf("mutating the clone changed the original:\nbefore %s\nafter  %s", before, after)
	}
	if q.Clone() == nil || (*Query)(nil).Clone() != nil || CloneExpr(nil) != nil {
		t.Error("Clone of nil must be nil")
	}
}

func TestHasSelect(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		expr   string
		want   bool
	}{
		"select":         {reason: "lowercase select", expr: `select id from Task`, want: true},
		"uppercase":      {reason: "any case", expr: `Select id From Task`, want: true},
		"no select":      {reason: "no select", expr: `Task where name is "select"`},
		"invalid":        {reason: "invalid expression", expr: `select from`},
		"selected type":  {reason: "an entity type starting with select", expr: `Selection where a is 1`},
		"select in subq": {reason: "only the outer select counts", expr: `Task where id in (select id from Task)`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := HasSelect(tc.expr); got != tc.want {
				t.Errorf("%s: HasSelect(%q) = %v, want %v", tc.reason, tc.expr, got, tc.want)
			}
		})
	}
}

func TestParsePathAndProjections(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason   string
		in       string
		path     Path
		pathErr  string
		projs    []Projection
		projsErr string
	}{
		"simple": {reason: "one part", in: "name", path: path("name"), projs: proj("name")},
		"dotted": {reason: "dotted", in: " status.state.short ", path: path("status.state.short"), projs: proj("status.state.short")},
		"list": {reason: "populate attribute string", in: "a, b.c,count(id)",
			pathErr: `expected end of input at offset 1, found ","`,
			projs:   []Projection{{Path: path("a")}, {Path: path("b.c")}, {Func: "count", Path: path("id")}}},
		"empty": {reason: "empty input", in: "",
			pathErr:  `expected attribute path at offset 0, found end of input`,
			projsErr: `expected attribute path at offset 0, found end of input`},
		"invalid": {reason: "invalid part", in: "a.1",
			pathErr:  `invalid attribute path at offset 0, found "a.1"; each part of a path must start with a letter or "_" and contain only letters, digits and "_"`,
			projsErr: `invalid attribute path at offset 0, found "a.1"; each part of a path must start with a letter or "_" and contain only letters, digits and "_"`},
		"trailing": {reason: "trailing garbage", in: "a b",
			pathErr:  `expected end of input at offset 2, found "b"`,
			projsErr: `expected "," or end of input at offset 2, found "b"`},
	}
	errString := func(err error) string {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePath(tc.in)
			if diff := cmp.Diff(tc.pathErr, errString(err)); diff != "" {
				t.Errorf("%s: ParsePath error (-want +got):\n%s", tc.reason, diff)
			}
			if err == nil {
				if diff := cmp.Diff(tc.path, p); diff != "" {
					t.Errorf("%s: ParsePath (-want +got):\n%s", tc.reason, diff)
				}
			}
			ps, err := ParseProjections(tc.in)
			if diff := cmp.Diff(tc.projsErr, errString(err)); diff != "" {
				t.Errorf("%s: ParseProjections error (-want +got):\n%s", tc.reason, diff)
			}
			if err == nil {
				if diff := cmp.Diff(tc.projs, ps); diff != "" {
					t.Errorf("%s: ParseProjections (-want +got):\n%s", tc.reason, diff)
				}
			}
		})
	}
	if diff := cmp.Diff(path("a.b"), PathOf("a.b")); diff != "" {
		t.Errorf("PathOf (-want +got):\n%s", diff)
	}
}
