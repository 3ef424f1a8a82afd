// Package querylang parses and renders the ftrack query language, the
// expressions sent in the "expression" field of the query action, such as
//
//	select id, name from Task where parent.id is "…" order by name desc offset 0 limit 500
//
// Parse turns an expression into a Query; Query.String renders a Query back
// into canonical text that Parse accepts and that parses to an equal Query.
// The emulator evaluates the Query; the client rewrites it (default
// projections, paging) instead of editing expression strings with regular
// expressions.
//
// # Grammar
//
//	query      := [ "select" projection { "," projection } "from" ] EntityType
//	              [ "where" criteria ]
//	              [ "group" "by" path { "," path } ]
//	              [ "order" "by" path [ direction ] { "," path [ direction ] } ]
//	              [ "offset" INT ] [ "limit" INT ]   (offset and limit in either order)
//	projection := path | aggregate "(" path ")"       aggregate: sum avg min max count
//	direction  := "asc" | "ascending" | "desc" | "descending"
//	criteria   := and { "or" and }
//	and        := unary { "and" unary }
//	unary      := "not" unary | "(" criteria ")" | path relation | path condition
//	relation   := ( "has" | "any" ) "(" [ criteria ] ")"
//	condition  := operator value | ( "in" | "not_in" ) "(" ( value { "," value } | subquery ) ")"
//	subquery   := query starting with "select" and selecting exactly one attribute
//	path       := IDENT { "." IDENT }                 IDENT: [A-Za-z_][A-Za-z0-9_]*
//
// Operators and their synonyms: "is" and "=" (OpEq); "is_not" and "!="
// (OpNe); "<", "before" and "less_than" (OpLt); ">", "after" and
// "greater_than" (OpGt); "<=" (OpLe); ">=" (OpGe); "like" (OpLike);
// "not_like" (OpNotLike). "not" binds tighter than "and", which binds tighter
// than "or"; "and" and "or" are left-associative.
//
// All keywords, operator words, aggregate names and the literals None, True
// and False are case-insensitive: "SELECT id FROM Task WHERE name IS x" is
// accepted, and so is "select". (The Python client only recognises a
// lowercase leading "select"; HasSelect recognises any case.) Keywords are
// reserved only where they are expected, so attributes named like keywords
// ("from", "group") remain usable as paths, and the entity type "Group" is
// not mistaken for "group by". The one exception: a condition cannot start
// with an attribute named "not".
//
// # Values
//
//   - Strings in double or single quotes. Backslash escapes \" \' and \\
//     stand for the quote or backslash; \% stands for a literal percent sign;
//     any other backslash is kept as a literal backslash (the Python client
//     sends values unescaped, so "C:\temp" must survive). A closing quote
//     may be directly followed by a keyword ("p1"and key is "k1").
//   - Numbers: -?DIGITS[.DIGITS] (KindNumber, Str holds the token as written).
//   - None, null (any case): KindNull. True, False (any case): KindBool.
//   - Bare words: runs of letters, digits, "_", "-", "." and ":" that are not
//     numbers, null or booleans (KindBare), e.g. the bare UUID
//     5671dcb0-66de-11e1-8e6e-f23c91df25eb or the value list (a,b,c).
//     Other characters ("@", "%", …) must be quoted.
//
// Value.Str of a KindString value depends on the operator, so that an
// evaluator can tell a wildcard from a literal percent sign:
//
//   - For "like" and "not_like" it is a LIKE pattern: "%" matches any
//     sequence of characters and a backslash makes the next character
//     literal ("\%" a literal percent, "\\" a literal backslash). MatchLike
//     implements these semantics.
//   - For every other operator and in "in" lists it is the plain decoded
//     string ("\%" decodes to "%").
//
// # Client helpers
//
// The Go client rewrites parsed queries instead of strings (the Python
// client uses regular expressions): HasSelect and Query.WithDefaultSelect
// for the default-projection rewrite, Query.WithPaging, Query.WithLimit and
// Query.WithoutPaging for paging, one() and first(), AndAll and OrAll and
// the value constructors (StringValue, BareValue, …) to build get/populate
// criteria, ParseProjections for populate's attribute string, Clone, and
// Pager, which walks the pages of a query exactly as the Python client's
// QueryResult does.
// All rewrites return copies and leave the receiver unchanged.
//
// # Limits
//
// Nesting (parentheses, "not", relations and sub-queries) is limited to
// MaxDepth levels so that a hostile expression cannot exhaust the stack.
// Errors are *SyntaxError values carrying the byte offset of the problem.
package querylang
