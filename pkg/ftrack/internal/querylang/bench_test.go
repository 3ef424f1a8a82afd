package querylang

import (
	"strings"
	"testing"
)

// typicalQuery is what the Python client sends for a get() of a Task: the
// default projections, the key condition and the paging suffix.
const typicalQuery = `select context_type, id, name, object_type_id, project_id, status.state.short from Task where (id is "5671dcb0-66de-11e1-8e6e-f23c91df25eb") and parent.name like "sh0%" offset 0 limit 500`

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalQuery)))
	for b.Loop() {
		if _, err := Parse(typicalQuery); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParsePopulate parses a populate() of 500 entities: a bare id list.
func BenchmarkParsePopulate(b *testing.B) {
	ids := make([]string, 500)
	for i := range ids {
		ids[i] = uuid1
	}
	expr := `select name, status_id from Task where id in (` + strings.Join(ids, ",") + `)`
	b.ReportAllocs()
	b.SetBytes(int64(len(expr)))
	for b.Loop() {
		if _, err := Parse(expr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkString(b *testing.B) {
	q, err := Parse(typicalQuery)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = q.String()
	}
}

func BenchmarkWithPaging(b *testing.B) {
	q, err := Parse(typicalQuery)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = q.WithPaging(500, 500).String()
	}
}
