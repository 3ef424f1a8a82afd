package connection

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

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

func createProjectOp(id, name string) ftrack.Op {
	return ftrack.CreateOp("Project", map[string]any{"id": id, "name": name, "full_name": name, "project_schema_id": builtin.DefaultProjectSchemaID})
}

func TestCommitCoalescerBatchesConcurrentWork(t *testing.T) {
	t.Parallel()
	srv, s := newEmulatorSession(t)
	var batches, largest atomic.Int64
	c := NewCommitCoalescer(s.Do, WithCoalesceWindow(50*time.Millisecond), WithBatchObserver(func(n int) {
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
			ops := []ftrack.Op{createProjectOp(fmt.Sprintf("00000000-0000-4000-8000-%012d", i), fmt.Sprintf("p%02d", i))}
			if i == 7 {
				// A create without its required name fails on the server.
				delete(ops[0].Data, "name")
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
			c := NewCommitCoalescer(s.Do, WithCoalesceWindow(30*time.Millisecond))
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
	c := NewCommitCoalescer(s.Do)
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
			call := BatchFunc(s.Do)
			if mode == "Coalesced" {
				c := NewCommitCoalescer(s.Do)
				b.Cleanup(func() { _ = c.Close() })
				call = c.Do
			}
			srv.ResetRequests()
			n := 0
			for b.Loop() {
				var wg sync.WaitGroup
				for range concurrent {
					n++
					id := fmt.Sprintf("00000000-0000-4000-b000-%012d", n)
					wg.Go(func() {
						if _, err := call(context.Background(), createProjectOp(id, "b"+id)); err != nil {
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

// TestCommitCoalescerHonoursRetryAfter: after a 429 with a Retry-After hint, the next
// batch of the connection leaves only once the hint has passed. The connection's transport
// holds every request of the session back (see budgetTransport); the coalescer relies on it.
func TestCommitCoalescerHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	srv, err := ftracktest.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	budget := &budgetTransport{connection: "test/retry-after", limiter: rate.NewLimiter(rate.Inf, 1), base: http.DefaultTransport}
	s, err := ftrack.NewSession(t.Context(),
		ftrack.WithServerURL(srv.URL),
		ftrack.WithAPIUser(ftracktest.DefaultUser),
		ftrack.WithAPIKey(ftracktest.DefaultAPIKey),
		ftrack.WithHTTPClient(&http.Client{Transport: budget}),
		ftrack.WithoutSchemaCache(),
		ftrack.WithPluginPaths(),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	srv.ResetRequests()
	c := NewCommitCoalescer(s.Do)
	t.Cleanup(func() { _ = c.Close() })
	const hint = 2 * time.Second
	srv.RateLimitNext(1, hint)
	_, err = c.Do(t.Context(), createProjectOp("00000000-0000-4000-c000-000000000001", "r1"))
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

// budgetCall sends batches with s.Call after waiting for l, as the budget transport of a
// pooled connection does.
func budgetCall(s *ftrack.Session, l *rate.Limiter) BatchFunc {
	return func(ctx context.Context, batch ...ftrack.Op) ([]any, error) {
		if err := l.Wait(ctx); err != nil {
			return nil, err
		}
		return s.Do(ctx, batch...)
	}
}

// TestCommitCoalescerAdaptiveWindow sends the same stream of creates, arriving one every
// 5 ms, through a coalescer with the fixed short window and through one whose window adapts,
// both under an exhausted request budget, and compares the requests each took.
func TestCommitCoalescerAdaptiveWindow(t *testing.T) {
	t.Parallel()
	const (
		n   = 60
		gap = 5 * time.Millisecond
	)
	run := func(t *testing.T, prefix string, adaptive bool) int {
		srv, s := newEmulatorSession(t)
		l := rate.NewLimiter(50, 1)
		l.Allow() // The budget starts exhausted.
		opts := []CoalescerOption{WithMaxCoalesceWindow(DefaultCoalesceWindow)}
		if adaptive {
			opts = []CoalescerOption{WithLimiter(l)}
		}
		c := NewCommitCoalescer(budgetCall(s, l), opts...)
		t.Cleanup(func() { _ = c.Close() })
		tick := time.NewTicker(gap)
		defer tick.Stop()
		var wg sync.WaitGroup
		var failed atomic.Int64
		begin := time.Now()
		for i := range n {
			if i > 0 {
				<-tick.C
			}
			wg.Go(func() {
				if _, err := c.Do(t.Context(), createProjectOp(fmt.Sprintf("00000000-0000-4000-%s-%012d", prefix, i), fmt.Sprintf("%s-%d", prefix, i))); err != nil {
					failed.Add(1)
				}
			})
		}
		t.Logf("%d creates arrived in %s", n, time.Since(begin))
		wg.Wait()
		if f := failed.Load(); f != 0 {
			t.Fatalf("%d of %d creates failed", f, n)
		}
		if got := srv.Count("Project"); got != n {
			t.Fatalf("projects stored = %d, want %d", got, n)
		}
		return len(srv.Requests())
	}
	fixed := run(t, "d000", false)
	adaptive := run(t, "e000", true)
	t.Logf("%d creates under an exhausted budget: fixed window %d requests, adaptive window %d requests", n, fixed, adaptive)
	if adaptive*2 > fixed {
		t.Errorf("adaptive window took %d requests, fixed window %d: want at most half", adaptive, fixed)
	}
}

// TestCommitCoalescerLoneOperationIsPrompt checks that a single operation leaves within the
// short window when the connection is idle, also right after a bulk batch.
func TestCommitCoalescerLoneOperationIsPrompt(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason string
		bulk   int
	}{
		"Idle": {
			reason: "an idle coalescer with budget to spare sends a lone operation after the short window",
		},
		"AfterBulk": {
			reason: "once a bulk change stopped arriving, a lone operation does not wait for the maximum window",
			bulk:   10,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, s := newEmulatorSession(t)
			l := rate.NewLimiter(100, 100)
			c := NewCommitCoalescer(budgetCall(s, l), WithLimiter(l), WithMaxCoalesceWindow(2*time.Second))
			t.Cleanup(func() { _ = c.Close() })
			var wg sync.WaitGroup
			for i := range tc.bulk {
				wg.Go(func() {
					if _, err := c.Do(t.Context(), createProjectOp(fmt.Sprintf("00000000-0000-4000-f100-%012d", i), fmt.Sprintf("bulk%d", i))); err != nil {
						t.Errorf("bulk Do %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			srv.ResetRequests()
			start := time.Now()
			if _, err := c.Do(t.Context(), createProjectOp("00000000-0000-4000-f000-000000000001", "lone")); err != nil {
				t.Fatalf("%s: Do: %v", tc.reason, err)
			}
			took := time.Since(start)
			if got := len(srv.Requests()); got != 1 {
				t.Errorf("%s: requests = %d, want 1", tc.reason, got)
			}
			if took >= 200*time.Millisecond {
				t.Errorf("%s: the operation took %s, want under 200ms", tc.reason, took)
			}
		})
	}
}

func TestCoalescerOptions(t *testing.T) {
	t.Parallel()
	type settings struct {
		Window, MaxWindow   time.Duration
		MaxOps, MaxInFlight int
		Limiter             bool
	}
	defaults := settings{Window: DefaultCoalesceWindow, MaxWindow: DefaultMaxCoalesceWindow, MaxOps: DefaultMaxBatchOperations, MaxInFlight: DefaultMaxInFlight}
	tests := map[string]struct {
		reason string
		opts   []CoalescerOption
		want   settings
	}{
		"Defaults": {
			reason: "without options the defaults apply",
			want:   defaults,
		},
		"Invalid": {
			reason: "values not above zero and a nil limiter are ignored",
			opts: []CoalescerOption{
				WithCoalesceWindow(0), WithMaxCoalesceWindow(-time.Second), WithMaxBatchOperations(0),
				WithMaxInFlight(-1), WithLimiter(nil),
			},
			want: defaults,
		},
		"Valid": {
			reason: "valid values are taken",
			opts: []CoalescerOption{
				WithCoalesceWindow(5 * time.Millisecond), WithMaxCoalesceWindow(time.Second), WithMaxBatchOperations(1),
				WithMaxInFlight(64), WithLimiter(rate.NewLimiter(1, 1)),
			},
			want: settings{Window: 5 * time.Millisecond, MaxWindow: time.Second, MaxOps: 1, MaxInFlight: 64, Limiter: true},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := NewCommitCoalescer(nil, tc.opts...)
			t.Cleanup(func() { _ = c.Close() })
			got := settings{Window: c.window, MaxWindow: c.maxWindow, MaxOps: c.maxOps, MaxInFlight: c.maxInFlight, Limiter: c.limiter != nil}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: settings (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

// streamRequests sends a first batch of burst creates at once (a bulk change has begun), then
// n creates one every gap through a coalescer with opts and budget to spare, and returns the
// requests the n creates took.
func streamRequests(t *testing.T, prefix string, burst, n int, gap time.Duration, opts ...CoalescerOption) int {
	t.Helper()
	srv, s := newEmulatorSession(t)
	l := rate.NewLimiter(1000, 1000)
	c := NewCommitCoalescer(budgetCall(s, l), append([]CoalescerOption{WithLimiter(l)}, opts...)...)
	t.Cleanup(func() { _ = c.Close() })
	var wg sync.WaitGroup
	var failed atomic.Int64
	do := func(i int) {
		if _, err := c.Do(t.Context(), createProjectOp(fmt.Sprintf("00000000-0000-4000-%s-%012d", prefix, i), fmt.Sprintf("%s-%d", prefix, i))); err != nil {
			failed.Add(1)
		}
	}
	for i := range burst {
		wg.Go(func() { do(i) })
	}
	wg.Wait()
	srv.ResetRequests()
	tick := time.NewTicker(gap)
	defer tick.Stop()
	for i := burst; i < burst+n; i++ {
		<-tick.C
		wg.Go(func() { do(i) })
	}
	wg.Wait()
	if f := failed.Load(); f != 0 {
		t.Fatalf("%d of %d creates failed", f, burst+n)
	}
	if got := srv.Count("Project"); got != burst+n {
		t.Fatalf("projects stored = %d, want %d", got, burst+n)
	}
	return len(srv.Requests())
}

// TestCommitCoalescerGathersASteadyStream sends creates one every 30 ms, more than one
// window apart but within the quiet gap, after a first batch of several units, with budget
// to spare: a busy coalescer keeps gathering them while they keep coming, where the fixed
// window sends nearly one request each.
func TestCommitCoalescerGathersASteadyStream(t *testing.T) {
	t.Parallel()
	const (
		n   = 20
		gap = 30 * time.Millisecond
	)
	fixed := streamRequests(t, "d100", 5, n, gap, WithMaxCoalesceWindow(DefaultCoalesceWindow))
	adaptive := streamRequests(t, "e100", 5, n, gap)
	t.Logf("%d creates %s apart: fixed window %d requests, adaptive window %d requests", n, gap, fixed, adaptive)
	if adaptive*3 > fixed {
		t.Errorf("adaptive window took %d requests, fixed window %d: want at most a third", adaptive, fixed)
	}
}

// TestCommitCoalescerGathersASlowStream: a bulk change whose units arrive more slowly than
// the quiet gap of windows (a slow API server paces the reconciles) still fills batches:
// the gap follows the arrivals.
func TestCommitCoalescerGathersASlowStream(t *testing.T) {
	t.Parallel()
	const (
		n   = 24
		gap = 90 * time.Millisecond // three windows are 60 ms
	)
	got := streamRequests(t, "f200", 5, n, gap)
	t.Logf("%d creates %s apart: %d requests", n, gap, got)
	// A batch per unit would be n requests; the maximum window (500 ms) holds about five.
	if got*2 > n {
		t.Errorf("%d creates %s apart took %d requests: want at most half as many", n, gap, got)
	}
}
