package querylang

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

type tokenKind int

const (
	tokEOF    tokenKind = iota
	tokWord             // run of bare-word bytes: keyword, path, entity type, number or bare value
	tokString           // quoted string; text is the raw source including the quotes
	tokLParen           // (
	tokRParen           // )
	tokComma            // ,
	tokOp               // = != < > <= >=
)

type token struct {
	kind tokenKind
	pos  int
	text string
}

// describe renders the token for the "found ..." part of an error message.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return "string " + truncateRaw(t.text)
	default:
		return strconv.Quote(truncateRaw(t.text))
	}
}

func truncateRaw(s string) string {
	const maxLen = 40
	if len(s) <= maxLen {
		return s
	}
	cut := maxLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// isWordByte reports whether c may appear in a bare word.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '.' || c == ':'
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

type lexer struct {
	src string
	pos int
}

// next returns the next token. It panics with a *SyntaxError on a character
// that cannot start a token or on an unterminated string.
func (l *lexer) next() token {
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.pos++
	}
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tokEOF, pos: start}
	}
	c := l.src[start]
	switch {
	case c == '(':
		l.pos++
		return token{kind: tokLParen, pos: start, text: "("}
	case c == ')':
		l.pos++
		return token{kind: tokRParen, pos: start, text: ")"}
	case c == ',':
		l.pos++
		return token{kind: tokComma, pos: start, text: ","}
	case c == '"' || c == '\'':
		i := start + 1
		for i < len(l.src) {
			switch l.src[i] {
			case '\\':
				i += 2
				continue
			case c:
				l.pos = i + 1
				return token{kind: tokString, pos: start, text: l.src[start:l.pos]}
			}
			i++
		}
		panic(&SyntaxError{Pos: start, Msg: "unterminated string", Hint: fmt.Sprintf("add the closing %c", c)})
	case c == '=':
		l.pos++
		return token{kind: tokOp, pos: start, text: "="}
	case c == '!':
		if start+1 < len(l.src) && l.src[start+1] == '=' {
			l.pos += 2
			return token{kind: tokOp, pos: start, text: "!="}
		}
		panic(&SyntaxError{Pos: start, Msg: `unexpected character "!"`, Hint: `use "!=" or "is_not" for not equal`})
	case c == '<' || c == '>':
		l.pos++
		if l.pos < len(l.src) && l.src[l.pos] == '=' {
			l.pos++
		}
		return token{kind: tokOp, pos: start, text: l.src[start:l.pos]}
	case isWordByte(c):
		i := start + 1
		for i < len(l.src) && isWordByte(l.src[i]) {
			i++
		}
		l.pos = i
		return token{kind: tokWord, pos: start, text: l.src[start:i]}
	}
	r, _ := utf8.DecodeRuneInString(l.src[start:])
	return panicUnexpectedChar(start, r)
}

func panicUnexpectedChar(pos int, r rune) token {
	panic(&SyntaxError{
		Pos:  pos,
		Msg:  "unexpected character " + strconv.Quote(string(r)),
		Hint: "quote values that contain it",
	})
}

// decodeString decodes the raw source of a quoted string (quotes included).
// When like is true the result is a LIKE pattern (see the package
// documentation); otherwise it is the plain string.
func decodeString(raw string, like bool) string {
	body := raw[1 : len(raw)-1]
	// Fast path: nothing to decode.
	hasBackslash := false
	for i := 0; i < len(body); i++ {
		if body[i] == '\\' {
			hasBackslash = true
			break
		}
	}
	if !hasBackslash {
		return body
	}
	b := make([]byte, 0, len(body)+4)
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' || i+1 >= len(body) {
			b = append(b, c)
			continue
		}
		i++
		switch e := body[i]; e {
		case '"', '\'':
			b = append(b, e)
		case '\\':
			if like {
				b = append(b, '\\', '\\')
			} else {
				b = append(b, '\\')
			}
		case '%':
			if like {
				b = append(b, '\\', '%')
			} else {
				b = append(b, '%')
			}
		default:
			// Not an escape: a literal backslash followed by e.
			if like {
				b = append(b, '\\', '\\', e)
			} else {
				b = append(b, '\\', e)
			}
		}
	}
	return string(b)
}
