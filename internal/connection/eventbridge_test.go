package connection

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	ftevent "github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
)

func TestUpdatedEntityIDs(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason string
		data   map[string]any
		want   []string
	}{
		"Entities": {
			reason: "every entityId, in order, without duplicates and without parents",
			data: map[string]any{
				"entities": []any{
					map[string]any{"entityId": "a", "parents": []any{map[string]any{"entityId": "p"}}},
					map[string]any{"entityId": "b"},
					map[string]any{"entityId": "a"},
				},
				"parents": []any{"p"},
			},
			want: []string{"a", "b"},
		},
		"Malformed": {
			reason: "items that are not objects, composite keys and empty ids are skipped",
			data: map[string]any{"entities": []any{
				"x", map[string]any{"entityId": []any{"k1", "k2"}}, map[string]any{"entityId": ""}, map[string]any{},
			}},
			want: []string{},
		},
		"None": {reason: "an event without entities names none", data: map[string]any{}, want: []string{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := updatedEntityIDs(ftevent.NewEvent(ftevent.TopicUpdate, tc.data))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestIsEcho(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason string
		data   map[string]any
		source map[string]any
		token  string
		want   bool
	}{
		"DataToken":   {reason: "data.clientToken names the operator", data: map[string]any{"clientToken": "me"}, token: "me", want: true},
		"SourceToken": {reason: "source.clientToken names the operator", source: map[string]any{"clientToken": "me"}, token: "me", want: true},
		"Other":       {reason: "another client's write is not an echo", data: map[string]any{"clientToken": "you"}, source: map[string]any{"clientToken": "you"}, token: "me"},
		"NoToken":     {reason: "an event without a token is not an echo", token: "me"},
		"EmptyOwn":    {reason: "an empty own token matches nothing", data: map[string]any{"clientToken": ""}, token: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ev := ftevent.NewEvent(ftevent.TopicUpdate, tc.data)
			if tc.source != nil {
				ev.Source = tc.source
			}
			if got := isEcho(ev, tc.token); got != tc.want {
				t.Errorf("%s: isEcho = %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}

func TestSentTime(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := map[string]struct {
		reason string
		sent   any
		want   time.Time
		ok     bool
	}{
		"Null":    {reason: "servers send null: no time", sent: nil},
		"RFC3339": {reason: "a timestamp string", sent: at.Format(time.RFC3339), want: at, ok: true},
		"Seconds": {reason: "Unix seconds", sent: float64(at.Unix()), want: at, ok: true},
		"Garbage": {reason: "anything else: no time", sent: "soon"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, ok := sentTime(ftevent.Event{Sent: tc.sent})
			if ok != tc.ok || !got.Equal(tc.want) {
				t.Errorf("%s: sentTime = %v, %v; want %v, %v", tc.reason, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestEntityIndexValues(t *testing.T) {
	t.Parallel()
	entity := func(id, annotation string, ref v1alpha1.ConnectionReference) *v1alpha1.FtrackEntity {
		e := &v1alpha1.FtrackEntity{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "e"}}
		e.Status.ID = id
		e.Spec.ConnectionRef = ref
		if annotation != "" {
			e.Annotations = map[string]string{v1alpha1.AnnotationEntityID: annotation}
		}
		return e
	}
	tests := map[string]struct {
		reason         string
		obj            client.Object
		wantIDs        []string
		wantConnection []string
	}{
		"StatusAndAnnotation": {
			reason:         "status.id and a different annotation are both indexed",
			obj:            entity("s", "a", v1alpha1.ConnectionReference{Name: "c"}),
			wantIDs:        []string{"s", "a"},
			wantConnection: []string{"FtrackConnection/ns/c"},
		},
		"AnnotationOnly": {
			reason:         "the annotation written before the create is indexed",
			obj:            entity("", "a", v1alpha1.ConnectionReference{Kind: KindClusterFtrackConnection, Name: "c"}),
			wantIDs:        []string{"a"},
			wantConnection: []string{"ClusterFtrackConnection/c"},
		},
		"Same": {
			reason:         "one value when both agree",
			obj:            entity("s", "s", v1alpha1.ConnectionReference{Kind: KindFtrackConnection, Name: "c"}),
			wantIDs:        []string{"s"},
			wantConnection: []string{"FtrackConnection/ns/c"},
		},
		"NotAnEntity": {reason: "other kinds are not indexed", obj: &v1alpha1.FtrackConnection{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.wantIDs, EntityIDIndexValues(tc.obj)); diff != "" {
				t.Errorf("%s: ids (-want +got):\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantConnection, EntityConnectionIndexValues(tc.obj)); diff != "" {
				t.Errorf("%s: connection (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

// TestEventBridgeSubscribe checks fan-out and unsubscription without a cluster.
func TestEventBridgeSubscribe(t *testing.T) {
	t.Parallel()
	b := NewEventBridge(nil, NewPool(), logr.Discard())
	a, stopA := b.Subscribe(1)
	c, stopC := b.Subscribe(1)
	obj := &v1alpha1.FtrackEntity{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "x"}}
	if !b.send(t.Context(), obj) {
		t.Fatal("send failed")
	}
	for i, ch := range []<-chan event.GenericEvent{a, c} {
		select {
		case ev := <-ch:
			if ev.Object != obj {
				t.Errorf("subscriber %d got %v", i, ev.Object)
			}
		default:
			t.Errorf("subscriber %d got nothing", i)
		}
	}
	stopA()
	stopC()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if !b.send(ctx, obj) {
		t.Error("send with no subscribers should succeed at once")
	}
}
