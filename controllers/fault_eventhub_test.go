package controllers

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestFaultEventHubDropsDuringChanges drops every event hub socket every 5 seconds while
// sequences are changed out of band, and requires every change to be corrected: the events
// missed while a socket was down must be made up by the resync after each reconnection.
// The window is the 60 s, which holds twelve drops; it runs in parallel with the rest
// of the suite.
func TestFaultEventHubDropsDuringChanges(t *testing.T) {
	t.Parallel()
	const (
		sequencesN  = 20
		window      = 60 * time.Second
		dropEvery   = 5 * time.Second
		changeEvery = 200 * time.Millisecond
		// correctWithin bounds each correction: a reconnection (with the hub's back-off) and a
		// resync of every entity. A missed change would wait for the 10 h resync, so any bound
		// far below that tells a missed change from a slow one; under -race on a loaded
		// machine the slowest correction took 10 s.
		correctWithin = 30 * time.Second
	)
	srv := newEmulator(t)
	seedScaleProject(t, srv)
	f := faultFixture(t, srv, srv.URL)
	f.create(describedSequences(f, sequencesN)...)
	waitAllReady(t, f, sequencesN, time.Minute)
	ids := sequenceIDs(t, f)
	names := make([]string, 0, len(ids))
	for name := range ids {
		names = append(names, name)
	}
	slices.Sort(names)
	oob := newOutOfBand(t, f)

	type change struct {
		name      string
		at        time.Time
		corrected time.Duration
	}
	var changes []*change
	pending := map[string]*change{} // the uncorrected change of each sequence
	drops, dropped := 0, 0
	start := time.Now()
	nextDrop := start.Add(dropEvery)
	tick := time.NewTicker(changeEvery)
	defer tick.Stop()
	check := func() {
		for name, c := range pending {
			if holdsSpec(srv, ids[name], name) {
				c.corrected = time.Since(c.at)
				delete(pending, name)
			} else if time.Since(c.at) > correctWithin {
				t.Fatalf("the change of %s at %s was not corrected within %s (%d drops so far)", name, c.at.Sub(start).Round(time.Millisecond), correctWithin, drops)
			}
		}
	}
	for i := 0; time.Since(start) < window; i++ {
		if time.Now().After(nextDrop) {
			dropped += srv.DropEventHubConnections()
			drops++
			nextDrop = nextDrop.Add(dropEvery)
		}
		check()
		// Change a sequence whose last change has been corrected, so that no change hides
		// another.
		for k := range names {
			name := names[(i+k)%len(names)]
			if pending[name] != nil {
				continue
			}
			if err := oob.setDescription(t.Context(), ids[name]); err != nil {
				t.Fatalf("changing %s: %v", name, err)
			}
			c := &change{name: name, at: time.Now()}
			changes = append(changes, c)
			pending[name] = c
			break
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-tick.C:
		}
	}
	waitFor(t, correctWithin, "every change corrected", func() error {
		check()
		if len(pending) > 0 {
			return fmt.Errorf("%d changes not corrected", len(pending))
		}
		return nil
	})
	if drops < int(window/dropEvery)-1 || dropped < drops {
		t.Fatalf("%d drops closing %d sockets; the test proves nothing", drops, dropped)
	}
	var worst time.Duration
	for _, c := range changes {
		worst = max(worst, c.corrected)
	}
	t.Logf("%d changes over %s with %d event hub drops (%d sockets): all corrected, the slowest after %s",
		len(changes), window, drops, dropped, worst.Round(time.Millisecond))
	if len(changes) < 50 {
		t.Errorf("only %d changes were made; want at least 50", len(changes))
	}
	for name, id := range ids {
		if !holdsSpec(srv, id, name) {
			t.Errorf("%s does not hold its spec", name)
		}
	}
}
