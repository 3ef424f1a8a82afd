package ftrack_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
)

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	p := newProject(t, s, "concurrent")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				e, err := s.Create("Task", map[string]any{"name": fmt.Sprintf("g%d-%d", g, i), "parent": p})
				if err != nil {
					errs <- err
					return
				}
				if err := e.Set("description", "x"); err != nil {
					errs <- err
					return
				}
				if _, err := e.Get("name"); err != nil {
					errs <- err
					return
				}
				if err := s.Commit(t.Context()); err != nil {
					errs <- err
					return
				}
				r, err := s.Query(fmt.Sprintf("Task where parent.id is \"%s\"", p.ID()))
				if err != nil {
					errs <- err
					return
				}
				if _, err := r.All(t.Context()); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	all := must(must(s.Query(fmt.Sprintf("Task where parent.id is \"%s\"", p.ID()))).All(t.Context()))
	if len(all) != 30 {
		t.Errorf("%d tasks on the server, want 30", len(all))
	}
}

// TestEventHubAndClose is not parallel: it counts goroutines.
func TestEventHubAndClose(t *testing.T) {
	srv := newServer(t)
	base := runtime.NumGoroutine()
	s, err := ftrack.NewSession(t.Context(), ftrack.WithServerURL(srv.URL), ftrack.WithAPIUser("ftracktest"),
		ftrack.WithAPIKey("ftracktest-api-key"), ftrack.WithoutSchemaCache(), ftrack.WithPluginPaths(),
		ftrack.WithAutoConnectEventHub(true))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !s.EventHub().Connected() {
		if time.Now().After(deadline) {
			t.Fatal("event hub not connected within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := srv.EventHubConnections(); n != 1 {
		t.Errorf("server sees %d event hub connections, want 1", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before the session:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s.EventHub().Connected() {
		t.Error("event hub still connected after Close")
	}
}
