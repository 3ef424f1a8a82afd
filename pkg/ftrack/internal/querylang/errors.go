package querylang

import "strconv"

// SyntaxError reports an expression that cannot be parsed.
type SyntaxError struct {
	// Pos is the byte offset in the expression where the problem was found.
	Pos int
	// Msg says what was wrong or expected, e.g. `expected "from"`.
	Msg string
	// Found describes what was found at Pos, e.g. `"form"` or
	// "end of input"; empty when Msg says it all.
	Found string
	// Hint optionally says how to fix the expression.
	Hint string
}

// Error renders the error as `<Msg> at offset <Pos>[, found <Found>][; <Hint>]`,
// e.g. `expected "from" at offset 12, found "form"`.
func (e *SyntaxError) Error() string {
	s := e.Msg + " at offset " + strconv.Itoa(e.Pos)
	if e.Found != "" {
		s += ", found " + e.Found
	}
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}
