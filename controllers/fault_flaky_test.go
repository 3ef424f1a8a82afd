package controllers

import (
	"testing"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// TestFaultFlakyServer creates 1,000 sequences through a proxy that fails 10 % of the
// requests with a 5xx and lets 5 % reach the server but never answers them (the client
// times out without knowing whether the batch was applied). Every object must become
// Ready, ftrack must hold each entity once, and the operator may send at most 1.5 times the
// requests of the same creates without faults, measured in the same test.
func TestFaultFlakyServer(t *testing.T) {
	t.Parallel()
	const (
		n       = 1000
		timeout = 2 * time.Second
	)
	run := func(t *testing.T, failRate, timeoutRate float64) (requests int64) {
		// Latency, as a real server has, keeps the batches' sizes set by the server's answer
		// time rather than by the machine's load, so that the two runs compare.
		srv := newEmulator(t, ftracktest.WithLatency(20*time.Millisecond, 0))
		seedScaleProject(t, srv)
		proxy := newFlakyProxy(t, srv, failRate, timeoutRate, time.Minute)
		f := faultFixture(t, srv, proxy.url, withBudget(50, 100, timeout))
		start, before := time.Now(), proxy.requests.Load()
		createConcurrently(t, sequences(f, n))
		waitAllReady(t, f, n, 4*time.Minute)
		requests = proxy.requests.Load() - before
		t.Logf("%d sequences Ready in %s with %d requests (%d failed with a 5xx, %d timed out)",
			n, time.Since(start).Round(time.Millisecond), requests, proxy.failed.Load(), proxy.timedOut.Load())
		checkExactlyOnce(t, f, n)
		if failRate > 0 && (proxy.failed.Load() == 0 || proxy.timedOut.Load() == 0) {
			t.Fatalf("no request failed (%d) or timed out (%d); the test proves nothing", proxy.failed.Load(), proxy.timedOut.Load())
		}
		return requests
	}
	// Both runs at once, so that they share the machine's load; compared once both ended.
	var clean, faulty int64
	t.Run("Runs", func(t *testing.T) {
		t.Run("FaultFree", func(t *testing.T) {
			t.Parallel()
			clean = run(t, 0, 0)
		})
		t.Run("Faults", func(t *testing.T) {
			t.Parallel()
			faulty = run(t, 0.10, 0.05)
		})
	})
	if t.Failed() {
		return
	}
	ratio := float64(faulty) / float64(clean)
	t.Logf("requests with faults / without: %d / %d = %.2f", faulty, clean, ratio)
	if ratio > 1.5 {
		t.Errorf("%d requests with faults, %.2f times the %d without; want at most 1.5 times", faulty, ratio, clean)
	}
}
