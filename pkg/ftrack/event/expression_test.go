package event

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func testCandidate() map[string]any {
	return map[string]any{
		"topic": "ftrack.update",
		"id":    "abc",
		"data": map[string]any{
			"storage_scenario": map[string]any{"scenario": "ftrack.centralized-storage"},
			"count":            float64(10),
			"ratio":            2.5,
			"flag":             true,
			"nothing":          nil,
			"list":             []any{"a"},
			"num":              json.Number("42"),
			"int":              7,
			"email":            "jane@example.com",
			"empty":            "",
			"quote":            `say "hi"`,
		},
		"source": map[string]any{"user": map[string]any{"username": "jane"}},
		"meta":   map[string]string{"kind": "x"},
	}
}

func TestExpressionMatch(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		expr   string
		want   bool
	}{
		"EqualBare":              {"bare value equality", "topic=ftrack.update", true},
		"EqualSpaces":            {"whitespace around the operator is optional", "topic = ftrack.update", true},
		"EqualOther":             {"different value does not match", "topic=ftrack.other", false},
		"EqualDoubleQuoted":      {"double quotes are removed", `topic="ftrack.update"`, true},
		"EqualSingleQuoted":      {"single quotes are removed", `topic='ftrack.update'`, true},
		"QuotedWithSpaces":       {"quoted values may hold any character", `data.quote='say "hi"'`, true},
		"QuotedEmpty":            {"an empty quoted value equals an empty string", `data.empty=""`, true},
		"QuotedEscapeVerbatim":   {"escapes are not decoded", `data.quote="say \"hi\""`, false},
		"NotEqual":               {"!= on a different value", "topic!=ftrack.other", true},
		"NotEqualSame":           {"!= on the same value", "topic!=ftrack.update", false},
		"PrefixWildcard":         {"trailing * is a prefix match", "topic=ftrack.*", true},
		"PrefixWildcardAll":      {"a lone * matches any present value", "topic=*", true},
		"PrefixNotSubstring":     {"wildcard is prefix, not substring", "topic=update*", false},
		"WildcardNotEqualLitera": {"!= treats * literally", "topic!=ftrack.*", true},
		"WildcardMissing":        {"wildcard on a missing key does not match", "nope=*", false},
		"Dotted":                 {"dotted paths walk nested maps", "source.user.username=jane", true},
		"DottedDeep":             {"deeper nesting", `data.storage_scenario.scenario="ftrack.centralized-storage"`, true},
		"DottedStringMap":        {"map[string]string is walked too", "meta.kind=x", true},
		"MissingKey":             {"missing key never matches", "source.user.id=1", false},
		"MissingKeyNotEqual":     {"missing key never matches, even with !=", "source.user.id!=1", false},
		"ThroughScalar":          {"a path through a scalar does not match", "topic.x=1", false},
		"NullValue":              {"null values never match", "data.nothing!=x", false},
		"ListValue":              {"lists never match", "data.list!=x", false},
		"MapValue":               {"maps never match", "source.user!=x", false},
		"Float":                  {"floats are formatted without exponent", "data.count=10", true},
		"FloatFraction":          {"fractional floats", "data.ratio=2.5", true},
		"Bool":                   {"booleans format as true/false", "data.flag=true", true},
		"BoolCase":               {"booleans are not True", "data.flag=True", false},
		"JSONNumber":             {"json.Number verbatim", "data.num=42", true},
		"Int":                    {"ints format in decimal", "data.int=7", true},
		"Greater":                {"ordering is lexicographic", "topic>ftrack.a", true},
		"GreaterNumbersAsText":   {"numbers order as text: 10 < 9", "data.count>9", false},
		"GreaterEqual":           {">= on equal", "topic>=ftrack.update", true},
		"LessEqual":              {"<= on equal", "topic<=ftrack.update", true},
		"Less":                   {"< on equal is false", "topic<ftrack.update", false},
		"LessTrue":               {"< on a larger value", "topic<ftrack.z", true},
		"BareAt":                 {"bare values may hold @ + , / -", "data.email=jane@example.com", true},
		"And":                    {"and of two true conditions", "topic=ftrack.update and source.user.username=jane", true},
		"AndFalse":               {"and with a false condition", "topic=ftrack.update and source.user.username=joe", false},
		"AndUpper":               {"keywords are case-insensitive", "topic=ftrack.update AND source.user.username=jane", true},
		"Or":                     {"or with one true side", "topic=x or topic=ftrack.update", true},
		"OrFalse":                {"or with both false", "topic=x OR topic=y", false},
		"Not":                    {"not negates", "not topic=x", true},
		"NotUpper":               {"NOT is a keyword", "NOT topic=ftrack.update", false},
		"NotNot":                 {"double negation", "not not topic=ftrack.update", true},
		"NotParen":               {"not before parentheses without space", "not(topic=x)", true},
		"Precedence":             {"and binds tighter than or", "topic=x and id=nope or id=abc", true},
		"PrecedenceParens":       {"parentheses override precedence", "topic=x and (id=nope or id=abc)", false},
		"NotPrecedence":          {"not binds tighter than and", "not topic=x and id=abc", true},
		"NotOverAnd":             {"not over a parenthesised and", "not (topic=ftrack.update and id=abc)", false},
		"QuotedThenKeyword":      {"keyword right after a quote", `topic="ftrack.update"and id=abc`, true},
		"ParensThenKeyword":      {"keyword right after a parenthesis", "(topic=x)or(id=abc)", true},
		"NestedParens":           {"nested parentheses", "((topic=ftrack.update))", true},
		"Newlines":               {"newlines are whitespace", "topic=ftrack.update\nand\tid=abc", true},
		"FieldStartsWithKeyword": {"a field may start with a keyword", "notify=1 or topic=ftrack.update", true},
	}
	cand := testCandidate()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, err := ParseExpression(tc.expr)
			if err != nil {
				t.Fatalf("%s: ParseExpression(%q): %v", tc.reason, tc.expr, err)
			}
			if got := e.Match(cand); got != tc.want {
				t.Errorf("%s: %q.Match() = %v, want %v", tc.reason, tc.expr, got, tc.want)
			}
		})
	}
}

func TestParseExpressionErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		expr   string
	}{
		"Empty":           {"empty input", ""},
		"Blank":           {"only whitespace", "  \t"},
		"NoOperator":      {"field without operator", "topic"},
		"NoValue":         {"operator without value", "topic="},
		"NoField":         {"value without field", "=x"},
		"BadOperator":     {"== is not an operator", "topic==x"},
		"Unterminated":    {"open quote", `topic="x`},
		"UnterminatedEsc": {"escaped closing quote", `topic="x\"`},
		"NewlineInQuote":  {"line break inside quotes", "topic=\"a\nb\""},
		"MissingParen":    {"unbalanced parenthesis", "(topic=x"},
		"ExtraParen":      {"stray closing parenthesis", "topic=x)"},
		"DanglingAnd":     {"and without right side", "topic=x and"},
		"DanglingOr":      {"or without right side", "topic=x or "},
		"DanglingNot":     {"not without operand", "not"},
		"LeadingAnd":      {"and without left side", "and topic=x"},
		"Juxtaposed":      {"two conditions without keyword", "topic=x id=y"},
		"GlueKeyword":     {"keyword glued to a bare value is part of it", "topic=1and id=2"},
		"BadValueChar":    {"characters outside the bare set", "topic=a#b"},
		"BadFieldChar":    {"field with a dash", "to-pic=x"},
		"TooDeep":         {"nesting is bounded", stringsRepeat("(", 500) + "a=b" + stringsRepeat(")", 500)},
		"EmptyParens":     {"empty parentheses", "()"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, err := ParseExpression(tc.expr)
			if err == nil {
				t.Fatalf("%s: ParseExpression(%q) = %q, want error", tc.reason, tc.expr, e)
			}
			if !errors.Is(err, ErrParse) {
				t.Errorf("%s: error %v does not wrap ErrParse", tc.reason, err)
			}
		})
	}
}

func stringsRepeat(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for range n {
		b = append(b, s...)
	}
	return string(b)
}

func TestExpressionString(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		expr   string
		want   string
	}{
		"Condition":     {"spaces around the operator are dropped", "topic = ftrack.update", "topic=ftrack.update"},
		"Quoted":        {"quote style is kept", `a='x y' AND b="z"`, `a='x y' and b="z"`},
		"Precedence":    {"no parentheses needed", "a=1 OR b=2 and c=3", "a=1 or b=2 and c=3"},
		"Parens":        {"parentheses kept where needed", "(a=1 or b=2) and c=3", "(a=1 or b=2) and c=3"},
		"RedundantPars": {"redundant parentheses dropped", "((a=1))", "a=1"},
		"RightNested":   {"right-nested and keeps its shape", "a=1 and (b=2 and c=3)", "a=1 and (b=2 and c=3)"},
		"Not":           {"not spelled in lower case", "NOT(a=1 or b=2)", "not (a=1 or b=2)"},
		"NotNot":        {"double negation", "not not a=1", "not not a=1"},
		"Operators":     {"every operator", "a!=1 or b>=2 or c<=3 or d>4 or e<5", "a!=1 or b>=2 or c<=3 or d>4 or e<5"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, err := ParseExpression(tc.expr)
			if err != nil {
				t.Fatalf("%s: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, e.String()); diff != "" {
				t.Errorf("%s: String() (-want +got):\n%s", tc.reason, diff)
			}
			again, err := ParseExpression(e.String())
			if err != nil {
				t.Fatalf("%s: reparse %q: %v", tc.reason, e.String(), err)
			}
			if diff := cmp.Diff(e.String(), again.String()); diff != "" {
				t.Errorf("%s: String() is not stable (-first +second):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestExpressionNil(t *testing.T) {
	t.Parallel()
	var e *Expression
	if e.Match(map[string]any{}) {
		t.Error("nil expression matched")
	}
	if e.String() != "" {
		t.Errorf("nil expression String() = %q", e.String())
	}
}

func TestMustParseExpressionPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("MustParseExpression did not panic on bad input")
		}
	}()
	MustParseExpression("(")
}
