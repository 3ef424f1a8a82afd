package ftracktest

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"slices"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
)

// Seed creates records in order, validated like create operations, as one
// atomic batch that publishes no event. Values go through JSON first, so Go
// ints and time.Time values are accepted.
func (s *Server) Seed(records ...Record) error {
	if len(records) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.begin()
	b := &batch{srv: s, m: s.m, st: s.st, now: s.cfg.clock().UTC().Truncate(time.Second)}
	for i, rec := range records {
		raw, err := json.Marshal(rec.Data)
		if err != nil {
			s.st.rollback()
			return fmt.Errorf("ftracktest: seed record %d (%s): %w", i, rec.Type, err)
		}
		var data map[string]any
		if err := json.Unmarshal(raw, &data); err != nil {
			s.st.rollback()
			return fmt.Errorf("ftracktest: seed record %d (%s): %w", i, rec.Type, err)
		}
		if _, err := b.create(map[string]any{"action": "create", "entity_type": rec.Type, "entity_data": data}); err != nil {
			s.st.rollback()
			return fmt.Errorf("ftracktest: seed record %d (%s): %w", i, rec.Type, err)
		}
	}
	s.st.commit()
	return nil
}

// Get returns a copy of the stored attributes of the entity of type typ (or
// a subtype) with primary key id (composite keys joined by ","), with
// __entity_type__ set. Datetimes are time.Time values in UTC.
func (s *Server) Get(typ, id string) (map[string]any, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.m.types[typ]
	if !ok {
		return nil, false
	}
	key := id
	if len(t.s.PrimaryKey) > 1 {
		key = joinKey(id)
	}
	r := s.st.find(t, key)
	if r == nil {
		return nil, false
	}
	return inspectCopy(r), true
}

func joinKey(id string) string {
	out := []byte(id)
	for i, c := range out {
		if c == ',' {
			out[i] = '\x1f'
		}
	}
	return string(out)
}

func inspectCopy(r *record) map[string]any {
	m := maps.Clone(r.data)
	for k := range m {
		if strings.HasPrefix(k, "\x00") {
			delete(m, k) // a stored collection (see storedCollection)
		}
	}
	m["__entity_type__"] = r.typ.name
	return m
}

// Count returns the number of stored entities of type typ and its subtypes.
func (s *Server) Count(typ string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.m.types[typ]
	if !ok {
		return 0
	}
	return s.st.count(t)
}

// All returns copies of every stored entity of type typ and its subtypes, in
// creation order.
func (s *Server) All(typ string) []map[string]any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.m.types[typ]
	if !ok {
		return nil
	}
	var out []map[string]any
	for _, r := range s.st.all(t) {
		out = append(out, inspectCopy(r))
	}
	return out
}

// FailNext makes the next n /api requests fail, before authentication, with
// HTTP status and an error object naming exception.
func (s *Server) FailNext(n, status int, exception string) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if exception == "" {
		exception = "ServerError"
	}
	s.failN, s.failStatus, s.failExc = n, status, exception
}

// RateLimitNext answers the next n /api requests with HTTP 429 and a
// Retry-After header of retryAfter (rounded up to whole seconds).
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.rateN, s.retryAfter = n, retryAfter
}

// SetLatency changes the delay of every /api request: fixed plus a random
// duration in [0, jitter).
func (s *Server) SetLatency(fixed, jitter time.Duration) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.latency, s.jitter = max(fixed, 0), max(jitter, 0)
}

// DropEventHubConnections closes every event hub connection, as a server
// restart would, and returns how many there were. Clients reconnect.
func (s *Server) DropEventHubConnections() int {
	return s.hub.DropAll()
}

// EventHubConnections returns the number of connected event hub clients.
func (s *Server) EventHubConnections() int {
	return s.hub.Connections()
}

// Publish sends e to the event hub's subscribers, as if the server emitted it.
func (s *Server) Publish(e event.Event) {
	s.hub.Publish(e)
}

// Requests returns the log of /api requests, oldest first.
func (s *Server) Requests() []RequestInfo {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	out := slices.Clone(s.requests)
	for i := range out {
		out[i].Actions = slices.Clone(out[i].Actions)
	}
	return out
}

// RequestCount returns how many operations with action the server received
// (all requests, failed ones included).
func (s *Server) RequestCount(action string) int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.counts[action]
}

// ResetRequests clears the request log and counters.
func (s *Server) ResetRequests() {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.requests = nil
	s.counts = map[string]int{}
}
