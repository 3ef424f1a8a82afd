package controllers

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

func TestEventBridgeEnqueuesChangedEntity(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ns := newNamespace(t, nil)
	key := fcKey(ns, "studio")
	label := key.String()
	// An emulator of its own: no other test's writes reach this connection's hub.
	server := newFtrackServer(t)
	createSecret(t, ns, "creds", credentialsData(ftracktest.DefaultUser, ftracktest.DefaultAPIKey))
	createConnection(t, ns, key.Name, server.URL, "creds")
	conn := pooled(t, key, nil)
	waitFor(t, soon, "EventHubConnected", conditionIs(ctx, key, v1alpha1.ConditionEventHubConnected, metav1.ConditionTrue, v1alpha1.ReasonConnected))

	priorities := server.All("Priority")
	if len(priorities) < 2 {
		t.Fatalf("the emulator has %d priorities, want at least 2", len(priorities))
	}
	changed, untouched := priorities[0]["id"].(string), priorities[1]["id"].(string)
	managed := createEntity(t, ns, "changed", key.Name, changed)
	createEntity(t, ns, "untouched", key.Name, untouched)
	// Same id, another connection: not this connection's entity.
	createEntity(t, ns, "elsewhere", "other", changed)
	waitFor(t, soon, "the entities in the manager's index", func() error {
		var list v1alpha1.FtrackEntityList
		if err := suiteCache.List(ctx, &list, client.MatchingFields{connection.IndexFtrackEntityByID: changed}); err != nil {
			return err
		}
		if len(list.Items) != 2 {
			return fmt.Errorf("%d entities hold %s", len(list.Items), changed)
		}
		return nil
	})

	triggers, stop := suiteConnections.Bridge.Subscribe(connection.DefaultTriggerBuffer)
	defer stop()
	echoes := metricValue(t, "ftrack_operator_events_received_total", "connection", label, "outcome", "echo")
	enqueued := metricValue(t, "ftrack_operator_events_received_total", "connection", label, "outcome", "enqueued")
	updates := metricValue(t, "ftrack_operator_ftrack_requests_total", "connection", label, "action", "update", "status", "200")

	update := func(s *ftrack.Session, color string) {
		t.Helper()
		_, err := s.Call(ctx, []map[string]any{{
			"action": "update", "entity_type": "Priority", "entity_key": []any{changed},
			"entity_data": map[string]any{"color": color},
		}})
		if err != nil {
			t.Fatalf("updating the priority: %v", err)
		}
	}
	// The operator's own write first: its echo must be dropped.
	update(conn.Session(), "#000001")
	other, err := ftrack.NewSession(ctx, ftrack.WithServerURL(server.URL), ftrack.WithAPIUser(ftracktest.DefaultUser),
		ftrack.WithAPIKey(ftracktest.DefaultAPIKey), ftrack.WithoutSchemaCache(), ftrack.WithPluginPaths())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	update(other, "#000002")

	// Both events handled (the hub delivers them in order), then the triggers are all queued.
	waitFor(t, soon, "the echo and the change handled", func() error {
		e := metricValue(t, "ftrack_operator_events_received_total", "connection", label, "outcome", "echo") - echoes
		q := metricValue(t, "ftrack_operator_events_received_total", "connection", label, "outcome", "enqueued") - enqueued
		// Other writes of the session (none expected) would add echoes, never triggers.
		if e < 1 || q != 1 {
			return fmt.Errorf("%v echoes, %v enqueued", e, q)
		}
		return nil
	})
	var got []string
	for done := false; !done; {
		select {
		case ev := <-triggers:
			if ev.Object.GetNamespace() == ns {
				got = append(got, ev.Object.GetName())
			}
		default:
			done = true
		}
	}
	if diff := cmp.Diff([]string{managed.Name}, got); diff != "" {
		t.Errorf("triggers (-want +got):\n%s", diff)
	}
	if n := metricValue(t, "ftrack_operator_ftrack_requests_total", "connection", label, "action", "update", "status", "200") - updates; n != 1 {
		t.Errorf("ftrack_requests_total{action=update,status=200} grew by %v, want 1", n)
	}
	waitFor(t, soon, "lastEventTime in the status", func() error {
		st, _, err := connectionStatus(ctx, key)
		if err != nil {
			return err
		}
		if st.LastEventTime == nil {
			return errors.New("no lastEventTime")
		}
		return nil
	})
}

// metricValue reads the value of the counter or gauge series name{labels} from the
// operator's metrics registry; labels are name, value pairs. A series not there yet is 0.
func metricValue(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatalf("gathering the metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue series
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}
