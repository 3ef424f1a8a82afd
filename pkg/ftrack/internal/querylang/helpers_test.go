package querylang

import "strings"

// Short constructors for building expected trees in tests.

func path(dotted string) Path { return Path(strings.Split(dotted, ".")) }

func cmpE(p string, op Operator, v Value) *Comparison {
	return &Comparison{Path: path(p), Op: op, Value: v}
}

func str(s string) Value { return Value{Kind: KindString, Str: s} }

func num(tok string, f float64) Value { return Value{Kind: KindNumber, Str: tok, Num: f} }

func bare(s string) Value { return Value{Kind: KindBare, Str: s} }

func boolean(b bool) Value { return Value{Kind: KindBool, Bool: b} }

func null() Value { return Value{Kind: KindNull} }

func ip(n int) *int { return &n }

func proj(paths ...string) []Projection {
	out := make([]Projection, len(paths))
	for i, p := range paths {
		out[i] = Projection{Path: path(p)}
	}
	return out
}
