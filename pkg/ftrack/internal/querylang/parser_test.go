package querylang

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type parseCase struct {
	reason string
	expr   string
	want   *Query
}

// where builds a query on Task with the given criteria.
func where(e Expr) *Query { return &Query{EntityType: "Task", Where: e} }

const uuid1 = "5671dcb0-66de-11e1-8e6e-f23c91df25eb"
const uuid2 = "6671dcb0-66de-11e1-8e6e-f23c91df25eb"

// clientShapeCases are the client-generated expressions of
// ftrack-protocol.md §4.4 (and the examples of §2.4, §4.1–§4.3), with the
// document's placeholders replaced by concrete values.
var clientShapeCases = map[string]parseCase{
	"py query default projections": {
		reason: "Python rewrites Task where x into a select of the default projections",
		expr:   `select context_type, id, name from Task where parent_id is "abc"`,
		want: &Query{Select: proj("context_type", "id", "name"), EntityType: "Task",
			Where: cmpE("parent_id", OpEq, str("abc"))},
	},
	"query action example": {
		reason: "the query request of §2.4, paging suffix included",
		expr:   `select id, name from Task where parent.id is "…" offset 0 limit 500`,
		want: &Query{Select: proj("id", "name"), EntityType: "Task",
			Where: cmpE("parent.id", OpEq, str("…")), Offset: ip(0), Limit: ip(500)},
	},
	"py one": {
		reason: "one() appends limit 2",
		expr:   `Task where name is "x" limit 2`,
		want:   &Query{EntityType: "Task", Where: cmpE("name", OpEq, str("x")), Limit: ip(2)},
	},
	"py first": {
		reason: "first() appends offset n limit 1",
		expr:   `Task where name is "x" offset 3 limit 1`,
		want:   &Query{EntityType: "Task", Where: cmpE("name", OpEq, str("x")), Offset: ip(3), Limit: ip(1)},
	},
	"py get": {
		reason: "get() wraps the key condition in parentheses and pages",
		expr:   `select context_type, id, name from Task where (id is "` + uuid1 + `") offset 0 limit 500`,
		want: &Query{Select: proj("context_type", "id", "name"), EntityType: "Task",
			Where: cmpE("id", OpEq, str(uuid1)), Offset: ip(0), Limit: ip(500)},
	},
	"py get composite": {
		reason: "get() with a composite primary key",
		expr:   `select key, parent_id, value from Metadata where (parent_id is "p1" and key is "k1")`,
		want: &Query{Select: proj("key", "parent_id", "value"), EntityType: "Metadata",
			Where: &And{cmpE("parent_id", OpEq, str("p1")), cmpE("key", OpEq, str("k1"))}},
	},
	"py populate single": {
		reason: "populate() of one entity uses a bare id",
		expr:   `select a, b from Task where id is ` + uuid1,
		want:   &Query{Select: proj("a", "b"), EntityType: "Task", Where: cmpE("id", OpEq, bare(uuid1))},
	},
	"py populate many": {
		reason: "populate() of several entities uses an unquoted list without spaces",
		expr:   `select a, b from Task where id in (` + uuid1 + `,` + uuid2 + `,a1)`,
		want: &Query{Select: proj("a", "b"), EntityType: "Task",
			Where: &In{Path: path("id"), Values: []Value{bare(uuid1), bare(uuid2), bare("a1")}}},
	},
	"py populate composite gotcha": {
		reason: "populate() joins composite conditions with \"and \" and no leading space",
		expr:   `select value from Metadata where (parent_id is "p1"and key is "k1") or (parent_id is "p2"and key is "k2")`,
		want: &Query{Select: proj("value"), EntityType: "Metadata", Where: &Or{
			&And{cmpE("parent_id", OpEq, str("p1")), cmpE("key", OpEq, str("k1"))},
			&And{cmpE("parent_id", OpEq, str("p2")), cmpE("key", OpEq, str("k2"))},
		}},
	},
	"py auto-populate scalar": {
		reason: "auto-populate of one attribute with the paging suffix",
		expr:   `select name from Task where id is ` + uuid1 + ` offset 0 limit 500`,
		want: &Query{Select: proj("name"), EntityType: "Task", Where: cmpE("id", OpEq, bare(uuid1)),
			Offset: ip(0), Limit: ip(500)},
	},
	"py auto-populate reference": {
		reason: "auto-populate of a reference selects the referenced type's default projections",
		expr:   `select status.id, status.name, status.sort from Task where id is ` + uuid1,
		want: &Query{Select: proj("status.id", "status.name", "status.sort"), EntityType: "Task",
			Where: cmpE("id", OpEq, bare(uuid1))},
	},
	"py ensure": {
		reason: "ensure() with string, number and naive datetime keys, then limit 2",
		expr:   `select id, name from Task where k1 is "str" and k2 is 10 and k3 is "2024-01-01T10:00:00" limit 2`,
		want: &Query{Select: proj("id", "name"), EntityType: "Task", Where: &And{
			&And{cmpE("k1", OpEq, str("str")), cmpE("k2", OpEq, num("10", 10))},
			cmpE("k3", OpEq, str("2024-01-01T10:00:00")),
		}, Limit: ip(2)},
	},
	"py ensure without select": {
		reason: "the expression ensure() builds before the default-projection rewrite",
		expr:   `Task where k1 is "str" and k2 is 10 and k3 is "2024-01-01T10:00:00"`,
		want: where(&And{
			&And{cmpE("k1", OpEq, str("str")), cmpE("k2", OpEq, num("10", 10))},
			cmpE("k3", OpEq, str("2024-01-01T10:00:00")),
		}),
	},
	"js ensure": {
		reason: "the JavaScript ensure() selects the primary key",
		expr:   `select id from Task where k is "str" and n is 10 and d is "2024-01-01T10:00:00.000Z"`,
		want: &Query{Select: proj("id"), EntityType: "Task", Where: &And{
			&And{cmpE("k", OpEq, str("str")), cmpE("n", OpEq, num("10", 10))},
			cmpE("d", OpEq, str("2024-01-01T10:00:00.000Z")),
		}},
	},
	"py location": {
		reason: "location code: bare ids, list with spaces",
		expr:   `select component_id, resource_identifier from ComponentLocation where location_id is ` + uuid1 + ` and component_id in (` + uuid1 + `, ` + uuid2 + `)`,
		want: &Query{Select: proj("component_id", "resource_identifier"), EntityType: "ComponentLocation",
			Where: &And{
				cmpE("location_id", OpEq, bare(uuid1)),
				&In{Path: path("component_id"), Values: []Value{bare(uuid1), bare(uuid2)}},
			}},
	},
	"py schema statuses": {
		reason: "project schema statuses",
		expr:   `select task_status from SchemaStatus where schema_id is ` + uuid1,
		want:   &Query{Select: proj("task_status"), EntityType: "SchemaStatus", Where: cmpE("schema_id", OpEq, bare(uuid1))},
	},
	"py schema types": {
		reason: "project schema types",
		expr:   `select task_type from SchemaType where schema_id is ` + uuid1,
		want:   &Query{Select: proj("task_type"), EntityType: "SchemaType", Where: cmpE("schema_id", OpEq, bare(uuid1))},
	},
	"js project schema": {
		reason: "paths may start with an underscore",
		expr:   `select _task_workflow.statuses.name, _task_workflow.statuses.color, _task_workflow.statuses.sort from ProjectSchema where id is ` + uuid1,
		want: &Query{
			Select:     proj("_task_workflow.statuses.name", "_task_workflow.statuses.color", "_task_workflow.statuses.sort"),
			EntityType: "ProjectSchema", Where: cmpE("id", OpEq, bare(uuid1)),
		},
	},
	"docs order by": {
		reason: "documented order by with paging",
		expr:   `User order by first_name desc offset 5 limit 5`,
		want: &Query{EntityType: "User", OrderBy: []OrderItem{{Path: path("first_name"), Descending: true}},
			Offset: ip(5), Limit: ip(5)},
	},
	"docs aggregate": {
		reason: "documented aggregate with group by",
		expr:   `select count(id) from Task group by project_id, status_id`,
		want: &Query{Select: []Projection{{Func: "count", Path: path("id")}}, EntityType: "Task",
			GroupBy: []Path{path("project_id"), path("status_id")}},
	},
	"limit 0": {
		reason: "Python test: limit 0 must be accepted",
		expr:   `User where username is jenkins limit 0`,
		want:   &Query{EntityType: "User", Where: cmpE("username", OpEq, bare("jenkins")), Limit: ip(0)},
	},
	"reference fixture status": {
		reason: "recorded real-server query",
		expr:   `select status.state.short from Task where status.state.short is "NOT_STARTED" limit 1`,
		want: &Query{Select: proj("status.state.short"), EntityType: "Task",
			Where: cmpE("status.state.short", OpEq, str("NOT_STARTED")), Limit: ip(1)},
	},
	"reference fixture versions": {
		reason: "recorded real-server query",
		expr:   `select version, asset.versions.version from AssetVersion where asset_id is_not None limit 1`,
		want: &Query{Select: proj("version", "asset.versions.version"), EntityType: "AssetVersion",
			Where: cmpE("asset_id", OpNe, null()), Limit: ip(1)},
	},
	"reference fixture no where": {
		reason: "recorded real-server query",
		expr:   `select name, created_at from Task limit 1`,
		want:   &Query{Select: proj("name", "created_at"), EntityType: "Task", Limit: ip(1)},
	},
	"criteria table in": {
		reason: "§4.2 in with a quoted list",
		expr:   `Task where status.type.name in ("In Progress", "Done")`,
		want:   where(&In{Path: path("status.type.name"), Values: []Value{str("In Progress"), str("Done")}}),
	},
	"criteria table subquery": {
		reason: "§4.2 in with a sub-query",
		expr:   `Project where project_schema in (select id from ProjectSchema where name is "X")`,
		want: &Query{EntityType: "Project", Where: &In{Path: path("project_schema"), Subquery: &Query{
			Select: proj("id"), EntityType: "ProjectSchema", Where: cmpE("name", OpEq, str("X")),
		}}},
	},
	"criteria table has": {
		reason: "§4.2 has",
		expr:   `Note where author has (first_name is "Jane" and last_name is "Doe")`,
		want: &Query{EntityType: "Note", Where: &Relation{Path: path("author"), Criteria: &And{
			cmpE("first_name", OpEq, str("Jane")), cmpE("last_name", OpEq, str("Doe")),
		}}},
	},
	"criteria table any": {
		reason: "§4.2 any with bare values and = without spaces",
		expr:   `Task where metadata any (key=some_key and value=some_value)`,
		want: where(&Relation{Path: path("metadata"), Any: true, Criteria: &And{
			cmpE("key", OpEq, bare("some_key")), cmpE("value", OpEq, bare("some_value")),
		}}),
	},
	"criteria table empty any": {
		reason: "§4.2 not ... any ()",
		expr:   `Task where not timelogs any ()`,
		want:   where(&Not{&Relation{Path: path("timelogs"), Any: true}}),
	},
}

func TestParseClientShapes(t *testing.T) {
	t.Parallel()
	runParseCases(t, clientShapeCases)
}

func runParseCases(t *testing.T, cases map[string]parseCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.expr)
			if err != nil {
				t.Fatalf("%s\nParse(%q): %v", tc.reason, tc.expr, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nParse(%q) (-want +got):\n%s", tc.reason, tc.expr, diff)
			}
			again, err := Parse(got.String())
			if err != nil {
				t.Fatalf("Parse(String()) of %q = %q: %v", tc.expr, got.String(), err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("round trip via %q (-first +second):\n%s", got.String(), diff)
			}
		})
	}
}

var operatorCases = map[string]parseCase{
	"is":           {reason: "is", expr: `Task where a is 1`, want: where(cmpE("a", OpEq, num("1", 1)))},
	"=":            {reason: "= is OpEq", expr: `Task where a = 1`, want: where(cmpE("a", OpEq, num("1", 1)))},
	"= tight":      {reason: "= needs no spaces", expr: `Task where name="x"`, want: where(cmpE("name", OpEq, str("x")))},
	"is_not":       {reason: "is_not", expr: `Task where a is_not 1`, want: where(cmpE("a", OpNe, num("1", 1)))},
	"!=":           {reason: "!= is OpNe", expr: `Task where a != 1`, want: where(cmpE("a", OpNe, num("1", 1)))},
	"!= tight":     {reason: "!= needs no spaces", expr: `Task where a!=b`, want: where(cmpE("a", OpNe, bare("b")))},
	"<":            {reason: "<", expr: `Task where a < 1`, want: where(cmpE("a", OpLt, num("1", 1)))},
	"before":       {reason: "before is OpLt", expr: `Task where end_date before "2015-06-01"`, want: where(cmpE("end_date", OpLt, str("2015-06-01")))},
	"less_than":    {reason: "less_than is OpLt", expr: `Task where a less_than 1`, want: where(cmpE("a", OpLt, num("1", 1)))},
	">":            {reason: ">", expr: `Task where bid > 1`, want: where(cmpE("bid", OpGt, num("1", 1)))},
	"after":        {reason: "after is OpGt", expr: `Task where start after "2015-06-01"`, want: where(cmpE("start", OpGt, str("2015-06-01")))},
	"greater_than": {reason: "greater_than is OpGt", expr: `Task where a greater_than 1`, want: where(cmpE("a", OpGt, num("1", 1)))},
	"<=":           {reason: "<=", expr: `Task where a <= 1`, want: where(cmpE("a", OpLe, num("1", 1)))},
	">=":           {reason: ">=", expr: `Task where bid >= 14400`, want: where(cmpE("bid", OpGe, num("14400", 14400)))},
	">= negative":  {reason: "a minus sign after an operator starts a number", expr: `Task where a>=-2`, want: where(cmpE("a", OpGe, num("-2", -2)))},
	"like":         {reason: "like", expr: `Task where name like "%thrones"`, want: where(cmpE("name", OpLike, str("%thrones")))},
	"not_like":     {reason: "not_like", expr: `Task where name not_like "%thrones"`, want: where(cmpE("name", OpNotLike, str("%thrones")))},
	"in":           {reason: "in", expr: `Task where a in (1)`, want: where(&In{Path: path("a"), Values: []Value{num("1", 1)}})},
	"not_in":       {reason: "not_in", expr: `Task where a not_in (1, "x")`, want: where(&In{Path: path("a"), Negated: true, Values: []Value{num("1", 1), str("x")}})},
	"not_in subquery": {reason: "not_in with a sub-query", expr: `Task where id not_in (select task_id from Timelog)`,
		want: where(&In{Path: path("id"), Negated: true, Subquery: &Query{Select: proj("task_id"), EntityType: "Timelog"}})},
	"has":       {reason: "has", expr: `Task where status has (name is "x")`, want: where(&Relation{Path: path("status"), Criteria: cmpE("name", OpEq, str("x"))})},
	"has empty": {reason: "has () is allowed like any ()", expr: `Task where status has ()`, want: where(&Relation{Path: path("status")})},
	"any":       {reason: "any", expr: `Task where timelogs any (start >= "2024-01-01")`, want: where(&Relation{Path: path("timelogs"), Any: true, Criteria: cmpE("start", OpGe, str("2024-01-01"))})},
	"uppercase operators": {reason: "operator words are case-insensitive", expr: `Task where a IS 1 AND b Is_Not 2 AND c LIKE "x" AND d NOT_IN (1) AND e ANY ()`,
		want: where(AndAll(cmpE("a", OpEq, num("1", 1)), cmpE("b", OpNe, num("2", 2)), cmpE("c", OpLike, str("x")),
			&In{Path: path("d"), Negated: true, Values: []Value{num("1", 1)}}, &Relation{Path: path("e"), Any: true}))},
}

func TestParseOperators(t *testing.T) {
	t.Parallel()
	runParseCases(t, operatorCases)
}

var literalCases = map[string]parseCase{
	"double quoted":    {reason: "plain string", expr: `Task where a is "x y"`, want: where(cmpE("a", OpEq, str("x y")))},
	"single quoted":    {reason: "single quotes", expr: `Task where a is 'x y'`, want: where(cmpE("a", OpEq, str("x y")))},
	"empty string":     {reason: "empty string", expr: `Task where a is ""`, want: where(cmpE("a", OpEq, str("")))},
	"escaped dquote":   {reason: `\" is a quote`, expr: `Task where a is "say \"hi\""`, want: where(cmpE("a", OpEq, str(`say "hi"`)))},
	"escaped squote":   {reason: `\' is a quote`, expr: `Task where a is 'it\'s'`, want: where(cmpE("a", OpEq, str(`it's`)))},
	"dquote in single": {reason: "the other quote needs no escape", expr: `Task where a is 'say "hi"'`, want: where(cmpE("a", OpEq, str(`say "hi"`)))},
	"escaped backslash": {reason: `\\ is one backslash`, expr: `Task where a is "a\\b"`,
		want: where(cmpE("a", OpEq, str(`a\b`)))},
	"unknown escape": {reason: "an unknown escape keeps its backslash (Python sends paths unescaped)", expr: `Task where a is "C:\temp"`,
		want: where(cmpE("a", OpEq, str(`C:\temp`)))},
	"percent outside like": {reason: `\% is a plain percent outside like`, expr: `Task where a is "50\%"`,
		want: where(cmpE("a", OpEq, str(`50%`)))},
	"like literal percent": {reason: `\% stays an escaped percent in a like pattern`, expr: `Task where a like "50\% of %"`,
		want: where(cmpE("a", OpLike, str(`50\% of %`)))},
	"like backslash": {reason: `a literal backslash in a like pattern is escaped`, expr: `Task where a like "a\\b%"`,
		want: where(cmpE("a", OpLike, str(`a\\b%`)))},
	"like unknown escape": {reason: `an unknown escape in a like pattern is a literal backslash`, expr: `Task where a like "C:\t%"`,
		want: where(cmpE("a", OpLike, str(`C:\\t%`)))},
	"like quotes": {reason: "quotes decode in like patterns", expr: `Task where a not_like "\"%"`,
		want: where(cmpE("a", OpNotLike, str(`"%`)))},
	"unicode":       {reason: "strings carry UTF-8", expr: `Task where a is "Ünïcode ✓"`, want: where(cmpE("a", OpEq, str("Ünïcode ✓")))},
	"int":           {reason: "integer", expr: `Task where a is 10`, want: where(cmpE("a", OpEq, num("10", 10)))},
	"float":         {reason: "decimal", expr: `Task where a is 1.25`, want: where(cmpE("a", OpEq, num("1.25", 1.25)))},
	"negative":      {reason: "negative", expr: `Task where a is -3.5`, want: where(cmpE("a", OpEq, num("-3.5", -3.5)))},
	"leading zeros": {reason: "the raw token is kept", expr: `Task where a is 007`, want: where(cmpE("a", OpEq, num("007", 7)))},
	"None":          {reason: "Python null", expr: `Task where a is None`, want: where(cmpE("a", OpEq, null()))},
	"none":          {reason: "ftrack-query null", expr: `Task where a is none`, want: where(cmpE("a", OpEq, null()))},
	"null":          {reason: "JS null", expr: `Task where a is null`, want: where(cmpE("a", OpEq, null()))},
	"NULL":          {reason: "null in any case", expr: `Task where a is NULL`, want: where(cmpE("a", OpEq, null()))},
	"True":          {reason: "Python bool", expr: `Task where a is True`, want: where(cmpE("a", OpEq, boolean(true)))},
	"false":         {reason: "JS bool", expr: `Task where a is false`, want: where(cmpE("a", OpEq, boolean(false)))},
	"TRUE":          {reason: "bool in any case", expr: `Task where a is TRUE`, want: where(cmpE("a", OpEq, boolean(true)))},
	"quoted None":   {reason: "a quoted None is a string", expr: `Task where a is "None"`, want: where(cmpE("a", OpEq, str("None")))},
	"bare word":     {reason: "docs: status is active", expr: `Task where status is active`, want: where(cmpE("status", OpEq, bare("active")))},
	"bare uuid":     {reason: "a bare UUID is not a number", expr: `Task where id is ` + uuid1, want: where(cmpE("id", OpEq, bare(uuid1)))},
	"bare digits uuid": {reason: "a bare UUID starting with digits and a dash", expr: `Task where id is 12345678-1234-1234-1234-123456789012`,
		want: where(cmpE("id", OpEq, bare("12345678-1234-1234-1234-123456789012")))},
	"bare date":         {reason: "an unquoted date is bare", expr: `Task where a is 2015-06-01`, want: where(cmpE("a", OpEq, bare("2015-06-01")))},
	"bare colon":        {reason: "colons are bare-word characters", expr: `Task where a is x:y`, want: where(cmpE("a", OpEq, bare("x:y")))},
	"bare trailing dot": {reason: "1. is not a number", expr: `Task where a is 1.`, want: where(cmpE("a", OpEq, bare("1.")))},
	"bare not": {reason: "the bare value not is fine when a condition can end there", expr: `Task where (a is not) or b is not limit 1`,
		want: &Query{EntityType: "Task", Where: &Or{cmpE("a", OpEq, bare("not")), cmpE("b", OpEq, bare("not"))}, Limit: ip(1)}},
	"bare keyword": {reason: "a value position takes any word", expr: `Task where a is and`, want: where(cmpE("a", OpEq, bare("and")))},
	"quote then and": {reason: "a closing quote directly followed by and", expr: `Task where a is "x"and b is 'y'or c is 1`,
		want: where(&Or{&And{cmpE("a", OpEq, str("x")), cmpE("b", OpEq, str("y"))}, cmpE("c", OpEq, num("1", 1))})},
	"bare list no spaces": {reason: "bare values in a list without spaces", expr: `Task where id in (a,b,c)`,
		want: where(&In{Path: path("id"), Values: []Value{bare("a"), bare("b"), bare("c")}})},
	"mixed list": {reason: "every literal kind in a list", expr: `Task where id in ("s", 's', 1, -2.5, None, True, bare)`,
		want: where(&In{Path: path("id"), Values: []Value{str("s"), str("s"), num("1", 1), num("-2.5", -2.5), null(), boolean(true), bare("bare")}})},
	"whitespace": {reason: "tabs and newlines separate tokens", expr: "select\tid\nfrom Task\r\nwhere a is 1 ",
		want: &Query{Select: proj("id"), EntityType: "Task", Where: cmpE("a", OpEq, num("1", 1))}},
}

func TestParseLiterals(t *testing.T) {
	t.Parallel()
	runParseCases(t, literalCases)
}

var structureCases = map[string]parseCase{
	"and over or": {reason: "and binds tighter than or", expr: `Task where a is 1 or b is 2 and c is 3`,
		want: where(&Or{cmpE("a", OpEq, num("1", 1)), &And{cmpE("b", OpEq, num("2", 2)), cmpE("c", OpEq, num("3", 3))}})},
	"and over or left": {reason: "and binds tighter than or on the left too", expr: `Task where a is 1 and b is 2 or c is 3`,
		want: where(&Or{&And{cmpE("a", OpEq, num("1", 1)), cmpE("b", OpEq, num("2", 2))}, cmpE("c", OpEq, num("3", 3))})},
	"not over and": {reason: "not binds tighter than and", expr: `Task where not a is 1 and b is 2`,
		want: where(&And{&Not{cmpE("a", OpEq, num("1", 1))}, cmpE("b", OpEq, num("2", 2))})},
	"not not": {reason: "not nests", expr: `Task where not not a is 1`,
		want: where(&Not{&Not{cmpE("a", OpEq, num("1", 1))}})},
	"parentheses": {reason: "parentheses override precedence", expr: `Task where (a is 1 or b is 2) and c is 3`,
		want: where(&And{&Or{cmpE("a", OpEq, num("1", 1)), cmpE("b", OpEq, num("2", 2))}, cmpE("c", OpEq, num("3", 3))})},
	"not parentheses": {reason: "not applies to a group", expr: `Task where not (a is 1 or b is 2)`,
		want: where(&Not{&Or{cmpE("a", OpEq, num("1", 1)), cmpE("b", OpEq, num("2", 2))}})},
	"left assoc": {reason: "and chains are left-associative", expr: `Task where a is 1 and b is 2 and c is 3`,
		want: where(&And{&And{cmpE("a", OpEq, num("1", 1)), cmpE("b", OpEq, num("2", 2))}, cmpE("c", OpEq, num("3", 3))})},
	"right grouping kept": {reason: "explicit right grouping is kept", expr: `Task where a is 1 or (b is 2 or c is 3)`,
		want: where(&Or{cmpE("a", OpEq, num("1", 1)), &Or{cmpE("b", OpEq, num("2", 2)), cmpE("c", OpEq, num("3", 3))}})},
	"redundant parentheses": {reason: "redundant parentheses vanish", expr: `Task where ((((a is 1))))`,
		want: where(cmpE("a", OpEq, num("1", 1)))},
	"nested relations": {reason: "relations nest", expr: `Task where parent has (children any (status has (name is "x") and not timelogs any ()))`,
		want: where(&Relation{Path: path("parent"), Criteria: &Relation{Path: path("children"), Any: true, Criteria: &And{
			&Relation{Path: path("status"), Criteria: cmpE("name", OpEq, str("x"))},
			&Not{&Relation{Path: path("timelogs"), Any: true}},
		}}})},
	"nested subqueries": {reason: "sub-queries nest", expr: `Task where project_id in (select id from Project where project_schema_id in (select id from ProjectSchema where name like "VFX%"))`,
		want: where(&In{Path: path("project_id"), Subquery: &Query{Select: proj("id"), EntityType: "Project",
			Where: &In{Path: path("project_schema_id"), Subquery: &Query{Select: proj("id"), EntityType: "ProjectSchema",
				Where: cmpE("name", OpLike, str("VFX%"))}}}})},
	"subquery clauses": {reason: "a sub-query may order and limit", expr: `Task where id in (select task_id from Timelog order by start desc limit 3) limit 1`,
		want: &Query{EntityType: "Task", Limit: ip(1), Where: &In{Path: path("id"), Subquery: &Query{
			Select: proj("task_id"), EntityType: "Timelog", OrderBy: []OrderItem{{Path: path("start"), Descending: true}}, Limit: ip(3)}}}},
	"aggregates": {reason: "all aggregate functions, any case", expr: `select SUM(bid), avg(bid), Min(bid), max(bid), count(id), status_id from Task group by status_id`,
		want: &Query{Select: []Projection{{"sum", path("bid")}, {"avg", path("bid")}, {"min", path("bid")}, {"max", path("bid")}, {"count", path("id")}, {"", path("status_id")}},
			EntityType: "Task", GroupBy: []Path{path("status_id")}}},
	"count as path": {reason: "an aggregate name without parentheses is a path", expr: `select count from Task`,
		want: &Query{Select: proj("count"), EntityType: "Task"}},
	"keyword-named attributes": {reason: "from and group are real attribute names; Group is a real type", expr: `select from, group from Group where group is 1 group by from order by group`,
		want: &Query{Select: proj("from", "group"), EntityType: "Group", Where: cmpE("group", OpEq, num("1", 1)),
			GroupBy: []Path{path("from")}, OrderBy: []OrderItem{{Path: path("group")}}}},
	"order directions": {reason: "asc, desc, ascending, descending and the default", expr: `Task order by a asc, b desc, c ascending, d descending, e`,
		want: &Query{EntityType: "Task", OrderBy: []OrderItem{{path("a"), false}, {path("b"), true}, {path("c"), false}, {path("d"), true}, {path("e"), false}}}},
	"group and order": {reason: "group by then order by", expr: `select count(id), status_id from Task where a is 1 group by status_id order by status_id desc limit 10 offset 20`,
		want: &Query{Select: []Projection{{"count", path("id")}, {"", path("status_id")}}, EntityType: "Task", Where: cmpE("a", OpEq, num("1", 1)),
			GroupBy: []Path{path("status_id")}, OrderBy: []OrderItem{{path("status_id"), true}}, Offset: ip(20), Limit: ip(10)}},
	"limit then offset": {reason: "limit and offset in either order", expr: `Task limit 5 offset 10`,
		want: &Query{EntityType: "Task", Offset: ip(10), Limit: ip(5)}},
	"offset only": {reason: "offset alone", expr: `Task offset 10`, want: &Query{EntityType: "Task", Offset: ip(10)}},
	"limit only":  {reason: "limit alone", expr: `Task limit 0`, want: &Query{EntityType: "Task", Limit: ip(0)}},
	"bare entity": {reason: "an entity type alone", expr: `Task`, want: &Query{EntityType: "Task"}},
	"uppercase keywords": {reason: "keywords are case-insensitive", expr: `SELECT id FROM Task WHERE a IS 1 Or NOT b is 2 GROUP BY id ORDER BY id DESC OFFSET 1 LIMIT 2`,
		want: &Query{Select: proj("id"), EntityType: "Task", Where: &Or{cmpE("a", OpEq, num("1", 1)), &Not{cmpE("b", OpEq, num("2", 2))}},
			GroupBy: []Path{path("id")}, OrderBy: []OrderItem{{path("id"), true}}, Offset: ip(1), Limit: ip(2)}},
}

func TestParseStructure(t *testing.T) {
	t.Parallel()
	runParseCases(t, structureCases)
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason  string
		expr    string
		wantPos int
		wantMsg string
	}{
		"empty": {reason: "empty input", expr: ``, wantPos: 0,
			wantMsg: `expected "select" or an entity type at offset 0, found end of input`},
		"blank": {reason: "only whitespace", expr: `   `, wantPos: 3,
			wantMsg: `expected "select" or an entity type at offset 3, found end of input`},
		"form": {reason: "misspelt from", expr: `select id form Task`, wantPos: 10,
			wantMsg: `expected "," or "from" at offset 10, found "form"`},
		"no entity": {reason: "missing entity type", expr: `select id from where a is 1`, wantPos: 15,
			wantMsg: `expected entity type at offset 15, found "where"`},
		"dangling where": {reason: "where without criteria", expr: `Task where`, wantPos: 10,
			wantMsg: `expected attribute path, "not" or "(" at offset 10, found end of input`},
		"missing value": {reason: "operator without value", expr: `Task where name is`, wantPos: 18,
			wantMsg: `expected value at offset 18, found end of input`},
		"unterminated": {reason: "unterminated string", expr: `Task where name is "abc`, wantPos: 19,
			wantMsg: `unterminated string at offset 19; add the closing "`},
		"unterminated escaped": {reason: "an escaped quote does not close a string", expr: `Task where name is 'abc\'`, wantPos: 19,
			wantMsg: `unterminated string at offset 19; add the closing '`},
		"trailing garbage": {reason: "trailing word", expr: `Task where name is x foo`, wantPos: 21,
			wantMsg: `expected "and", "or", "group by", "order by", "offset", "limit" or end of input at offset 21, found "foo"`},
		"trailing after entity": {reason: "trailing word after the entity type", expr: `Task foo`, wantPos: 5,
			wantMsg: `expected "where", "group by", "order by", "offset", "limit" or end of input at offset 5, found "foo"`},
		"double equals": {reason: "== is not an operator", expr: `Task where name == "x"`, wantPos: 17,
			wantMsg: `expected value at offset 17, found "="`},
		"at sign": {reason: "@ must be quoted", expr: `Task where username is jen@x.com`, wantPos: 26,
			wantMsg: `unexpected character "@" at offset 26; quote values that contain it`},
		"bang": {reason: "! alone", expr: `Task where a ! 1`, wantPos: 13,
			wantMsg: `unexpected character "!" at offset 13; use "!=" or "is_not" for not equal`},
		"negative limit": {reason: "limit must be a non-negative integer", expr: `Task limit -1`, wantPos: 11,
			wantMsg: `expected a non-negative integer after "limit" at offset 11, found "-1"`},
		"float offset": {reason: "offset must be an integer", expr: `Task offset 1.5`, wantPos: 12,
			wantMsg: `expected a non-negative integer after "offset" at offset 12, found "1.5"`},
		"huge limit": {reason: "limit must fit an int", expr: `Task limit 99999999999999999999`, wantPos: 11,
			wantMsg: `limit is too large at offset 11, found "99999999999999999999"`},
		"duplicate limit": {reason: "limit twice", expr: `Task limit 1 limit 2`, wantPos: 13,
			wantMsg: `expected "offset" or end of input at offset 13, found "limit"; "limit" may appear only once`},
		"clause order": {reason: "where after limit", expr: `Task limit 1 where a is 1`, wantPos: 13,
			wantMsg: `expected "offset" or end of input at offset 13, found "where"; clauses must come in the order select … from, where, group by, order by, offset/limit`},
		"empty in": {reason: "in needs values", expr: `Task where id in ()`, wantPos: 18,
			wantMsg: `expected value or "select" at offset 18, found ")"`},
		"in missing comma": {reason: "values are comma-separated", expr: `Task where id in (a b)`, wantPos: 20,
			wantMsg: `expected "," or ")" at offset 20, found "b"`},
		"subquery two columns": {reason: "a sub-query selects one attribute", expr: `Task where id in (select id, name from Task)`, wantPos: 18,
			wantMsg: `sub-query must select exactly one attribute at offset 18; e.g. (select id from Task where …)`},
		"subquery unclosed": {reason: "a sub-query needs its closing parenthesis", expr: `Task where id in (select id from Task`, wantPos: 37,
			wantMsg: `expected "where", "group by", "order by", "offset", "limit" or ")" at offset 37, found end of input`},
		"unknown aggregate": {reason: "only sum avg min max count", expr: `select foo(id) from Task`, wantPos: 7,
			wantMsg: `unknown aggregate function at offset 7, found "foo"; use sum, avg, min, max or count`},
		"bad path": {reason: "paths are identifiers", expr: `Task where 5x is 1`, wantPos: 11,
			wantMsg: `invalid attribute path at offset 11, found "5x"; each part of a path must start with a letter or "_" and contain only letters, digits and "_"`},
		"empty path part": {reason: "no empty path parts", expr: `select a..b from Task`, wantPos: 7,
			wantMsg: `invalid attribute path at offset 7, found "a..b"; each part of a path must start with a letter or "_" and contain only letters, digits and "_"`},
		"unclosed paren": {reason: "missing )", expr: `Task where (a is 1`, wantPos: 18,
			wantMsg: `expected "and", "or" or ")" at offset 18, found end of input`},
		"order without by": {reason: "order needs by", expr: `Task order name`, wantPos: 11,
			wantMsg: `expected "by" after "order" at offset 11, found "name"`},
		"is not": {reason: "is not is two words", expr: `Task where a is not None`, wantPos: 16,
			wantMsg: `expected value at offset 16, found "not"; for "not equal" write "is_not"`},
		"has without paren": {reason: "has needs parentheses", expr: `Task where a has b`, wantPos: 17,
			wantMsg: `expected "(" after "has" at offset 17, found "b"`},
		"unknown operator": {reason: "unknown operator word", expr: `Task where a frobs 1`, wantPos: 13,
			wantMsg: `expected operator after attribute path "a" at offset 13, found "frobs"; operators: is, is_not, =, !=, <, >, <=, >=, before, after, less_than, greater_than, like, not_like, in, not_in, has, any`},
		"two strings": {reason: "adjacent strings", expr: `Task where a is "x" "y"`, wantPos: 20,
			wantMsg: `expected "and", "or", "group by", "order by", "offset", "limit" or end of input at offset 20, found string "y"`},
		"dotted entity": {reason: "entity types have no dots", expr: `select id from Task.x`, wantPos: 15,
			wantMsg: `expected entity type at offset 15, found "Task.x"`},
		"trailing comma": {reason: "no trailing comma in the select list", expr: `select id, from Task`, wantPos: 16,
			wantMsg: `expected "," or "from" at offset 16, found "Task"`},
		"number too big": {reason: "numbers must fit a float64", expr: `Task where a is 1` + strings.Repeat("0", 400), wantPos: 16,
			wantMsg: `number out of range at offset 16, found "1000000000000000000000000000000000000000…"`},
		"too deep": {reason: "nesting is limited", expr: `Task where ` + strings.Repeat("(", MaxDepth) + `a is 1` + strings.Repeat(")", MaxDepth), wantPos: len("Task where ") + MaxDepth - 1,
			wantMsg: `expression nested too deeply at offset 110; at most 100 levels of parentheses, not, has/any and sub-queries are allowed`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			q, err := Parse(tc.expr)
			if err == nil {
				t.Fatalf("%s\nParse(%q) = %q, want an error", tc.reason, tc.expr, q.String())
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T, want *SyntaxError", tc.expr, err)
			}
			if diff := cmp.Diff(tc.wantMsg, err.Error()); diff != "" {
				t.Errorf("%s\nParse(%q) message (-want +got):\n%s", tc.reason, tc.expr, diff)
			}
			if se.Pos != tc.wantPos {
				t.Errorf("%s\nParse(%q) Pos = %d, want %d", tc.reason, tc.expr, se.Pos, tc.wantPos)
			}
		})
	}
}

func TestParseDepthLimit(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		expr   string
		ok     bool
	}{
		"parens at limit": {reason: "the query plus MaxDepth-1 groups fits",
			expr: "Task where " + strings.Repeat("(", MaxDepth-1) + "a is 1" + strings.Repeat(")", MaxDepth-1), ok: true},
		"nots over limit": {reason: "not counts as a level",
			expr: "Task where " + strings.Repeat("not ", MaxDepth) + "a is 1"},
		"subqueries over limit": {reason: "sub-queries count as levels",
			expr: "Task where " + strings.Repeat("id in (select id from Task where ", MaxDepth) + "a is 1" + strings.Repeat(")", MaxDepth)},
		"relations over limit": {reason: "relations count as levels",
			expr: "Task where " + strings.Repeat("a has (", MaxDepth) + "a is 1" + strings.Repeat(")", MaxDepth)},
		"hostile": {reason: "a hostile expression fails fast instead of exhausting the stack",
			expr: "Task where " + strings.Repeat("(", 1_000_000)},
		"long flat chain": {reason: "and/or chains are not nesting",
			expr: "Task where a is 1" + strings.Repeat(" and a is 1", 10_000), ok: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.expr)
			if tc.ok && err != nil {
				t.Errorf("%s: unexpected error %v", tc.reason, err)
			}
			if !tc.ok && (err == nil || !strings.HasPrefix(err.Error(), "expression nested too deeply")) {
				t.Errorf("%s: error %v, want nesting error", tc.reason, err)
			}
		})
	}
}
