package connection

import (
	"sync"
	"testing"
)

// TestQueryReferencesAreShared: the objects of a show refer to the same few statuses by
// query; concurrent resolutions share one operation, a query that matched one entity is
// answered from memory, and one that matched none or several is read again.
func TestQueryReferencesAreShared(t *testing.T) {
	srv, s := newEmulatorSession(t)
	co := NewCommitCoalescer(s.Do)
	t.Cleanup(func() { _ = co.Close() })
	ec := &Entities{co: co, schemas: s.Schemas(), configs: &configCache{}, lookups: &lookupCache{}}
	const q = `Status where name is "In progress"`
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			found, err := ec.Query(t.Context(), q)
			if err != nil || len(found) != 1 {
				t.Errorf("Query: %v, %v", found, err)
			}
		})
	}
	wg.Wait()
	if n := srv.RequestCount("query"); n != 1 {
		t.Errorf("50 concurrent resolutions of one query sent %d query operations, want 1", n)
	}
	if _, err := ec.Query(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	if n := srv.RequestCount("query"); n != 1 {
		t.Errorf("a query that matched one entity was read again (%d operations)", n)
	}
	for _, expr := range []string{`Status where name is "No such status"`, `Status where name like "%"`} {
		for range 2 {
			if _, err := ec.Query(t.Context(), expr); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := srv.RequestCount("query"); n != 5 {
		t.Errorf("queries matching none or several: %d query operations in all, want 5 (each read every time)", n)
	}
	// The cached answer is a copy: a caller that changes it changes nothing for the next.
	a, _ := ec.Query(t.Context(), q)
	a[0].ID = "changed"
	if b, _ := ec.Query(t.Context(), q); b[0].ID == "changed" {
		t.Error("the cached answer is shared with callers")
	}
}
