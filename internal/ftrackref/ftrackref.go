// Package ftrackref finds the real ftrack server's recorded responses, kept beside the
// checkout in ../shared/ftrack-reference, for tests.
package ftrackref

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// Dir returns ../shared/ftrack-reference relative to the module root, found by walking up
// from this file to go.mod.
func Dir(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("cannot locate the ftrackref source file")
	}
	dir := filepath.Dir(file)
	for range 16 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "ftrack-reference")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	tb.Fatal("go.mod not found above " + filepath.Dir(file))
	return ""
}

// Read returns the recorded response name.
func Read(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(tb), name)) //nolint:gosec // a recorded response named by a test
	if err != nil {
		tb.Fatalf("reading the recorded response %s: %v", name, err)
	}
	return b
}

// SchemaSet returns the real server's schemas (query_schemas.json).
func SchemaSet(tb testing.TB) *schema.Set {
	tb.Helper()
	set, err := schema.Parse(Read(tb, "query_schemas.json"))
	if err != nil {
		tb.Fatalf("parsing the recorded schema: %v", err)
	}
	return set
}
