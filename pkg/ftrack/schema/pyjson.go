package schema

import (
	"bytes"
	"crypto/md5" //nolint:gosec // MD5 is the ftrack schema_hash algorithm, not a security measure.
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// PythonJSON encodes v exactly as Python's json.dumps(v, sort_keys=True) does
// with its default settings: separators ", " and ": ", ensure_ascii=True
// (every character outside printable ASCII written as a lower-case \uXXXX
// escape, astral characters as surrogate pairs), object keys sorted by code
// point, floats written as Python's repr and "/" not escaped.
//
// Supported values are nil, bool, string, json.Number, json.RawMessage, Go
// integer and float types, map[string]any, []any, map[string]string and
// []string; any other value is first encoded with encoding/json and then
// re-encoded.
//
// A json.Number (as produced by a decoder with UseNumber) is written the way
// Python re-encodes the literal after json.loads: an integer literal keeps its
// digits ("-0" becomes "0"), a literal with a fraction or exponent becomes the
// repr of the float it denotes (1.0 stays 1.0, 1.50 becomes 1.5, 1e5 becomes
// 100000.0, 1e400 becomes Infinity).
func PythonJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodePython(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// PythonJSONRaw re-encodes the JSON document raw with PythonJSON, as Python's
// json.dumps(json.loads(raw), sort_keys=True) would.
//
// Strings are decoded by encoding/json, so invalid UTF-8 and unpaired surrogate
// escapes become U+FFFD, where Python would keep the lone surrogate.
func PythonJSONRaw(raw []byte) ([]byte, error) {
	v, err := decodeNumbers(raw)
	if err != nil {
		return nil, err
	}
	return PythonJSON(v)
}

// HashJSON returns the hex MD5 digest of PythonJSONRaw(raw): for a
// query_schemas answer this is the schema_hash of query_server_information,
// which the Python client also uses to validate its on-disk schema cache.
func HashJSON(raw []byte) (string, error) {
	b, err := PythonJSONRaw(raw)
	if err != nil {
		return "", err
	}
	sum := md5.Sum(b) //nolint:gosec // See the import.
	return hex.EncodeToString(sum[:]), nil
}

// decodeNumbers decodes one JSON document, keeping numbers as json.Number.
func decodeNumbers(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("decode JSON: unexpected data after the top-level value")
	}
	return v, nil
}

func encodePython(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		if x {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case string:
		writePythonString(buf, x)
	case json.Number:
		s, err := pythonNumber(string(x))
		if err != nil {
			return err
		}
		buf.WriteString(s)
	case json.RawMessage:
		d, err := decodeNumbers(x)
		if err != nil {
			return err
		}
		return encodePython(buf, d)
	case float64:
		buf.WriteString(pythonFloat(x))
	case float32:
		buf.WriteString(pythonFloat(float64(x)))
	case int:
		buf.WriteString(strconv.FormatInt(int64(x), 10))
	case int8:
		buf.WriteString(strconv.FormatInt(int64(x), 10))
	case int16:
		buf.WriteString(strconv.FormatInt(int64(x), 10))
	case int32:
		buf.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	case uint:
		buf.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint8:
		buf.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint16:
		buf.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint32:
		buf.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint64:
		buf.WriteString(strconv.FormatUint(x, 10))
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteString(", ")
			}
			if err := encodePython(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case []string:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteString(", ")
			}
			writePythonString(buf, e)
		}
		buf.WriteByte(']')
	case map[string]any:
		keys := sortedKeys(x)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteString(", ")
			}
			writePythonString(buf, k)
			buf.WriteString(": ")
			if err := encodePython(buf, x[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case map[string]string:
		keys := sortedKeys(x)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteString(", ")
			}
			writePythonString(buf, k)
			buf.WriteString(": ")
			writePythonString(buf, x[k])
		}
		buf.WriteByte('}')
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %T: %w", v, err)
		}
		d, err := decodeNumbers(b)
		if err != nil {
			return err
		}
		return encodePython(buf, d)
	}
	return nil
}

// sortedKeys sorts keys the way Python sorts str: by code point. Byte order of
// valid UTF-8 is code point order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

const hexDigits = "0123456789abcdef"

// shortEscapes are the two-character escapes Python's JSON encoder uses; every other
// character outside printable ASCII becomes \uXXXX.
var shortEscapes = map[byte]string{
	'"': `\"`, '\\': `\\`, '\n': `\n`, '\r': `\r`, '\t': `\t`, '\b': `\b`, '\f': `\f`,
}

// writePythonString writes s as Python's py_encode_basestring_ascii does.
func writePythonString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			start := i
			for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\' {
				i++
			}
			buf.WriteString(s[start:i])
			continue
		}
		if esc, ok := shortEscapes[c]; ok {
			buf.WriteString(esc)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r >= 0x10000 {
			r -= 0x10000
			writeU(buf, 0xd800|(r>>10)&0x3ff)
			writeU(buf, 0xdc00|r&0x3ff)
			continue
		}
		writeU(buf, r)
	}
	buf.WriteByte('"')
}

func writeU(buf *bytes.Buffer, r rune) {
	buf.WriteString(`\u`)
	buf.WriteByte(hexDigits[r>>12&0xf])
	buf.WriteByte(hexDigits[r>>8&0xf])
	buf.WriteByte(hexDigits[r>>4&0xf])
	buf.WriteByte(hexDigits[r&0xf])
}

// pythonNumber renders a JSON number literal as Python re-encodes it after
// json.loads.
func pythonNumber(lit string) (string, error) {
	if lit == "" {
		return "", fmt.Errorf("invalid number literal %q", lit)
	}
	if !strings.ContainsAny(lit, ".eE") {
		digits := strings.TrimPrefix(lit, "-")
		if digits == "" || strings.Trim(digits, "0123456789") != "" {
			return "", fmt.Errorf("invalid number literal %q", lit)
		}
		if strings.Trim(digits, "0") == "" {
			return "0", nil
		}
		return lit, nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return "", fmt.Errorf("invalid number literal %q: %w", lit, err)
	}
	return pythonFloat(f), nil
}

// pythonFloat returns Python's repr of f (as float.__repr__ with the "short"
// float repr style, and json's Infinity/NaN spellings).
func pythonFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	// Shortest round-tripping digits, as Python's repr uses.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1
	var b strings.Builder
	b.WriteString(sign)
	if decpt <= -4 || decpt > 16 {
		b.WriteByte(digits[0])
		if len(digits) > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteByte('e')
		x := decpt - 1
		if x < 0 {
			b.WriteByte('-')
			x = -x
		} else {
			b.WriteByte('+')
		}
		if x < 10 {
			b.WriteByte('0')
		}
		b.WriteString(strconv.Itoa(x))
		return b.String()
	}
	switch {
	case decpt <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -decpt))
		b.WriteString(digits)
	case decpt >= len(digits):
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", decpt-len(digits)))
		b.WriteString(".0")
	default:
		b.WriteString(digits[:decpt])
		b.WriteByte('.')
		b.WriteString(digits[decpt:])
	}
	return b.String()
}
