package ftrack_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

func TestCallErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	cases := map[string]struct {
		reason    string
		fault     func()
		sentinel  error
		exception string
		status    int
	}{
		"validation": {
			reason:    "a ValidationError answer matches ErrValidation",
			fault:     func() { srv.FailNext(1, http.StatusBadRequest, "ValidationError") },
			sentinel:  ftrack.ErrValidation,
			exception: "ValidationError",
			status:    http.StatusBadRequest,
		},
		"permission": {
			reason:    "a PermissionError answer matches ErrPermissionDenied",
			fault:     func() { srv.FailNext(1, http.StatusForbidden, "PermissionError") },
			sentinel:  ftrack.ErrPermissionDenied,
			exception: "PermissionError",
			status:    http.StatusForbidden,
		},
		"not found": {
			reason:    "a 404 answer matches ErrNotFound",
			fault:     func() { srv.FailNext(1, http.StatusNotFound, "NoResultFoundError") },
			sentinel:  ftrack.ErrNotFound,
			exception: "NoResultFoundError",
			status:    http.StatusNotFound,
		},
		"credentials": {
			reason:    "an InvalidCredentialsError answer matches ErrInvalidCredentials",
			fault:     func() { srv.FailNext(1, http.StatusUnauthorized, "InvalidCredentialsError") },
			sentinel:  ftrack.ErrInvalidCredentials,
			exception: "InvalidCredentialsError",
			status:    http.StatusUnauthorized,
		},
		"generic": {
			reason:    "a 200 answer with an error object is still an error",
			fault:     func() { srv.FailNext(1, http.StatusOK, "ServerError") },
			exception: "ServerError",
			status:    http.StatusOK,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// Not parallel: faults are injected on the shared server.
			tc.fault()
			_, err := s.Call(t.Context(), []map[string]any{{"action": "query", "expression": "select id from Location"}})
			var se *ftrack.ServerError
			if !errors.As(err, &se) {
				t.Fatalf("%s: got %v (%T), want *ServerError", tc.reason, err, err)
			}
			if se.Exception != tc.exception || se.StatusCode != tc.status {
				t.Errorf("%s: got %s/%d, want %s/%d", tc.reason, se.Exception, se.StatusCode, tc.exception, tc.status)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("%s: errors.Is(%v, %v) = false", tc.reason, err, tc.sentinel)
			}
			if strings.Contains(err.Error(), ftracktest.DefaultAPIKey) {
				t.Errorf("%s: error string contains the API key: %v", tc.reason, err)
			}
		})
	}
}

func TestRateLimitError(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	srv.RateLimitNext(1, 3*time.Second)
	_, err := s.Call(t.Context(), []map[string]any{{"action": "query", "expression": "select id from Location"}})
	var rl *ftrack.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("got %v (%T), want *RateLimitError", err, err)
	}
	if rl.RetryAfter != 3*time.Second {
		t.Errorf("RetryAfter = %v, want 3s", rl.RetryAfter)
	}
	if !errors.Is(err, ftrack.ErrRateLimited) {
		t.Errorf("errors.Is(err, ErrRateLimited) = false")
	}
	// The next call goes through again.
	if _, err := s.Call(t.Context(), []map[string]any{{"action": "query", "expression": "select id from Location"}}); err != nil {
		t.Errorf("call after the rate limit: %v", err)
	}
}

func TestInvalidCredentials(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	const badKey = "wrong-secret-key-1234"
	_, err := ftrack.NewSession(t.Context(),
		ftrack.WithServerURL(srv.URL), ftrack.WithAPIUser(ftracktest.DefaultUser), ftrack.WithAPIKey(badKey),
		ftrack.WithoutSchemaCache(), ftrack.WithPluginPaths())
	if !errors.Is(err, ftrack.ErrInvalidCredentials) {
		t.Fatalf("got %v, want ErrInvalidCredentials", err)
	}
	if strings.Contains(err.Error(), badKey) {
		t.Errorf("error string contains the API key: %v", err)
	}
}

func TestTransportErrorHidesKey(t *testing.T) {
	t.Parallel()
	const key = "transport-secret-key"
	// The server answers the start-up call, then closes the connection
	// without an answer.
	var n int
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		if n == 1 {
			_, _ = w.Write([]byte(`[{"version": "dev", "schema_hash": ""}]`))
			return
		}
		if n == 2 {
			_, _ = w.Write([]byte(`[[{"id": "Location", "type": "object", "primary_key": ["id"], "properties": {"id": {"type": "string"}}}]]`))
			return
		}
		hj, _ := w.(http.Hijacker)
		c, _, _ := hj.Hijack()
		_ = c.Close()
	}))
	defer hs.Close()
	s, err := ftrack.NewSession(t.Context(), ftrack.WithServerURL(hs.URL), ftrack.WithAPIUser("u"),
		ftrack.WithAPIKey(key), ftrack.WithoutSchemaCache(), ftrack.WithPluginPaths())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Call(t.Context(), []map[string]any{{"action": "query", "expression": "select id from Location"}})
	var te *ftrack.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("got %v (%T), want *TransportError", err, err)
	}
	if strings.Contains(err.Error(), key) {
		t.Errorf("error string contains the API key: %v", err)
	}
}

func TestMalformedAndOversizedAnswers(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		status int
		body   string
		limit  int64
		check  func(error) bool
	}{
		"html error": {
			reason: "a non-JSON error page with an error status is a ServerError with the status",
			status: http.StatusBadGateway, body: "<html>bad gateway</html>",
			check: func(err error) bool {
				var se *ftrack.ServerError
				return errors.As(err, &se) && se.StatusCode == http.StatusBadGateway
			},
		},
		"object without exception": {
			reason: "a JSON object instead of an array is an error in an unexpected format",
			status: http.StatusOK, body: `{"foo": 1}`,
			check: func(err error) bool {
				var se *ftrack.ServerError
				return errors.As(err, &se) && strings.Contains(se.Content, "unexpected format")
			},
		},
		"too large": {
			reason: "an answer above the size limit is refused",
			status: http.StatusOK, body: `[` + strings.Repeat(`"x",`, 100) + `"x"]`, limit: 200,
			check: func(err error) bool { return errors.Is(err, ftrack.ErrResponseTooLarge) },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var n int
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n++
				switch n {
				case 1:
					_, _ = w.Write([]byte(`[{"version": "dev"}]`))
				case 2:
					_, _ = w.Write([]byte(`[[{"id": "Location", "type": "object", "primary_key": ["id"], "properties": {"id": {"type": "string"}}}]]`))
				default:
					w.WriteHeader(tc.status)
					_, _ = w.Write([]byte(tc.body))
				}
			}))
			defer hs.Close()
			opts := []ftrack.Option{ftrack.WithServerURL(hs.URL), ftrack.WithAPIUser("u"), ftrack.WithAPIKey("k"), ftrack.WithoutSchemaCache(), ftrack.WithPluginPaths()}
			if tc.limit > 0 {
				opts = append(opts, ftrack.WithMaxResponseBytes(tc.limit))
			}
			s, err := ftrack.NewSession(context.Background(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, err = s.Call(t.Context(), []map[string]any{{"action": "query", "expression": "select id from Location"}})
			if err == nil || !tc.check(err) {
				t.Errorf("%s: got %v (%T)", tc.reason, err, err)
			}
		})
	}
}

func TestClosedSession(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if !s.Closed() {
		t.Error("Closed() = false after Close")
	}
	_, err := s.Call(t.Context(), nil)
	if !errors.Is(err, ftrack.ErrSessionClosed) {
		t.Errorf("Call after Close: got %v, want ErrSessionClosed", err)
	}
	if _, err := s.Query("Location"); !errors.Is(err, ftrack.ErrSessionClosed) {
		t.Errorf("Query after Close: got %v, want ErrSessionClosed", err)
	}
	if err := s.Commit(t.Context()); !errors.Is(err, ftrack.ErrSessionClosed) {
		t.Errorf("Commit after Close: got %v, want ErrSessionClosed", err)
	}
}

func TestNoSecretInLogs(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	logger, logs := newLogger()
	s := newSession(t, srv, ftrack.WithLogger(logger), ftrack.WithSchemaCacheDir(filepath.Join(t.TempDir(), "missing")))
	p := newProject(t, s, "secrets")
	must(s.Create("Task", map[string]any{"name": "t", "parent": p}))
	srv.FailNext(1, http.StatusInternalServerError, "ServerError")
	if err := s.Commit(t.Context()); err == nil {
		t.Fatal("commit succeeded despite the fault")
	}
	_ = s.Close() // warns about pending operations
	if logs.String() == "" {
		t.Fatal("nothing was logged; the test would not see a leak")
	}
	if strings.Contains(logs.String(), ftracktest.DefaultAPIKey) {
		t.Errorf("logs contain the API key:\n%s", logs)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv, ftrack.WithTimeout(time.Second))
	srv.SetLatency(2500*time.Millisecond, 0)
	defer srv.SetLatency(0, 0)
	start := time.Now()
	_, err := s.Call(t.Context(), []map[string]any{{"action": "query", "expression": "select id from Location"}})
	var te *ftrack.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("got %v (%T), want *TransportError", err, err)
	}
	if d := time.Since(start); d > 2200*time.Millisecond {
		t.Errorf("call took %v despite a 1s timeout", d)
	}
	// A cancelled context ends the call as well.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Call(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v, want context.Canceled", err)
	}
}
