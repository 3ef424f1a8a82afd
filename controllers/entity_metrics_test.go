package controllers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"k8s.io/apimachinery/pkg/types"
)

func TestEntityStatesGauge(t *testing.T) {
	// Not parallel: it reads the package's gauge, which the envtest suite also moves; the
	// assertions are on differences.
	value := func(ready, synced string) float64 {
		var m dto.Metric
		if err := managedEntities.WithLabelValues(ready, synced).Write(&m); err != nil {
			t.Fatalf("reading the gauge: %v", err)
		}
		return m.GetGauge().GetValue()
	}
	var s entityStates
	a := types.NamespacedName{Namespace: "metrics-test", Name: "a"}
	b := types.NamespacedName{Namespace: "metrics-test", Name: "b"}
	readyBefore, pendingBefore := value("True", "True"), value("False", "False")

	s.set(a, "False", "False")
	s.set(b, "False", "False")
	s.set(a, "True", "True")
	s.set(a, "True", "True") // unchanged: counted once
	got := []float64{value("True", "True") - readyBefore, value("False", "False") - pendingBefore}
	if diff := cmp.Diff([]float64{1, 1}, got); diff != "" {
		t.Errorf("managed entities after updates (-want +got):\n%s", diff)
	}
	s.forget(a)
	s.forget(b)
	s.forget(b) // already gone
	got = []float64{value("True", "True") - readyBefore, value("False", "False") - pendingBefore}
	if diff := cmp.Diff([]float64{0, 0}, got); diff != "" {
		t.Errorf("managed entities after forgetting (-want +got):\n%s", diff)
	}
}
