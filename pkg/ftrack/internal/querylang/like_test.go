package querylang

import (
	"strings"
	"testing"
	"time"
)

func TestMatchLike(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason  string
		expr    string // a like comparison, so the pattern goes through the parser
		subject string
		want    bool
	}{
		"suffix":               {reason: "leading wildcard", expr: `"%thrones"`, subject: "game of thrones", want: true},
		"suffix miss":          {reason: "leading wildcard, wrong end", expr: `"%thrones"`, subject: "thrones of game"},
		"prefix":               {reason: "trailing wildcard", expr: `"sh0%"`, subject: "sh010", want: true},
		"infix":                {reason: "both sides", expr: `"%of%"`, subject: "game of thrones", want: true},
		"exact":                {reason: "no wildcard means equality", expr: `"abc"`, subject: "abc", want: true},
		"exact miss":           {reason: "no wildcard, longer subject", expr: `"abc"`, subject: "abcd"},
		"empty pattern":        {reason: "empty matches empty only", expr: `""`, subject: "", want: true},
		"empty pattern miss":   {reason: "empty does not match text", expr: `""`, subject: "x"},
		"only wildcard":        {reason: "% matches everything", expr: `"%"`, subject: "", want: true},
		"literal percent":      {reason: `\% is a literal percent`, expr: `"50\%"`, subject: "50%", want: true},
		"literal percent miss": {reason: `\% is not a wildcard`, expr: `"50\%"`, subject: "500"},
		"literal then wild":    {reason: `\% followed by a wildcard`, expr: `"50\%%"`, subject: "50% off", want: true},
		"backslash":            {reason: `\\ is a literal backslash`, expr: `"C:\\%"`, subject: `C:\temp`, want: true},
		"backslash miss":       {reason: `\\ needs a backslash`, expr: `"C:\\%"`, subject: `C:/temp`},
		"unknown escape":       {reason: `an unknown escape is a literal backslash`, expr: `"C:\t%"`, subject: `C:\temp`, want: true},
		"underscore":           {reason: "_ is not a wildcard", expr: `"a_c"`, subject: "abc"},
		"backtrack":            {reason: "wildcards backtrack", expr: `"%a%b%c"`, subject: "xaxbxbxc", want: true},
		"case":                 {reason: "matching is case-sensitive", expr: `"ABC"`, subject: "abc"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			q := mustParse(t, "Task where a like "+tc.expr)
			pattern := q.Where.(*Comparison).Value.Str
			if got := MatchLike(pattern, tc.subject); got != tc.want {
				t.Errorf("%s: MatchLike(%q, %q) = %v, want %v", tc.reason, pattern, tc.subject, got, tc.want)
			}
		})
	}
}

func TestMatchLikeIsNotExponential(t *testing.T) {
	t.Parallel()
	pattern := strings.Repeat("%a", 30) + "b"
	subject := strings.Repeat("a", 3000)
	start := time.Now()
	if MatchLike(pattern, subject) {
		t.Fatal("pattern ending in b matched a subject without b")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("MatchLike took %v on a pathological pattern", d)
	}
}
