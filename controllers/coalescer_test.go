package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// newEmulatorSession starts an emulator and opens a session on it, both closed at the end
// of the test.
func newEmulatorSession(t testing.TB) (*ftracktest.Server, *ftrack.Session) {
	t.Helper()
	srv, err := ftracktest.NewServer()
	if err != nil {
		t.Fatalf("ftracktest.NewServer: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	s, err := ftrack.NewSession(context.Background(),
		ftrack.WithServerURL(srv.URL),
		ftrack.WithAPIUser(ftracktest.DefaultUser),
		ftrack.WithAPIKey(ftracktest.DefaultAPIKey),
		ftrack.WithoutSchemaCache(),
		ftrack.WithPluginPaths(),
		ftrack.WithAutoPopulate(false),
	)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	srv.ResetRequests()
	return srv, s
}

func createProjectOp(id, name string) map[string]any {
	return map[string]any{
		"action": "create", "entity_type": "Project",
		"entity_data": map[string]any{"__entity_type__": "Project", "id": id, "name": name, "full_name": name, "project_schema_id": builtin.DefaultProjectSchemaID},
	}
}

func TestCommitCoalescerBatchesConcurrentWork(t *testing.T) {
	t.Parallel()
	srv, s := newEmulatorSession(t)
	var batches, largest atomic.Int64
	c := NewCommitCoalescer(s.Call, WithCoalesceWindow(50*time.Millisecond), WithBatchObserver(func(n int) {
		batches.Add(1)
		for {
			old := largest.Load()
			if int64(n) <= old || largest.CompareAndSwap(old, int64(n)) {
				break
			}
		}
	}))
	t.Cleanup(func() { _ = c.Close() })

	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ops := []map[string]any{createProjectOp(fmt.Sprintf("00000000-0000-4000-8000-%012d", i), fmt.Sprintf("p%02d", i))}
			if i == 7 {
				// A create without its required name fails on the server.
				delete(ops[0]["entity_data"].(map[string]any), "name")
			}
			_, errs[i] = c.Do(t.Context(), ops...)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == 7) {
			t.Errorf("operation %d: error %v, want an error only for operation 7", i, err)
		}
	}
	if got := srv.Count("Project"); got != n-1 {
		t.Errorf("projects stored = %d, want %d", got, n-1)
	}
	// One batch of 40 fails, bisection isolates the bad create in about 2·log2(40) requests.
	if got := len(srv.Requests()); got > 14 {
		t.Errorf("requests = %d for %d creates, want at most 14", got, n)
	}
	t.Logf("%d creates (one invalid) took %d requests, largest batch %d operations", n, len(srv.Requests()), largest.Load())

	// Reads of many ids are merged into one query.
	srv.ResetRequests()
	got := make([]string, n)
	for i := range n {
		wg.Go(func() {
			e, err := c.Read(t.Context(), "Project", []string{"name"}, fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
			if err != nil {
				t.Errorf("Read %d: %v", i, err)
				return
			}
			if e != nil {
				got[i], _ = e.Values()["name"].(string)
			}
		})
	}
	wg.Wait()
	for i := range n {
		want := fmt.Sprintf("p%02d", i)
		if i == 7 {
			want = ""
		}
		if got[i] != want {
			t.Errorf("Read %d: name %q, want %q", i, got[i], want)
		}
	}
	if reqs := len(srv.Requests()); reqs != 1 {
		t.Errorf("reads took %d requests, want 1", reqs)
	}
}

func TestCommitCoalescerErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason   string
		inject   func(*ftracktest.Server)
		wantStat int
		wantOK   bool
	}{
		"ServerFailure": {
			reason:   "a 503 fails every caller of the batch without bisecting",
			inject:   func(s *ftracktest.Server) { s.FailNext(1, 503, "ServerError") },
			wantStat: 1,
		},
		"RateLimited": {
			reason:   "a 429 is returned to the callers with its hint, not retried split",
			inject:   func(s *ftracktest.Server) { s.RateLimitNext(1, time.Second) },
			wantStat: 1,
		},
		"Healthy": {
			reason:   "without faults the batch succeeds in one request",
			inject:   func(*ftracktest.Server) {},
			wantStat: 1,
			wantOK:   true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, s := newEmulatorSession(t)
			c := NewCommitCoalescer(s.Call, WithCoalesceWindow(30*time.Millisecond))
			t.Cleanup(func() { _ = c.Close() })
			tc.inject(srv)
			var wg sync.WaitGroup
			var failed atomic.Int64
			for i := range 4 {
				wg.Go(func() {
					if _, err := c.Do(t.Context(), createProjectOp(fmt.Sprintf("00000000-0000-4000-9000-%012d", i), fmt.Sprintf("q%d", i))); err != nil {
						failed.Add(1)
					}
				})
			}
			wg.Wait()
			want := int64(4)
			if tc.wantOK {
				want = 0
			}
			if diff := cmp.Diff(want, failed.Load()); diff != "" {
				t.Errorf("%s: failed callers (-want +got):\n%s", tc.reason, diff)
			}
			if got := len(srv.Requests()); got != tc.wantStat {
				t.Errorf("%s: requests = %d, want %d", tc.reason, got, tc.wantStat)
			}
		})
	}
}

func TestCommitCoalescerClose(t *testing.T) {
	t.Parallel()
	_, s := newEmulatorSession(t)
	c := NewCommitCoalescer(s.Call)
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := c.Do(t.Context(), createProjectOp("00000000-0000-4000-a000-000000000001", "x")); !errors.Is(err, ErrCoalescerClosed) {
		t.Errorf("Do after Close = %v, want ErrCoalescerClosed", err)
	}
}

// BenchmarkCommitCoalescer compares 50 concurrent creates sent one request each with the
// same creates sent through a coalescer; requests/op is the number of /api requests.
func BenchmarkCommitCoalescer(b *testing.B) {
	const concurrent = 50
	for _, mode := range []string{"Direct", "Coalesced"} {
		b.Run(mode, func(b *testing.B) {
			srv, s := newEmulatorSession(b)
			call := BatchFunc(s.Call)
			if mode == "Coalesced" {
				c := NewCommitCoalescer(s.Call)
				b.Cleanup(func() { _ = c.Close() })
				call = func(ctx context.Context, batch []map[string]any) ([]any, error) { return c.Do(ctx, batch...) }
			}
			srv.ResetRequests()
			n := 0
			for b.Loop() {
				var wg sync.WaitGroup
				for range concurrent {
					n++
					id := fmt.Sprintf("00000000-0000-4000-b000-%012d", n)
					wg.Go(func() {
						if _, err := call(context.Background(), []map[string]any{createProjectOp(id, "b"+id)}); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(len(srv.Requests()))/float64(b.N), "requests/op")
		})
	}
}

func TestCommitCoalescerHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	srv, s := newEmulatorSession(t)
	c := NewCommitCoalescer(s.Call)
	t.Cleanup(func() { _ = c.Close() })
	const hint = 2 * time.Second
	srv.RateLimitNext(1, hint)
	_, err := c.Do(t.Context(), createProjectOp("00000000-0000-4000-c000-000000000001", "r1"))
	var rl *ftrack.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != hint {
		t.Fatalf("first Do = %v, want a rate limit error with a %s hint", err, hint)
	}
	if _, err := c.Do(t.Context(), createProjectOp("00000000-0000-4000-c000-000000000002", "r2")); err != nil {
		t.Fatalf("second Do: %v", err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("requests = %d, want 2", len(reqs))
	}
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < hint-100*time.Millisecond {
		t.Errorf("the next request came %s after the 429, want at least the %s hint", gap, hint)
	}
}
