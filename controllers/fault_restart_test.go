package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// TestFaultManagerRestartedThreeTimes stops the manager three times while sequences are
// being created, each time starting a new one (new caches, new sessions, new coalescers), and
// requires every object to end Ready with its entity held once in ftrack.
func TestFaultManagerRestartedThreeTimes(t *testing.T) {
	t.Parallel()
	const n = 300
	// Latency keeps creates in flight when a manager stops.
	srv := newEmulator(t, ftracktest.WithLatency(30*time.Millisecond, 20*time.Millisecond))
	seedScaleProject(t, srv)
	f := newEntityFixture(t, srv)
	isolatedNamespaces.Store(f.ns, true)
	t.Cleanup(func() { isolatedNamespaces.Delete(f.ns) })

	_, stop := startEntityManager(t, f.ns, 50)
	createConcurrently(t, sequences(f, n))
	// Each manager runs until it has created another tenth of the sequences.
	created := 0
	for i := range 3 {
		want := created + n/10
		waitFor(t, 2*time.Minute, fmt.Sprintf("%d sequences created before restart %d", want, i+1), func() error {
			if c := srv.Count("Sequence"); c < want {
				return fmt.Errorf("%d sequences", c)
			}
			return nil
		})
		stop()
		created = srv.Count("Sequence")
		t.Logf("restart %d with %d of %d sequences in ftrack", i+1, created, n)
		if created >= n {
			t.Fatalf("all %d sequences existed before restart %d; the test proves nothing", n, i+1)
		}
		_, stop = startEntityManager(t, f.ns, 50)
	}
	waitAllReady(t, f, n, 3*time.Minute)
	checkExactlyOnce(t, f, n)
}

// TestFaultEmulatorRestartKeepsState restarts the ftrack server (its data kept) under a
// running manager: the connection must recover by itself, its event hub reconnect, a change
// made in Kubernetes while the server was down must reach ftrack, and an out-of-band change
// after the restart must be corrected through events.
func TestFaultEmulatorRestartKeepsState(t *testing.T) {
	t.Parallel()
	const n = 10
	srv := newEmulator(t)
	seedScaleProject(t, srv)
	f := faultFixture(t, srv, srv.URL)
	f.create(describedSequences(f, n)...)
	waitAllReady(t, f, n, time.Minute)
	ids := sequenceIDs(t, f)
	key := connection.Key{Kind: connection.KindFtrackConnection, Namespace: f.ns, Name: f.conn}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := srv.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	waitFor(t, 30*time.Second, "the event hub reported down", func() error {
		st, _, err := connectionStatus(t.Context(), key)
		if err != nil {
			return err
		}
		if c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionEventHubConnected); c == nil || c.Status != metav1.ConditionFalse {
			return fmt.Errorf("EventHubConnected = %+v", c)
		}
		return nil
	})
	// A spec change while the server is down.
	f.update("sq0000", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = attrs(map[string]any{"name": "sq0000", "description": "changed while ftrack was down"})
	})
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	waitFor(t, time.Minute, "connection Ready again", conditionIs(t.Context(), key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	waitFor(t, time.Minute, "event hub connected again", conditionIs(t.Context(), key, v1alpha1.ConditionEventHubConnected, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	waitFor(t, time.Minute, "the change made while down reached ftrack", func() error {
		rec, _ := srv.Get("Sequence", ids["sq0000"])
		if rec["description"] != "changed while ftrack was down" {
			return fmt.Errorf("description = %v", rec["description"])
		}
		return nil
	})
	oob := newOutOfBand(t, f)
	if err := oob.setDescription(t.Context(), ids["sq0001"]); err != nil {
		t.Fatalf("out-of-band change: %v", err)
	}
	waitFor(t, 10*time.Second, "the out-of-band change corrected", func() error {
		if !holdsSpec(srv, ids["sq0001"], "sq0001") {
			return fmt.Errorf("not corrected")
		}
		return nil
	})
	checkExactlyOnce(t, f, n)
}
