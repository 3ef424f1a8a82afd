package schema_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// referenceDir returns ../shared/ftrack-reference relative to the module
// root, found by walking up from this file to go.mod.
func referenceDir(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("cannot locate the test source file")
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

func readReference(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(referenceDir(tb), name))
	if err != nil {
		tb.Fatalf("read reference %s: %v", name, err)
	}
	return b
}

func referenceHash(tb testing.TB) string {
	tb.Helper()
	var info struct {
		SchemaHash string `json:"schema_hash"`
	}
	if err := json.Unmarshal(readReference(tb, "query_server_information.json"), &info); err != nil {
		tb.Fatal(err)
	}
	return info.SchemaHash
}
