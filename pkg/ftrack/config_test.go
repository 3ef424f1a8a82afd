package ftrack_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// TestEnvironmentConfiguration uses t.Setenv, so it is not parallel.
func TestEnvironmentConfiguration(t *testing.T) {
	srv := newServer(t, ftracktest.WithUser("envuser", "env-key"), ftracktest.WithUser("loginuser", "login-key"))
	cases := map[string]struct {
		reason  string
		env     map[string]string
		opts    []ftrack.Option
		user    string
		wantErr string
	}{
		"all from env": {
			reason: "FTRACK_SERVER, FTRACK_API_KEY and FTRACK_API_USER configure the session",
			env:    map[string]string{"FTRACK_SERVER": srv.URL + "/", "FTRACK_API_KEY": "env-key", "FTRACK_API_USER": "envuser"},
			user:   "envuser",
		},
		"legacy key variable": {
			reason: "FTRACK_APIKEY is the fallback for the key",
			env:    map[string]string{"FTRACK_SERVER": srv.URL, "FTRACK_APIKEY": "env-key", "FTRACK_API_USER": "envuser"},
			user:   "envuser",
		},
		"os user": {
			reason: "without FTRACK_API_USER the login name (LOGNAME) is the user",
			env:    map[string]string{"FTRACK_SERVER": srv.URL, "FTRACK_API_KEY": "login-key", "LOGNAME": "loginuser"},
			user:   "loginuser",
		},
		"options win": {
			reason: "options override the environment",
			env:    map[string]string{"FTRACK_SERVER": "http://127.0.0.1:1", "FTRACK_API_KEY": "x", "FTRACK_API_USER": "nobody"},
			opts:   []ftrack.Option{ftrack.WithServerURL(srv.URL), ftrack.WithAPIKey("env-key"), ftrack.WithAPIUser("envuser")},
			user:   "envuser",
		},
		"no server": {
			reason:  "a missing server URL is an error",
			env:     map[string]string{"FTRACK_API_KEY": "k", "FTRACK_API_USER": "u"},
			wantErr: "server URL",
		},
		"no key": {
			reason:  "a missing API key is an error",
			env:     map[string]string{"FTRACK_SERVER": srv.URL, "FTRACK_API_USER": "u"},
			wantErr: "API key",
		},
		"bad url": {
			reason:  "a server URL without scheme is refused",
			env:     map[string]string{"FTRACK_SERVER": "ftrack.example.com", "FTRACK_API_KEY": "k"},
			wantErr: "invalid server URL",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for _, k := range []string{"FTRACK_SERVER", "FTRACK_API_KEY", "FTRACK_APIKEY", "FTRACK_API_USER", "LOGNAME", "USER", "LNAME", "USERNAME", "FTRACK_EVENT_PLUGIN_PATH"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			s, err := ftrack.NewSession(t.Context(), append([]ftrack.Option{ftrack.WithoutSchemaCache()}, tc.opts...)...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("%s: got %v, want an error containing %q", tc.reason, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.reason, err)
			}
			defer s.Close()
			if s.APIUser() != tc.user {
				t.Errorf("%s: APIUser = %q, want %q", tc.reason, s.APIUser(), tc.user)
			}
			if strings.HasSuffix(s.ServerURL(), "/") {
				t.Errorf("%s: ServerURL %q keeps the trailing slash", tc.reason, s.ServerURL())
			}
			reqs := srv.Requests()
			if last := reqs[len(reqs)-1]; last.User != tc.user {
				t.Errorf("%s: user on the wire = %q, want %q", tc.reason, last.User, tc.user)
			}
		})
	}
}

func TestOptionValidation(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		opt    ftrack.Option
	}{
		"empty url":     {"an empty server URL is refused", ftrack.WithServerURL("")},
		"empty key":     {"an empty key is refused", ftrack.WithAPIKey("")},
		"zero timeout":  {"a zero timeout is refused", ftrack.WithTimeout(0)},
		"nil client":    {"a nil HTTP client is refused", ftrack.WithHTTPClient(nil)},
		"nil logger":    {"a nil logger is refused", ftrack.WithLogger(nil)},
		"zero max size": {"a zero response limit is refused", ftrack.WithMaxResponseBytes(0)},
		"empty token":   {"an empty client token is refused", ftrack.WithClientToken("")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := ftrack.NewSession(t.Context(), tc.opt); err == nil {
				t.Errorf("%s: NewSession succeeded", tc.reason)
			}
		})
	}
}

func TestHeadersOnTheWire(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	var seen []http.Header
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-mu
		seen = append(seen, r.Header.Clone())
		mu <- struct{}{}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, srv.URL+r.URL.Path, r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		buf := make([]byte, 32*1024)
		for {
			n, err := resp.Body.Read(buf)
			_, _ = w.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}))
	defer proxy.Close()
	s := newSession(t, srv, ftrack.WithServerURL(proxy.URL), ftrack.WithStrictAPI(true), ftrack.WithClientToken("token-1"),
		ftrack.WithHeaders(http.Header{"X-Studio": {"acme"}}))
	if s.ClientToken() != "token-1" {
		t.Errorf("ClientToken = %q", s.ClientToken())
	}
	<-mu
	got := seen
	mu <- struct{}{}
	if len(got) < 2 {
		t.Fatalf("saw %d requests, want at least 2 (server information, schemas)", len(got))
	}
	for i, h := range got {
		want := map[string]string{
			"Ftrack-User": ftracktest.DefaultUser, "Ftrack-Api-Key": ftracktest.DefaultAPIKey,
			"Ftrack-Strict-Api": "true", "Ftrack-Clienttoken": "token-1", "X-Studio": "acme",
			"Content-Type": "application/json", "Accept": "application/json",
		}
		gotH := map[string]string{}
		for k := range want {
			gotH[k] = h.Get(k)
		}
		if diff := cmp.Diff(want, gotH); diff != "" {
			t.Errorf("request %d headers (-want +got):\n%s", i, diff)
		}
	}
}

func TestDefaultClientToken(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	if !strings.HasPrefix(s.ClientToken(), "ftrack-go-api--") {
		t.Errorf("ClientToken = %q, want a generated ftrack-go-api-- token", s.ClientToken())
	}
	reqs := srv.Requests()
	if got := reqs[len(reqs)-1].ClientToken; got != s.ClientToken() {
		t.Errorf("ftrack-Clienttoken on the wire = %q, want %q", got, s.ClientToken())
	}
	if s2 := newSession(t, srv); s2.ClientToken() == s.ClientToken() {
		t.Error("two sessions share a generated client token")
	}
}

func TestSessionAuthenticationRoundTripper(t *testing.T) {
	t.Parallel()
	var user, key string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, key = r.Header.Get("ftrack-user"), r.Header.Get("ftrack-api-key")
	}))
	defer hs.Close()
	auth := &ftrack.SessionAuthentication{APIUser: "jane", APIKey: "s3cret"}
	hc := &http.Client{Transport: auth}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, hs.URL, nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if user != "jane" || key != "s3cret" {
		t.Errorf("headers = %q/%q, want jane/s3cret", user, key)
	}
	if req.Header.Get("ftrack-api-key") != "" {
		t.Error("RoundTrip modified the caller's request")
	}
	for _, s := range []string{auth.String(), auth.GoString()} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("%q shows the key", s)
		}
	}
}

func TestServerCompatibility(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason  string
		version string
		ok      bool
	}{
		"dev":       {"dev servers are accepted", "dev", true},
		"new":       {"4.13.0 is accepted", "4.13.0", true},
		"build":     {"a build suffix is ignored", "4.13.0.1234", true},
		"minimum":   {"3.3.11 is the minimum", "3.3.11", true},
		"old":       {"3.3.10 is refused", "3.3.10", false},
		"unmatched": {"a version without three parts is accepted", "3.4", true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, ftracktest.WithServerVersion(tc.version))
			s, err := ftrack.NewSession(t.Context(), ftrack.WithServerURL(srv.URL), ftrack.WithAPIUser(ftracktest.DefaultUser),
				ftrack.WithAPIKey(ftracktest.DefaultAPIKey), ftrack.WithoutSchemaCache(), ftrack.WithPluginPaths())
			if tc.ok {
				if err != nil {
					t.Fatalf("%s: %v", tc.reason, err)
				}
				s.Close()
				return
			}
			if !errors.Is(err, ftrack.ErrServerCompatibility) {
				t.Errorf("%s: got %v, want ErrServerCompatibility", tc.reason, err)
			}
		})
	}
}

func TestSchemaCache(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	open := func(t *testing.T, opts ...ftrack.Option) *ftrack.Session {
		t.Helper()
		s, err := ftrack.NewSession(t.Context(), append([]ftrack.Option{ftrack.WithServerURL(srv.URL), ftrack.WithAPIUser(ftracktest.DefaultUser),
			ftrack.WithAPIKey(ftracktest.DefaultAPIKey), ftrack.WithPluginPaths()}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	schemaCalls := func() int { return srv.RequestCount("query_schemas") }

	t.Run("miss then hit", func(t *testing.T) {
		dir := t.TempDir()
		before := schemaCalls()
		s := open(t, ftrack.WithSchemaCacheDir(dir))
		if got := schemaCalls() - before; got != 1 {
			t.Errorf("first session: %d query_schemas calls, want 1", got)
		}
		if s.SchemaCachePath() != filepath.Join(dir, ftrack.SchemaCacheFileName) {
			t.Errorf("SchemaCachePath = %q", s.SchemaCachePath())
		}
		if _, err := os.Stat(s.SchemaCachePath()); err != nil {
			t.Fatalf("cache file not written: %v", err)
		}
		before = schemaCalls()
		s2 := open(t, ftrack.WithSchemaCacheDir(dir))
		if got := schemaCalls() - before; got != 0 {
			t.Errorf("second session: %d query_schemas calls, want 0 (cache hit)", got)
		}
		if s2.SchemaHash() != s.SchemaHash() || s.SchemaHash() != s.Schemas().Hash() {
			t.Errorf("schema hashes: %q, %q, loaded %q", s.SchemaHash(), s2.SchemaHash(), s.Schemas().Hash())
		}
		if s2.Schemas().Len() != s.Schemas().Len() {
			t.Errorf("cached schemas: %d types, want %d", s2.Schemas().Len(), s.Schemas().Len())
		}
	})
	t.Run("stale", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, ftrack.SchemaCacheFileName)
		if err := os.WriteFile(path, []byte(`[{"id": "Old", "type": "object", "primary_key": ["id"], "properties": {}}]`), 0o600); err != nil {
			t.Fatal(err)
		}
		before := schemaCalls()
		s := open(t, ftrack.WithSchemaCacheDir(dir))
		if got := schemaCalls() - before; got != 1 {
			t.Errorf("%d query_schemas calls, want 1 (hash mismatch)", got)
		}
		if _, ok := s.Schemas().Get("Task"); !ok {
			t.Error("stale cache was used")
		}
		raw, _ := os.ReadFile(path)
		if strings.Contains(string(raw), `"Old"`) {
			t.Error("stale cache file was not rewritten")
		}
	})
	t.Run("disabled", func(t *testing.T) {
		dir := t.TempDir()
		before := schemaCalls()
		s := open(t, ftrack.WithSchemaCacheDir(dir), ftrack.WithoutSchemaCache())
		open(t, ftrack.WithSchemaCacheDir(dir), ftrack.WithoutSchemaCache())
		if got := schemaCalls() - before; got != 2 {
			t.Errorf("%d query_schemas calls, want 2 (no cache)", got)
		}
		if s.SchemaCachePath() != "" {
			t.Errorf("SchemaCachePath = %q, want empty", s.SchemaCachePath())
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("disabled cache wrote %d files", len(entries))
		}
	})
	t.Run("unwritable", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "missing", "dir")
		logger, logs := newLogger()
		before := schemaCalls()
		open(t, ftrack.WithSchemaCacheDir(dir), ftrack.WithLogger(logger))
		if got := schemaCalls() - before; got != 1 {
			t.Errorf("%d query_schemas calls, want 1", got)
		}
		if logs.Count("cannot write schema cache") != 1 {
			t.Errorf("write failure not logged once; logs:\n%s", logs)
		}
	})
}

// TestSchemaCacheEnvironment uses t.Setenv, so it is not parallel.
func TestSchemaCacheEnvironment(t *testing.T) {
	srv := newServer(t)
	dir := t.TempDir()
	t.Setenv("FTRACK_API_SCHEMA_CACHE_PATH", dir)
	s, err := ftrack.NewSession(t.Context(), ftrack.WithServerURL(srv.URL), ftrack.WithAPIUser(ftracktest.DefaultUser),
		ftrack.WithAPIKey(ftracktest.DefaultAPIKey), ftrack.WithPluginPaths())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want := filepath.Join(dir, ftrack.SchemaCacheFileName); s.SchemaCachePath() != want {
		t.Errorf("SchemaCachePath = %q, want %q", s.SchemaCachePath(), want)
	}
	if _, err := os.Stat(s.SchemaCachePath()); err != nil {
		t.Errorf("cache file not written in FTRACK_API_SCHEMA_CACHE_PATH: %v", err)
	}
}
