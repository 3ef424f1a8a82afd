package ftrack_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// fuzzStatuses are the HTTP statuses a fuzzed answer is sent with.
var fuzzStatuses = []int{http.StatusOK, http.StatusBadRequest, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable}

// cannedTransport answers /api requests with a canned body once armed, and passes every other
// request (and every request before it is armed) to the emulator.
type cannedTransport struct {
	mu     sync.Mutex
	armed  bool
	status int
	body   []byte
}

func (c *cannedTransport) set(status int, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed, c.status, c.body = true, status, body
}

func (c *cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	armed, status, body := c.armed, c.status, c.body
	c.mu.Unlock()
	if !armed || !strings.HasSuffix(req.URL.Path, "/api") {
		return http.DefaultTransport.RoundTrip(req)
	}
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if status == http.StatusTooManyRequests {
		h.Set("Retry-After", "2")
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), Request: req}, nil
}

// FuzzSessionDecode sends arbitrary answers, with arbitrary HTTP statuses, through a real
// Session's Call: it must never panic, must report failures as the client's typed errors,
// must never accept a document encoding/json rejects or an HTTP error status, must decode
// plain JSON (no ftrack tags) exactly as encoding/json does, and must never put the API key
// into an error.
func FuzzSessionDecode(f *testing.F) {
	srv := newServer(f)
	ct := &cannedTransport{}
	s := newSession(f, srv, ftrack.WithHTTPClient(&http.Client{Transport: ct}))
	for _, seed := range []string{
		`[{"action": "query", "data": [], "metadata": {"next": {"offset": null}}}]`,
		`[{"action": "query", "data": [{"__entity_type__": "Task", "id": "00a574b0-1c44-11e2-a9da-f23c91df25eb", "name": "comp", "created_at": {"__type__": "datetime", "value": "2022-10-10T10:12:09"}}], "metadata": {"next": {"offset": 1}}}]`,
		`[{"action": "query", "data": [{"__entity_type__": "Task", "id": "t1", "parent": {"__entity_type__": "Shot", "id": "s1"}}, {"__entity_type__": "Task", "id": "t2", "parent": {"__entity_type__": "Shot", "id": "s1", "name": "sh010"}}]}]`,
		`[{"__entity_type__": "Project", "id": "p1", "start_date": {"__type__": "date", "value": "2027-01-11"}}]`,
		`[{"exception": "ValidationError", "content": "bad", "error_code": null}]`,
		`{"exception": "ServerError", "content": "key ` + ftracktest.DefaultAPIKey + ` leaked?"}`,
		`{"exception": "PermissionError", "content": {"reason": "` + ftracktest.DefaultAPIKey + `"}}`,
		`[1, 2.5e3, -0, "\u00e9\ud83d\ude00", true, false, null, {"a": [[]]}]`,
		`[{"a": 1, "a": 2}]`,
		`["\ud800"]`,
		`[` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `]`,
		`<html>502 Bad Gateway</html>`,
		``,
	} {
		for i := range fuzzStatuses {
			f.Add([]byte(seed), uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, statusIndex uint8) {
		status := fuzzStatuses[int(statusIndex)%len(fuzzStatuses)]
		ct.set(status, body)
		res, err := s.Call(t.Context(), []map[string]any{{"action": "query", "expression": "select id from Task"}})
		if err != nil {
			if strings.Contains(err.Error(), ftracktest.DefaultAPIKey) {
				t.Fatalf("the API key appears in the error: %v", err)
			}
			var (
				te *ftrack.TransportError
				se *ftrack.ServerError
				rl *ftrack.RateLimitError
			)
			if !errors.As(err, &te) && !errors.As(err, &se) && !errors.As(err, &rl) {
				t.Fatalf("error %T is none of the client's typed errors: %v", err, err)
			}
			if status == http.StatusTooManyRequests && !errors.As(err, &rl) && !errors.As(err, &te) {
				t.Fatalf("a 429 answer gave %T, want *RateLimitError: %v", err, err)
			}
			return
		}
		if status != http.StatusOK {
			t.Fatalf("an HTTP %d answer was accepted: %q", status, body)
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a document encoding/json rejects: %q", body)
		}
		if len(res) != 1 {
			t.Fatalf("got %d results for one operation", len(res))
		}
		if bytes.Contains(body, []byte("__")) || !utf8.Valid(body) || bytes.Contains(body, []byte(`\u`)) {
			return // ftrack tags, or text encoding/json repairs its own way
		}
		var want []any
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		// reflect.DeepEqual first: cmp's slice diff is exponential in the nesting depth
		// (a 64-deep [[[…]]] took minutes), and the decoder allows 512 levels.
		if !reflect.DeepEqual(want[0], res[0]) {
			t.Fatalf("decoded %q differently from encoding/json (-want +got):\n%s", body, cmp.Diff(want[0], res[0]))
		}
	})
}
