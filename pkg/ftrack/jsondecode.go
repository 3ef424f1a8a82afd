package ftrack

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxJSONDepth bounds the nesting of decoded documents.
const maxJSONDepth = 512

// jsonPair is one decoded object member.
type jsonPair struct {
	key string
	val any
}

// jsonDecoder is a single-pass JSON decoder specialised for ftrack answers.
// Objects carrying __entity_type__ are handed to onEntity without building a
// map; tagged dates become time.Time or Date; other objects become
// map[string]any. Object keys are interned, numbers are float64.
type jsonDecoder struct {
	data     []byte
	pos      int
	depth    int
	names    map[string]string
	pairs    []jsonPair
	onEntity func(typeName string, pairs []jsonPair) (any, error)
}

func newJSONDecoder(data []byte, onEntity func(string, []jsonPair) (any, error)) *jsonDecoder {
	return &jsonDecoder{data: data, names: make(map[string]string, 64), pairs: make([]jsonPair, 0, 256), onEntity: onEntity}
}

func (d *jsonDecoder) errorf(format string, args ...any) error {
	return fmt.Errorf("ftrack: decode response at offset %d: %s", d.pos, fmt.Sprintf(format, args...))
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// decodeDocument decodes one value and checks nothing but space follows.
func (d *jsonDecoder) decodeDocument() (any, error) {
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, d.errorf("unexpected data after value")
	}
	return v, nil
}

func (d *jsonDecoder) value() (any, error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end of input")
	}
	switch c := d.data[d.pos]; c {
	case '{':
		return d.object()
	case '[':
		return d.array()
	case '"':
		return d.str()
	case 't':
		return d.literal("true", true)
	case 'f':
		return d.literal("false", false)
	case 'n':
		return d.literal("null", nil)
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return d.number()
		}
		return nil, d.errorf("invalid character %q", c)
	}
}

func (d *jsonDecoder) literal(word string, v any) (any, error) {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return nil, d.errorf("invalid literal")
	}
	d.pos += len(word)
	return v, nil
}

func (d *jsonDecoder) number() (any, error) {
	start := d.pos
	data := d.data
	i := d.pos
	digits := func() int {
		n := 0
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case digits() == 0:
		d.pos = i
		return nil, d.errorf("invalid number")
	}
	if i < len(data) && data[i] == '.' {
		i++
		if digits() == 0 {
			d.pos = i
			return nil, d.errorf("invalid number")
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if digits() == 0 {
			d.pos = i
			return nil, d.errorf("invalid number")
		}
	}
	d.pos = i
	b := data[start:i]
	// The string aliases b only for the call: ParseFloat keeps no reference to it.
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64) //nolint:gosec // G103: audited, see above
	if err != nil {
		return nil, d.errorf("invalid number %q", b)
	}
	return f, nil
}

// rawString returns the bytes of a string without escapes (no copy) or the
// unescaped copy; d.pos is after the closing quote.
func (d *jsonDecoder) rawString() ([]byte, bool, error) {
	d.pos++ // opening quote
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			b := d.data[start:d.pos]
			d.pos++
			if !utf8.Valid(b) {
				return fixUTF8(b), true, nil
			}
			return b, false, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return nil, false, d.errorf("control character in string")
		}
		d.pos++
	}
	if d.pos >= len(d.data) {
		return nil, false, d.errorf("unterminated string")
	}
	// Slow path with escapes.
	buf := make([]byte, 0, d.pos-start+16)
	buf = append(buf, d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			if !utf8.Valid(buf) {
				buf = fixUTF8(buf)
			}
			return buf, true, nil
		case c == '\\':
			if d.pos+1 >= len(d.data) {
				return nil, false, d.errorf("unterminated string")
			}
			e := d.data[d.pos+1]
			d.pos += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return nil, false, d.errorf("invalid unicode escape")
				}
				if utf16.IsSurrogate(r) {
					// A surrogate pair is two escapes; an escape after a lone surrogate that
					// does not complete it stays for the next character (as encoding/json reads it).
					dec := utf8.RuneError
					if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
						save := d.pos
						d.pos += 2
						if x, ok := d.hex4(); ok {
							dec = utf16.DecodeRune(r, x)
						}
						if dec == utf8.RuneError {
							d.pos = save
						}
					}
					r = dec
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return nil, false, d.errorf("invalid escape")
			}
		case c < 0x20:
			return nil, false, d.errorf("control character in string")
		default:
			buf = append(buf, c)
			d.pos++
		}
	}
	return nil, false, d.errorf("unterminated string")
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if d.pos+4 > len(d.data) {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.pos += 4
	return r, true
}

func (d *jsonDecoder) str() (any, error) {
	b, _, err := d.rawString()
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func (d *jsonDecoder) key() (string, error) {
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return "", d.errorf("expected object key")
	}
	b, _, err := d.rawString()
	if err != nil {
		return "", err
	}
	if s, ok := d.names[string(b)]; ok {
		return s, nil
	}
	s := string(b)
	if len(d.names) < 4096 {
		d.names[s] = s
	}
	return s, nil
}

func (d *jsonDecoder) array() (any, error) {
	d.depth++
	if d.depth > maxJSONDepth {
		return nil, d.errorf("nesting too deep")
	}
	defer func() { d.depth-- }()
	d.pos++
	out := []any{}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return out, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.errorf("unterminated array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return out, nil
		default:
			return nil, d.errorf("expected , or ]")
		}
	}
}

func (d *jsonDecoder) object() (any, error) {
	d.depth++
	if d.depth > maxJSONDepth {
		return nil, d.errorf("nesting too deep")
	}
	defer func() { d.depth-- }()
	d.pos++
	start := len(d.pairs)
	entityType, tagType := -1, -1
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return map[string]any{}, nil
	}
	for {
		d.skipSpace()
		k, err := d.key()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.errorf("expected :")
		}
		d.pos++
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		switch k {
		case "__entity_type__":
			entityType = len(d.pairs)
		case "__type__":
			tagType = len(d.pairs)
		}
		d.pairs = append(d.pairs, jsonPair{k, v})
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.errorf("unterminated object")
		}
		if d.data[d.pos] == ',' {
			d.pos++
			continue
		}
		if d.data[d.pos] == '}' {
			d.pos++
			break
		}
		return nil, d.errorf("expected , or }")
	}
	members := d.pairs[start:]
	defer func() {
		clear(d.pairs[start:])
		d.pairs = d.pairs[:start]
	}()
	if entityType >= 0 && d.onEntity != nil {
		if name, ok := d.pairs[entityType].val.(string); ok {
			return d.onEntity(name, members)
		}
	}
	if tagType >= 0 && len(members) == 2 {
		if v, ok := decodeTagged(members); ok {
			return v, nil
		}
	}
	m := make(map[string]any, len(members))
	for _, p := range members {
		m[p.key] = p.val
	}
	return m, nil
}

// decodeTagged decodes {"__type__": "datetime"|"date", "value": "…"}.
func decodeTagged(members []jsonPair) (any, bool) {
	var tag, value string
	for _, p := range members {
		s, ok := p.val.(string)
		if !ok {
			return nil, false
		}
		switch p.key {
		case "__type__":
			tag = s
		case "value":
			value = s
		default:
			return nil, false
		}
	}
	t, err := parseDateTime(value)
	if err != nil {
		return nil, false
	}
	switch tag {
	case "datetime":
		return t, true
	case "date":
		return DateOf(t), true
	}
	return nil, false
}

// fixUTF8 replaces every byte of an invalid UTF-8 sequence with U+FFFD, as
// encoding/json does.
func fixUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
			b = b[1:]
			continue
		}
		out = append(out, b[:size]...)
		b = b[size:]
	}
	return out
}
