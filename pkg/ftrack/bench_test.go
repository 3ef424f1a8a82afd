package ftrack_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
)

// taskAnswer builds a query answer of n Tasks with id, name, description,
// bid, a start_date datetime and status and type as nested entities, about
// 600 bytes per task (6 MB for 10,000).
func taskAnswer(n int) []byte {
	var b strings.Builder
	b.Grow(n * 600)
	b.WriteString(`[{"action": "query", "data": [`)
	desc := "Comp the plate, match the grade and deliver the shot."
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `{"__entity_type__": "Task", "id": "%08x-7d3c-4e2a-9b1f-%012x", "name": "task_%05d", "description": "%s", "bid": %d.5, `+
			`"start_date": {"__type__": "datetime", "value": "2024-%02d-%02dT%02d:30:00"}, `+
			`"status": {"__entity_type__": "Status", "id": "5a1c0000-0000-4000-8000-%012x", "name": "Status %d", "sort": %d}, `+
			`"type": {"__entity_type__": "Type", "id": "7c8d0000-0000-4000-8000-%012x", "name": "Type %d", "sort": %d}, `+
			`"context_type": "task", "object_type_id": "11c137c0-ee7e-4f9c-91c5-8c77cec22b2c", "project_id": "95f5c536-4e65-11e1-afaa-f23c91df25eb"}`,
			i, i, i, desc, i%40, i%12+1, i%28+1, i%24, i%10, i%10, i%10, i%20, i%20, i%20)
	}
	b.WriteString(`], "metadata": {"next": {"offset": null}}}]`)
	return []byte(b.String())
}

func BenchmarkDecodeTasks(b *testing.B) {
	srv := newServer(b)
	s := newSession(b, srv)
	data := taskAnswer(10000)
	b.Logf("answer: %d tasks, %.1f MB", 10000, float64(len(data))/1e6)
	var unmarshalNs float64
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var v any
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
		unmarshalNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("session", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			b.StopTimer()
			mustOK2(b, s.Reset())
			b.StartTimer()
			if _, err := ftrack.DecodeAnswerForTest(s, data); err != nil {
				b.Fatal(err)
			}
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		if unmarshalNs > 0 {
			b.ReportMetric(ns/unmarshalNs, "x-json.Unmarshal")
		}
	})
}

func mustOK2(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// TestDecodeTasksHeap checks that 10,000 decoded Tasks hold at most 30 MB
// of heap once the answer bytes are gone.
func TestDecodeTasksHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 5.7 MB answer")
	}
	srv := newServer(t)
	s := newSession(t, srv)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// The answer's bytes and the decoded result go out of scope with the closure; only the
	// session's identity map keeps the entities.
	func() {
		if _, err := ftrack.DecodeAnswerForTest(s, taskAnswer(10000)); err != nil {
			t.Fatal(err)
		}
	}()
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("10,000 tasks: %.1f MB of heap", float64(heap)/1e6)
	if heap > 30<<20 {
		t.Errorf("decoded tasks hold %.1f MB, want at most 30 MB", float64(heap)/(1<<20))
	}
	// The entities are still reachable through the identity map.
	e, err := s.Get(t.Context(), "Task", "00000001-7d3c-4e2a-9b1f-000000000001")
	if err != nil || e.MustGet("name") != "task_00001" {
		t.Errorf("decoded task = %v, %v", e, err)
	}
	if got, want := e.MustGet("start_date"), time.Date(2024, 2, 2, 1, 30, 0, 0, time.UTC); got != want {
		t.Errorf("start_date = %v, want %v", got, want)
	}
}

func BenchmarkEncodeCreates(b *testing.B) {
	srv := newServer(b)
	s := newSession(b, srv)
	start := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
	for i := range 10000 {
		must(s.Create("Task", map[string]any{"name": fmt.Sprintf("task_%05d", i), "description": "new", "bid": 1.5, "start_date": start}))
	}
	b.ReportAllocs()
	for b.Loop() {
		batch := s.PendingBatch()
		raw, err := json.Marshal(batch)
		if err != nil {
			b.Fatal(err)
		}
		if len(batch) != 10000 || len(raw) == 0 {
			b.Fatalf("batch of %d", len(batch))
		}
	}
	s.Rollback()
}

func BenchmarkCommit1000Creates(b *testing.B) {
	srv := newServer(b)
	s := newSession(b, srv)
	p := newProject(b, s, "bench")
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for range 1000 {
			n++
			must(s.Create("Task", map[string]any{"name": fmt.Sprintf("task_%07d", n), "parent": p}))
		}
		if err := s.Commit(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
