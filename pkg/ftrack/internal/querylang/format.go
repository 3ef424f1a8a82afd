package querylang

import (
	"strconv"
	"strings"
)

// String renders q as canonical query text: lowercase keywords, canonical
// operator spellings, strings in double quotes, None/True/False, "desc" for
// descending order items (ascending ones carry no direction), and clauses in
// the order select, from, where, group by, order by, offset, limit.
// Parentheses are added only where precedence requires them.
//
// For every Query returned by Parse, Parse(q.String()) succeeds and returns
// an equal Query. A hand-built Query round-trips as long as its paths and
// entity type are identifiers, no condition path is the single word "not",
// and sub-queries select exactly one attribute. A KindBare value that is not
// a valid bare word (or would read back as a number, None or a boolean) is
// rendered as a quoted string; a KindNumber value with an empty or invalid
// Str is rendered from Num.
func (q *Query) String() string {
	if q == nil {
		return ""
	}
	var b strings.Builder
	b.Grow(64)
	writeQuery(&b, q)
	return b.String()
}

func writeQuery(b *strings.Builder, q *Query) {
	if len(q.Select) > 0 {
		b.WriteString("select ")
		for i, p := range q.Select {
			if i > 0 {
				b.WriteString(", ")
			}
			if p.Func != "" {
				b.WriteString(p.Func)
				b.WriteByte('(')
				writePath(b, p.Path)
				b.WriteByte(')')
			} else {
				writePath(b, p.Path)
			}
		}
		b.WriteString(" from ")
	}
	b.WriteString(q.EntityType)
	if q.Where != nil {
		b.WriteString(" where ")
		writeExpr(b, q.Where, precOr)
	}
	if len(q.GroupBy) > 0 {
		b.WriteString(" group by ")
		for i, p := range q.GroupBy {
			if i > 0 {
				b.WriteString(", ")
			}
			writePath(b, p)
		}
	}
	if len(q.OrderBy) > 0 {
		b.WriteString(" order by ")
		for i, o := range q.OrderBy {
			if i > 0 {
				b.WriteString(", ")
			}
			writePath(b, o.Path)
			if o.Descending {
				b.WriteString(" desc")
			}
		}
	}
	if q.Offset != nil {
		b.WriteString(" offset ")
		b.WriteString(strconv.Itoa(*q.Offset))
	}
	if q.Limit != nil {
		b.WriteString(" limit ")
		b.WriteString(strconv.Itoa(*q.Limit))
	}
}

func writePath(b *strings.Builder, p Path) {
	for i, part := range p {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
}

// Precedence levels of the context an expression is written in.
const (
	precOr  = iota // anything goes
	precAnd        // an Or needs parentheses
	precNot        // an And or Or needs parentheses
)

// FormatExpr renders a criteria expression as it would appear after
// "where" in Query.String.
func FormatExpr(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e, precOr)
	return b.String()
}

func writeExpr(b *strings.Builder, e Expr, prec int) {
	switch e := e.(type) {
	case *Or:
		if prec > precOr {
			b.WriteByte('(')
		}
		writeExpr(b, e.Left, precOr)
		b.WriteString(" or ")
		// Or is left-associative: a right operand that is itself an Or
		// needs parentheses to keep its shape.
		writeExpr(b, e.Right, precAnd)
		if prec > precOr {
			b.WriteByte(')')
		}
	case *And:
		if prec > precAnd {
			b.WriteByte('(')
		}
		writeExpr(b, e.Left, precAnd)
		b.WriteString(" and ")
		writeExpr(b, e.Right, precNot)
		if prec > precAnd {
			b.WriteByte(')')
		}
	case *Not:
		b.WriteString("not ")
		writeExpr(b, e.X, precNot)
	case *Comparison:
		writePath(b, e.Path)
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		b.WriteByte(' ')
		writeValue(b, e.Value, e.Op.IsLike())
	case *In:
		writePath(b, e.Path)
		if e.Negated {
			b.WriteString(" not_in (")
		} else {
			b.WriteString(" in (")
		}
		if e.Subquery != nil {
			writeQuery(b, e.Subquery)
		} else {
			for i, v := range e.Values {
				if i > 0 {
					b.WriteString(", ")
				}
				if i == 0 && v.Kind == KindBare && strings.EqualFold(v.Str, "select") {
					// A leading bare "select" would open a sub-query.
					writeString(b, v.Str, false)
					continue
				}
				writeValue(b, v, false)
			}
		}
		b.WriteByte(')')
	case *Relation:
		writePath(b, e.Path)
		if e.Any {
			b.WriteString(" any (")
		} else {
			b.WriteString(" has (")
		}
		if e.Criteria != nil {
			writeExpr(b, e.Criteria, precOr)
		}
		b.WriteByte(')')
	case nil:
		// Nothing to write; only reachable for hand-built trees.
	}
}

// String renders the value as a literal, e.g. "x" (quoted), 10, None,
// True or a bare word. A KindString value is treated as a plain string, not
// a LIKE pattern.
func (v Value) String() string {
	var b strings.Builder
	writeValue(&b, v, false)
	return b.String()
}

func writeValue(b *strings.Builder, v Value, like bool) {
	switch v.Kind {
	case KindNumber:
		if isNumber(v.Str) {
			b.WriteString(v.Str)
		} else {
			b.WriteString(strconv.FormatFloat(v.Num, 'f', -1, 64))
		}
	case KindBool:
		if v.Bool {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case KindNull:
		b.WriteString("None")
	case KindBare:
		if isBareWord(v.Str) {
			b.WriteString(v.Str)
		} else {
			writeString(b, v.Str, like)
		}
	default:
		writeString(b, v.Str, like)
	}
}

// isBareWord reports whether s reads back as a KindBare value.
func isBareWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	v, _ := classifyWord(s)
	return v.Kind == KindBare
}

// writeString writes s as a double-quoted literal. When like is true, s is a
// LIKE pattern: a backslash escapes the next character.
func writeString(b *strings.Builder, s string, like bool) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\' && like && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case '%', '\\':
				b.WriteByte('\\')
				b.WriteByte(e)
			case '"':
				b.WriteString(`\"`)
			default:
				// An escaped ordinary character is just that character.
				b.WriteByte(e)
			}
		case c == '\\':
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
