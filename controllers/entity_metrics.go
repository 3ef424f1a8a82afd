package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	// managedEntities counts FtrackEntity objects by their Ready and Synced condition status.
	managedEntities = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "ftrack_operator",
		Name:      "managed_entities",
		Help:      "FtrackEntity objects known to the operator, by the status of their Ready and Synced conditions.",
	}, []string{"ready", "synced"})
)

func init() {
	metrics.Registry.MustRegister(managedEntities)
}

// entityStates tracks the Ready and Synced status of every FtrackEntity for the
// managedEntities gauge.
type entityStates struct {
	mu     sync.Mutex
	states map[types.NamespacedName][2]string
}

// set records the state of one object; forget removes it.
func (s *entityStates) set(key types.NamespacedName, ready, synced string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.states == nil {
		s.states = map[types.NamespacedName][2]string{}
	}
	if old, ok := s.states[key]; ok {
		if old == [2]string{ready, synced} {
			return
		}
		managedEntities.WithLabelValues(old[0], old[1]).Dec()
	}
	s.states[key] = [2]string{ready, synced}
	managedEntities.WithLabelValues(ready, synced).Inc()
}

func (s *entityStates) forget(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.states[key]; ok {
		managedEntities.WithLabelValues(old[0], old[1]).Dec()
		delete(s.states, key)
	}
}
