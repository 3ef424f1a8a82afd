package ftrack_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// readReference reads a recorded real-server answer from
// ../shared/ftrack-reference relative to the module root.
func readReference(tb testing.TB, name string) []byte {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("cannot locate the test source file")
	}
	dir := filepath.Dir(file)
	for range 16 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			b, err := os.ReadFile(filepath.Join(dir, "..", "shared", "ftrack-reference", name))
			if err != nil {
				tb.Fatalf("read reference %s: %v", name, err)
			}
			return b
		}
		dir = filepath.Dir(dir)
	}
	tb.Fatal("go.mod not found")
	return nil
}

// answer wraps a recorded single result into an /api answer array.
func answer(tb testing.TB, name string) []byte {
	return []byte("[" + strings.TrimSpace(string(readReference(tb, name))) + "]")
}

// TestReferenceAnswers decodes answers recorded from a real server with the
// real server's schema.
func TestReferenceAnswers(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ftracktest.WithSchema(readReference(t, "query_schemas.json")))
	s := newSession(t, srv, ftrack.WithAutoPopulate(false))
	if s.Schemas().Len() != 116 {
		t.Fatalf("%d types from the reference schema, want 116", s.Schemas().Len())
	}

	t.Run("normalised query", func(t *testing.T) {
		res := must(ftrack.DecodeAnswerForTest(s, answer(t, "query_select_status.state.short_from_task_where_status.state.short_is_not_started_limit_2.json")))
		data := res[0].(map[string]any)["data"].([]any)
		if len(data) != 2 {
			t.Fatalf("%d tasks, want 2", len(data))
		}
		st1 := data[0].(*ftrack.Entity).MustGet("status").(*ftrack.Entity)
		st2 := data[1].(*ftrack.Entity).MustGet("status").(*ftrack.Entity)
		if st1 != st2 {
			t.Error("the second task's bare status reference is not the first task's status")
		}
		state, _ := st2.MustGet("state").(*ftrack.Entity)
		if state == nil || state.MustGet("short") != "NOT_STARTED" {
			t.Errorf("state through the bare reference = %v", state)
		}
	})
	t.Run("datetime", func(t *testing.T) {
		res := must(ftrack.DecodeAnswerForTest(s, answer(t, "query_select_name,_created_at_from_task_limit_1.json")))
		task := res[0].(map[string]any)["data"].([]any)[0].(*ftrack.Entity)
		if created, ok := task.MustGet("created_at").(time.Time); !ok || created.IsZero() {
			t.Errorf("created_at = %v, want a time.Time", task.MustGet("created_at"))
		}
	})
	t.Run("create answer", func(t *testing.T) {
		res := must(ftrack.DecodeAnswerForTest(s, answer(t, "create_user.json")))
		user := res[0].(map[string]any)["data"].(*ftrack.Entity)
		if user.EntityType() != "User" || user.ID() == "" {
			t.Errorf("created user = %v", user)
		}
	})
}
