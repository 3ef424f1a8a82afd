package ftrack_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// newServer starts an emulator closed at the end of the test.
func newServer(t testing.TB, opts ...ftracktest.Option) *ftracktest.Server {
	t.Helper()
	srv, err := ftracktest.NewServer(opts...)
	if err != nil {
		t.Fatalf("ftracktest.NewServer: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// newSession opens a session on srv with the default user, no schema cache
// and no plugin paths, closed at the end of the test.
func newSession(t testing.TB, srv *ftracktest.Server, opts ...ftrack.Option) *ftrack.Session {
	t.Helper()
	base := []ftrack.Option{
		ftrack.WithServerURL(srv.URL),
		ftrack.WithAPIUser(ftracktest.DefaultUser),
		ftrack.WithAPIKey(ftracktest.DefaultAPIKey),
		ftrack.WithoutSchemaCache(),
		ftrack.WithPluginPaths(),
	}
	s, err := ftrack.NewSession(context.Background(), append(base, opts...)...)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) Count(s string) int { return strings.Count(b.String(), s) }

func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// newProject creates and commits a project on the default schema.
func newProject(t testing.TB, s *ftrack.Session, name string) *ftrack.Entity {
	t.Helper()
	schemaEnt, err := s.Get(t.Context(), "ProjectSchema", builtin.DefaultProjectSchemaID)
	if err != nil {
		t.Fatalf("Get ProjectSchema: %v", err)
	}
	p, err := s.Create("Project", map[string]any{"name": name, "full_name": name, "project_schema": schemaEnt})
	if err != nil {
		t.Fatalf("Create Project: %v", err)
	}
	if err := s.Commit(t.Context()); err != nil {
		t.Fatalf("Commit Project: %v", err)
	}
	return p
}

type ftrackEvent = event.Event
