package controllers

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestFaultRateLimitHonoursRetryAfter answers one request with 429 and a Retry-After hint
// while the operator has work to do, and requires that no request reaches the server from
// that connection before the hint has passed; afterwards the work completes.
func TestFaultRateLimitHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	const (
		n          = 20
		retryAfter = 3 * time.Second
	)
	srv := newEmulator(t)
	seedScaleProject(t, srv)
	// The operator reaches the server through a proxy that answers the 429 and sees every
	// request the connection sends; the out-of-band session goes to the server directly.
	proxy := newFlakyProxy(t, srv, 0, 0, 0)
	f := faultFixture(t, srv, proxy.url)
	f.create(describedSequences(f, n)...)
	waitAllReady(t, f, n, time.Minute)
	ids := sequenceIDs(t, f)
	oob := newOutOfBand(t, f)

	proxy.rateLimitNext(1, retryAfter)
	for _, id := range ids {
		if err := oob.setDescription(t.Context(), id); err != nil {
			t.Fatalf("changing a sequence: %v", err)
		}
	}
	var limited time.Time
	waitFor(t, 30*time.Second, "the operator rate limited", func() error {
		for _, r := range proxy.received() {
			if r.status == http.StatusTooManyRequests {
				limited = r.at
				return nil
			}
		}
		return fmt.Errorf("no 429 answered to the operator yet")
	})
	waitFor(t, time.Minute, "every change corrected", func() error {
		for name, id := range ids {
			if !holdsSpec(srv, id, name) {
				return fmt.Errorf("%s not corrected", name)
			}
		}
		return nil
	})
	// A request already on its way when the 429 left cannot honour it (with the race detector
	// on a loaded machine it can reach the proxy a few hundred milliseconds later); anything
	// later must wait for the hint.
	const inFlight = 300 * time.Millisecond
	var early []string
	for _, r := range proxy.received() {
		if r.at.After(limited.Add(inFlight)) && r.at.Before(limited.Add(retryAfter)) {
			early = append(early, r.at.Sub(limited).Round(time.Millisecond).String())
		}
	}
	if len(early) > 0 {
		t.Errorf("the connection sent %d requests before Retry-After (%s) had passed, at %v after the 429", len(early), retryAfter, early)
	}
}
