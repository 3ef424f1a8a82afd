package ftracktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// bench100k is a server holding a project with 100 sequences, 10,000 shots
// and 90,000 tasks (100,101 contexts), shared by the query benchmarks.
var bench100k struct {
	once   sync.Once
	srv    *Server
	err    error
	shots  []string
	tasks  []string
	client *http.Client
}

func benchServer(b *testing.B) *Server {
	b.Helper()
	bench100k.once.Do(func() {
		s, err := NewServer()
		if err != nil {
			bench100k.err = err
			return
		}
		recs := []Record{{"Project", map[string]any{"id": "bench-project", "name": "bench", "full_name": "Bench", "project_schema_id": builtin.DefaultProjectSchemaID}}}
		for q := range 100 {
			seq := fmt.Sprintf("bench-seq-%03d", q)
			recs = append(recs, Record{"Sequence", map[string]any{"id": seq, "name": seq, "parent_id": "bench-project"}})
			for sh := range 100 {
				shot := fmt.Sprintf("%s-shot-%03d", seq, sh)
				bench100k.shots = append(bench100k.shots, shot)
				recs = append(recs, Record{"Shot", map[string]any{"id": shot, "name": shot, "parent_id": seq}})
				for tk := range 9 {
					task := fmt.Sprintf("%s-task-%d", shot, tk)
					bench100k.tasks = append(bench100k.tasks, task)
					recs = append(recs, Record{"Task", map[string]any{"id": task, "name": fmt.Sprintf("task%d", tk), "parent_id": shot}})
				}
			}
		}
		if err := s.Seed(recs...); err != nil {
			bench100k.err = err
			_ = s.Close()
			return
		}
		bench100k.srv = s
		bench100k.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	})
	if bench100k.err != nil {
		b.Fatal(bench100k.err)
	}
	return bench100k.srv
}

func benchPost(b *testing.B, client *http.Client, s *Server, body []byte) {
	req, err := http.NewRequest(http.MethodPost, s.URL+"/api", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("ftrack-user", DefaultUser)
	req.Header.Set("ftrack-api-key", DefaultAPIKey)
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	if bytes.HasPrefix(raw, []byte("{")) {
		b.Fatalf("request failed: %s", raw)
	}
}

func queryBody(expr string) []byte {
	body, _ := json.Marshal([]any{map[string]any{"action": "query", "expression": expr}})
	return body
}

// BenchmarkCreateBatch sends batches of 100 Task creates.
func BenchmarkCreateBatch(b *testing.B) {
	s, err := NewServer()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	client := &http.Client{}
	setup, _ := json.Marshal([]any{
		op("create", "Project", "entity_data", map[string]any{"id": "p", "name": "p", "full_name": "P", "project_schema_id": builtin.DefaultProjectSchemaID}),
		op("create", "Shot", "entity_data", map[string]any{"id": "sh", "name": "sh", "parent_id": "p"}),
	})
	benchPost(b, client, s, setup)
	n := 0
	for b.Loop() {
		ops := make([]any, 100)
		for i := range ops {
			n++
			ops[i] = op("create", "Task", "entity_data", map[string]any{"name": fmt.Sprintf("t%d", n), "parent_id": "sh"})
		}
		body, _ := json.Marshal(ops)
		benchPost(b, client, s, body)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/create")
}

// BenchmarkQueryByID100k queries one task by id among 100,101 contexts.
func BenchmarkQueryByID100k(b *testing.B) {
	s := benchServer(b)
	i := 0
	for b.Loop() {
		id := bench100k.tasks[(i*7919)%len(bench100k.tasks)]
		i++
		benchPost(b, bench100k.client, s, queryBody(`select name, status.name from Task where id is "`+id+`"`))
	}
}

// BenchmarkQueryByParent100k queries the nine tasks of one shot among
// 100,101 contexts.
func BenchmarkQueryByParent100k(b *testing.B) {
	s := benchServer(b)
	i := 0
	for b.Loop() {
		shot := bench100k.shots[(i*7919)%len(bench100k.shots)]
		i++
		benchPost(b, bench100k.client, s, queryBody(`select name from Task where parent_id is "`+shot+`"`))
	}
}

// BenchmarkQueryByName100k is the unindexed comparison: a name lookup that
// scans all 90,000 tasks.
func BenchmarkQueryByName100k(b *testing.B) {
	s := benchServer(b)
	for b.Loop() {
		benchPost(b, bench100k.client, s, queryBody(`select name from Task where name is "nope"`))
	}
}
