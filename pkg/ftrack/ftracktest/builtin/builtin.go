package builtin

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

var schemas = sync.OnceValues(func() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, e := range definitions() {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := e.marshal(&buf); err != nil {
			return nil, err
		}
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
})

var schemaSet = sync.OnceValues(func() (*schema.Set, error) {
	b, err := schemas()
	if err != nil {
		return nil, err
	}
	return schema.Parse(b)
})

// Schemas returns the built-in query_schemas answer: a JSON array of schema
// objects, byte for byte the same on every call. The caller owns the slice.
func Schemas() []byte {
	b, err := schemas()
	if err != nil {
		// The definitions are static; the package tests parse them.
		panic(fmt.Sprintf("builtin: %v", err))
	}
	return bytes.Clone(b)
}

// SchemaSet returns the built-in schema, parsed. The Set is shared and
// immutable.
func SchemaSet() *schema.Set {
	s, err := schemaSet()
	if err != nil {
		panic(fmt.Sprintf("builtin: %v", err))
	}
	return s
}
