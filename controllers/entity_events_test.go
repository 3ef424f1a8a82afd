package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
)

// drainEvents returns the Events the fake recorder holds.
func drainEvents(r *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-r.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func TestEntityEventsBudget(t *testing.T) {
	t.Parallel()
	scheme := newTestScheme(t)
	conn := &v1alpha1.FtrackConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "show", Name: "studio", UID: "c1"}}
	cluster := &v1alpha1.ClusterFtrackConnection{ObjectMeta: metav1.ObjectMeta{Name: "shared", UID: "c2"}}
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(conn, cluster).Build()
	rec := events.NewFakeRecorder(1000)
	e := newEntityEvents(rec, reader)
	entity := func(i int, ref v1alpha1.ConnectionReference) *v1alpha1.FtrackEntity {
		return &v1alpha1.FtrackEntity{
			ObjectMeta: metav1.ObjectMeta{Namespace: "show", Name: fmt.Sprintf("sh%04d", i)},
			Spec:       v1alpha1.FtrackEntitySpec{ConnectionRef: ref},
		}
	}
	const n = 100
	for i := range n {
		e.normal(entity(i, v1alpha1.ConnectionReference{Name: "studio"}), v1alpha1.EventReasonCreated, "Create", "created Shot %d", i)
	}
	e.normal(entity(0, v1alpha1.ConnectionReference{Name: "studio"}), v1alpha1.EventReasonUpdated, "Update", "updated Shot 0")
	// Another connection has a budget of its own.
	e.normal(entity(0, v1alpha1.ConnectionReference{Kind: connection.KindClusterFtrackConnection, Name: "shared"}), v1alpha1.EventReasonCreated, "Create", "created Shot on shared")

	got := drainEvents(rec)
	// The budget refills by one per second while the loop runs: allow for a slow machine.
	if len(got) < entityEventBurst+1 || len(got) > entityEventBurst+1+3 {
		t.Fatalf("Events recorded at once = %d, want the burst of %d (+1 of the other connection)", len(got), entityEventBurst)
	}
	if !strings.Contains(strings.Join(got, "\n"), "created Shot on shared") {
		t.Errorf("the other connection's Event was held back by this one's budget:\n%s", strings.Join(got, "\n"))
	}
	held := n + 1 + 1 - len(got)

	e.summarize(context.Background())
	summaries := drainEvents(rec)
	if len(summaries) != 1 {
		t.Fatalf("summaries = %q, want one, on the connection that held Events back", summaries)
	}
	s := summaries[0]
	if !strings.Contains(s, v1alpha1.EventReasonEntityEventsSummarized) {
		t.Errorf("summary %q lacks the reason %s", s, v1alpha1.EventReasonEntityEventsSummarized)
	}
	wantCreated := fmt.Sprintf("%d Created", held-1)
	if !strings.Contains(s, wantCreated) || !strings.Contains(s, "1 Updated") {
		t.Errorf("summary %q does not count %q and %q", s, wantCreated, "1 Updated")
	}
	// Nothing held back since: no summary.
	e.summarize(context.Background())
	if more := drainEvents(rec); len(more) != 0 {
		t.Errorf("a second summary with nothing held back: %q", more)
	}
}

func TestEntityEventsSummaryOfAGoneConnection(t *testing.T) {
	t.Parallel()
	rec := events.NewFakeRecorder(100)
	e := newEntityEvents(rec, fake.NewClientBuilder().WithScheme(newTestScheme(t)).Build())
	obj := &v1alpha1.FtrackEntity{ObjectMeta: metav1.ObjectMeta{Namespace: "show", Name: "sh"}, Spec: v1alpha1.FtrackEntitySpec{ConnectionRef: v1alpha1.ConnectionReference{Name: "gone"}}}
	for range entityEventBurst + 5 {
		e.normal(obj, v1alpha1.EventReasonCreated, "Create", "created")
	}
	drainEvents(rec)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.summarize(ctx)
	if got := drainEvents(rec); len(got) != 0 {
		t.Errorf("summary recorded for a connection that is gone: %q", got)
	}
}

func TestDescribeHeld(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		held map[string]int
		want string
	}{
		"One":      {map[string]int{"Created": 1}, "1 Created Event"},
		"Thousand": {map[string]int{"Created": 4312, "Updated": 3}, "4,312 Created, 3 Updated Events"},
		"Tie":      {map[string]int{"Updated": 2, "Created": 2}, "2 Created, 2 Updated Events"},
		"Million":  {map[string]int{"Created": 1234567}, "1,234,567 Created Events"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := describeHeld(tc.held); got != tc.want {
				t.Errorf("describeHeld(%v) = %q, want %q", tc.held, got, tc.want)
			}
		})
	}
}

func newTestScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}
