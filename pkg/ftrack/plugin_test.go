package ftrack_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
	// Plugin files are interpreted by the loader this package installs.
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/plugin"
)

func TestPluginDiscovery(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	dir := func(name string) string { return filepath.Join("testdata", "plugins", name) }
	cases := map[string]struct {
		reason   string
		paths    []string
		args     bool
		calls    []string
		culling  int
		failures int
		noReg    int
	}{
		"session only": {
			reason: "arguments a Register(session) cannot take are culled with the warning",
			paths:  []string{dir("session_only")}, args: true, culling: 1,
		},
		"session only without arguments": {
			reason: "no warning when nothing is culled",
			paths:  []string{dir("session_only")},
		},
		"struct options": {
			reason: "a struct receives the arguments it names; the others are culled; subdirectories are walked",
			paths:  []string{dir("options")}, args: true, calls: []string{"ready:hello"}, culling: 1,
		},
		"map": {
			reason: "a map receives every argument without a warning",
			paths:  []string{dir("args_map")}, args: true, calls: []string{"map:hello"},
		},
		"no parameters": {
			reason: "Register() is called with the session culled",
			paths:  []string{dir("no_params")}, culling: 1,
		},
		"no register": {
			reason: "a file without Register is skipped with a warning",
			paths:  []string{dir("no_register")}, noReg: 1,
		},
		"broken": {
			reason: "a file that does not compile is skipped with a warning",
			paths:  []string{dir("broken")}, failures: 1,
		},
		"several paths": {
			reason: "all paths are searched; empty entries are ignored",
			paths:  []string{"", dir("args_map"), " ", dir("broken")}, args: true, calls: []string{"map:hello"}, failures: 1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var calls []string
			record := func(s string) { mu.Lock(); calls = append(calls, s); mu.Unlock() }
			logger, logs := newLogger()
			opts := []ftrack.Option{ftrack.WithPluginPaths(tc.paths...), ftrack.WithLogger(logger)}
			if tc.args {
				opts = append(opts, ftrack.WithPluginArguments(map[string]any{"record": record, "greeting": "hello", "unused": 1}))
			}
			newSession(t, srv, opts...)
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff(tc.calls, calls); diff != "" {
				t.Errorf("%s: calls (-want +got):\n%s", tc.reason, diff)
			}
			if got := logs.Count(ftrack.CullingWarning); got != tc.culling {
				t.Errorf("%s: %d culling warnings, want %d; logs:\n%s", tc.reason, got, tc.culling, logs)
			}
			if got := logs.Count("Failed to load plugin from"); got != tc.failures {
				t.Errorf("%s: %d load failures, want %d; logs:\n%s", tc.reason, got, tc.failures, logs)
			}
			if got := logs.Count(`did not define a \"Register\" function`); got != tc.noReg {
				t.Errorf("%s: %d missing-Register warnings, want %d; logs:\n%s", tc.reason, got, tc.noReg, logs)
			}
		})
	}
}

func TestCompiledPluginsAndLocalEvents(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	var mu sync.Mutex
	var topics []string
	var gotArgs map[string]any
	plugin := func(s *ftrack.Session, args map[string]any) error {
		gotArgs = args
		s.SubscribeLocal("*", func(e ftrackEvent) any {
			mu.Lock()
			topics = append(topics, e.Topic)
			mu.Unlock()
			return nil
		})
		return nil
	}
	s := newSession(t, srv, ftrack.WithPlugin(plugin), ftrack.WithPluginArguments(map[string]any{"a": 1}))
	if diff := cmp.Diff(map[string]any{"a": 1}, gotArgs); diff != "" {
		t.Errorf("plugin arguments (-want +got):\n%s", diff)
	}
	mu.Lock()
	got := slices.Clone(topics)
	mu.Unlock()
	constructs := 0
	for _, tp := range got {
		if tp == ftrack.TopicConstructEntityType {
			constructs++
		}
	}
	if constructs != s.Schemas().Len() {
		t.Errorf("%d construct-entity-type events, want one per schema (%d)", constructs, s.Schemas().Len())
	}
	tail := got[len(got)-2:]
	if diff := cmp.Diff([]string{ftrack.TopicConfigureLocation, ftrack.TopicSessionReady}, tail); diff != "" {
		t.Errorf("last start-up events (-want +got):\n%s", diff)
	}
	mustOK(t, s.Reset())
	mu.Lock()
	last := slices.Clone(topics[len(topics)-2:])
	mu.Unlock()
	if diff := cmp.Diff([]string{ftrack.TopicConfigureLocation, ftrack.TopicSessionReset}, last); diff != "" {
		t.Errorf("reset events (-want +got):\n%s", diff)
	}

	failing := func(*ftrack.Session, map[string]any) error { return errors.New("plugin refused") }
	if _, err := ftrack.NewSession(t.Context(), ftrack.WithServerURL(srv.URL), ftrack.WithAPIUser("ftracktest"),
		ftrack.WithAPIKey("ftracktest-api-key"), ftrack.WithoutSchemaCache(), ftrack.WithPluginPaths(), ftrack.WithPlugin(failing)); err == nil {
		t.Error("a failing plugin did not abort NewSession")
	}
}

func TestLocalEventsReachHubSubscribers(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	var mu sync.Mutex
	var got []string
	_, err := s.EventHub().Subscribe("topic=ftrack.api.session.reset", func(_ context.Context, d *event.Delivery) (any, error) {
		mu.Lock()
		got = append(got, d.Event.Topic)
		mu.Unlock()
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, s.Reset())
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{ftrack.TopicSessionReset}, got); diff != "" {
		t.Errorf("hub subscriber calls (-want +got):\n%s", diff)
	}
}

// TestPluginFilesWithoutLoader: a program that does not import pkg/ftrack/plugin does not
// link the interpreter; its sessions skip plugin files with a warning instead of failing.
// Not parallel: it swaps the process's loader.
func TestPluginFilesWithoutLoader(t *testing.T) {
	srv := newServer(t)
	ftrack.RegisterPluginLoader(nil)
	t.Cleanup(func() { ftrack.RegisterPluginLoader(plugin.Load) })
	logger, logs := newLogger()
	calls := 0
	newSession(t, srv, ftrack.WithPluginPaths(filepath.Join("testdata", "plugins", "args_map")), ftrack.WithLogger(logger),
		ftrack.WithPlugin(func(*ftrack.Session, map[string]any) error { calls++; return nil }))
	if calls != 1 {
		t.Errorf("compiled-in plugin called %d times, want 1", calls)
	}
	if logs.Count("no plugin loader is linked") != 1 {
		t.Errorf("no warning that plugin files were skipped:\n%s", logs.String())
	}
}

// TestLocationPluginFile: a plugin file (interpreted, as the Python client loads location
// plugins from FTRACK_EVENT_PLUGIN_PATH) configures a disk location when the session starts,
// and again after Reset.
func TestLocationPluginFile(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	prefix := t.TempDir()
	logger, logs := newLogger()
	s := newSession(t, srv, ftrack.WithPluginPaths(filepath.Join("testdata", "plugins", "disk_location")),
		ftrack.WithPluginArguments(map[string]any{"prefix": prefix}), ftrack.WithLogger(logger))
	check := func(when string) {
		t.Helper()
		l := s.Location("studio.disk")
		if l == nil || s.PickLocation() != l || l.Priority != 1 {
			t.Fatalf("%s: studio.disk is not configured first: %+v; logs:\n%s", when, l, logs)
		}
		d, ok := l.Accessor.(*ftrack.DiskAccessor)
		if !ok || d.Prefix != prefix {
			t.Errorf("%s: accessor %#v, want a DiskAccessor under %s", when, l.Accessor, prefix)
		}
	}
	check("after NewSession")
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	check("after Reset")
}

// TestPanickingHandlerIsLogged: a local handler that panics is logged, and the session and
// the other handlers go on.
func TestPanickingHandlerIsLogged(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	logger, logs := newLogger()
	var after bool
	s := newSession(t, srv, ftrack.WithLogger(logger), ftrack.WithPlugin(func(s *ftrack.Session, _ map[string]any) error {
		s.SubscribeLocal(ftrack.TopicSessionReset, func(ftrackEvent) any { panic("broken plugin") })
		s.SubscribeLocal(ftrack.TopicSessionReset, func(ftrackEvent) any { after = true; return nil })
		return nil
	}))
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	if !after || logs.Count("an event handler panicked") != 1 || logs.Count("broken plugin") != 1 {
		t.Errorf("handler after the panic called: %v; logs:\n%s", after, logs)
	}
}
