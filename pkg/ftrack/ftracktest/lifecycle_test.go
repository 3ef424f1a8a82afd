package ftracktest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCloseWaitsForInFlightRequests(t *testing.T) {
	t.Parallel()
	s, err := NewServer(WithSchema(referenceSchema(t)), WithoutBuiltinSeed(), WithLatency(300*time.Millisecond, 0))
	if err != nil {
		t.Fatal(err)
	}
	result := make(chan int, 1)
	go func() {
		req, _ := newAPIRequest(s, `[{"action": "query_server_information"}]`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			result <- -1
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	// Wait until the request is in the handler (held there by the latency).
	deadline := time.Now().Add(5 * time.Second)
	for s.inFlight.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if s.inFlight.Load() == 0 {
		t.Fatal("the request never reached the handler")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close waited: the request got its answer instead of a cut connection.
	select {
	case got := <-result:
		if got != http.StatusOK {
			t.Errorf("in-flight request finished with %d (-1: connection cut), want 200", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight request never finished")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v, want nil (idempotent)", err)
	}
	if _, err := http.Post(s.URL+"/api", "application/json", strings.NewReader("[]")); err == nil {
		t.Error("the server still accepts connections after Close")
	}
}

func TestDropEventHubConnections(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	hub := dialHub(t, s)
	_ = hub
	deadline := time.Now().Add(5 * time.Second)
	for s.EventHubConnections() != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := s.DropEventHubConnections(); got != 1 {
		t.Errorf("DropEventHubConnections() = %d, want 1", got)
	}
	for s.EventHubConnections() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := s.EventHubConnections(); got != 0 {
		t.Errorf("EventHubConnections() = %d after dropping, want 0", got)
	}
}

func TestResetRemoteAPIKey(t *testing.T) {
	t.Parallel()
	n := 0
	s := newFixtureServer(t, WithIDGenerator(func() string { n++; return fmt.Sprintf("00000000-0000-0000-0000-%012d", n) }))
	uid := mustUserID(t, s)
	_, out := post(t, s, []any{map[string]any{"action": "reset_remote", "reset_type": "api_key", "entity_type": "User", "entity_key": uid}}, nil)
	list, ok := out.([]any)
	if !ok {
		t.Fatalf("reset_remote failed: %v", out)
	}
	newKey := list[0].(map[string]any)["data"].(map[string]any)["api_key"].(string)
	if newKey == DefaultAPIKey || newKey == "" {
		t.Fatalf("reset_remote returned %q, want a new key", newKey)
	}
	if status, _ := post(t, s, []any{}, nil); status != http.StatusUnauthorized {
		t.Errorf("the old key still works (%d)", status)
	}
	if status, _ := post(t, s, []any{}, map[string]string{"ftrack-api-key": newKey}); status != http.StatusOK {
		t.Errorf("the new key does not work (%d)", status)
	}
}

func TestCollectionsAndMetadata(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	uid := mustUserID(t, s)
	noteID := "00000000-0000-0000-0000-000000000801"
	_, out := post(t, s, []any{
		op("create", "Note", "entity_data", map[string]any{"id": noteID, "content": "looks good", "user_id": uid}),
		op("update", "Shot", "entity_key", []any{fxShotID}, "entity_data", map[string]any{"notes": []any{ref("Note", noteID)}}),
		op("create", "Metadata", "entity_data", map[string]any{"parent_id": fxShotID, "parent_type": "Shot", "key": "a", "value": "1"}),
		op("create", "Metadata", "entity_data", map[string]any{"parent_id": fxShotID, "parent_type": "Shot", "key": "b", "value": "2"}),
		op("update", "Metadata", "entity_key", []any{fxShotID, "a"}, "entity_data", map[string]any{"value": "10"}),
		op("delete", "Metadata", "entity_key", []any{fxShotID, "b"}),
	}, nil)
	if exc, content := errorOf(out); exc != "" {
		t.Fatalf("batch: %s %s", exc, content)
	}
	res := query(t, s, `select notes.content, notes.parent_type, metadata.key, metadata.value from Shot where id is "`+fxShotID+`"`)["data"].([]any)[0].(map[string]any)
	wantNotes := []any{map[string]any{"__entity_type__": "Note", "id": noteID, "content": "looks good", "parent_type": "Shot"}}
	if diff := cmp.Diff(wantNotes, res["notes"]); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	wantMeta := []any{map[string]any{"__entity_type__": "Metadata", "parent_id": fxShotID, "key": "a", "value": "10"}}
	if diff := cmp.Diff(wantMeta, res["metadata"]); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
	// Deleting the shot removes its note and metadata.
	post(t, s, []any{op("delete", "Shot", "entity_key", fxShotID)}, nil)
	if s.Count("Note") != 0 || s.Count("Metadata") != 0 {
		t.Errorf("after deleting the shot: %d notes, %d metadata, want 0 and 0", s.Count("Note"), s.Count("Metadata"))
	}
}

func TestDatetimeForms(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	cases := map[string]struct {
		reason string
		value  any
		want   string
	}{
		"Naive":          {"naive datetimes are UTC", map[string]any{"__type__": "datetime", "value": "2024-01-02T03:04:05"}, "2024-01-02T03:04:05"},
		"Fraction":       {"microseconds are kept, as ftrack keeps them", map[string]any{"__type__": "datetime", "value": "2024-01-02T03:04:05.123456"}, "2024-01-02T03:04:05.123456"},
		"Nanoseconds":    {"below a microsecond is dropped", map[string]any{"__type__": "datetime", "value": "2024-01-02T03:04:05.999999999Z"}, "2024-01-02T03:04:05.999999"},
		"Milliseconds":   {"JS milliseconds are written with six digits", map[string]any{"__type__": "datetime", "value": "2024-01-02T03:04:05.120Z"}, "2024-01-02T03:04:05.120000"},
		"Zulu":           {"JS sends milliseconds and Z", map[string]any{"__type__": "datetime", "value": "2024-01-02T03:04:05.000Z"}, "2024-01-02T03:04:05"},
		"PositiveOffset": {"offsets convert to UTC", map[string]any{"__type__": "datetime", "value": "2024-01-02T03:04:05+01:00"}, "2024-01-02T02:04:05"},
		"NegativeOffset": {"negative offsets convert to UTC", map[string]any{"__type__": "datetime", "value": "2024-01-02T23:04:05-05:00"}, "2024-01-03T04:04:05"},
		"DateOnly":       {"Python tags dates as datetime", map[string]any{"__type__": "datetime", "value": "2024-01-02"}, "2024-01-02T00:00:00"},
		"DateTag":        {"date tags are accepted", map[string]any{"__type__": "date", "value": "2024-01-02"}, "2024-01-02T00:00:00"},
		"PlainString":    {"untagged strings are accepted", "2024-01-02T03:04:05Z", "2024-01-02T03:04:05"},
	}
	i := 0
	var mu sync.Mutex
	for name, tc := range cases {
		mu.Lock()
		i++
		id := fmt.Sprintf("00000000-0000-0000-0000-%012d", 900+i)
		mu.Unlock()
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, out := post(t, s, []any{op("create", "Shot", "entity_data", map[string]any{"id": id, "name": id, "parent_id": fxSeqID, "start_date": tc.value})}, nil)
			if exc, content := errorOf(out); exc != "" {
				t.Fatalf("%s: %s %s", tc.reason, exc, content)
			}
			got := query(t, s, `select start_date from Shot where id is "`+id+`"`)["data"].([]any)[0].(map[string]any)["start_date"]
			if diff := cmp.Diff(map[string]any{"__type__": "datetime", "value": tc.want}, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestConcurrentBatches(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	const workers, perWorker = 8, 10
	var wg sync.WaitGroup
	errs := make(chan string, workers*perWorker)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				name := fmt.Sprintf("w%d-%d", w, i)
				_, out := post(t, s, []any{
					op("create", "Shot", "entity_data", map[string]any{"name": name, "parent_id": fxSeqID}),
					map[string]any{"action": "query", "expression": `select name from Shot where parent_id is "` + fxSeqID + `"`},
				}, nil)
				if exc, content := errorOf(out); exc != "" {
					errs <- exc + ": " + content
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := s.Count("Shot"); got != 2+workers*perWorker {
		t.Errorf("Count(Shot) = %d, want %d", got, 2+workers*perWorker)
	}
}
