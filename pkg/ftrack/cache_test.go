package ftrack_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
)

func TestMemoryCache(t *testing.T) {
	t.Parallel()
	c := ftrack.NewMemoryCache()
	c.Set("a", 1)
	c.Set("b", 2)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Errorf("Get(a) = %v, %v", v, ok)
	}
	if !c.Remove("a") || c.Remove("a") {
		t.Error("Remove should report presence once")
	}
	if diff := cmp.Diff([]string{"b"}, c.Keys()); diff != "" {
		t.Errorf("Keys (-want +got):\n%s", diff)
	}
	c.Clear()
	if c.Len() != 0 {
		t.Errorf("Len after Clear = %d", c.Len())
	}
}

func TestLayeredCacheBackFill(t *testing.T) {
	t.Parallel()
	top, middle, bottom := ftrack.NewMemoryCache(), ftrack.NewMemoryCache(), ftrack.NewMemoryCache()
	l := ftrack.NewLayeredCache(top, nil, middle, bottom)
	if n := len(l.Layers()); n != 3 {
		t.Fatalf("%d layers, want 3 (nil skipped)", n)
	}
	bottom.Set("k", "v")
	if v, ok := l.Get("k"); !ok || v != "v" {
		t.Fatalf("Get = %v, %v", v, ok)
	}
	for name, c := range map[string]*ftrack.MemoryCache{"top": top, "middle": middle} {
		if v, ok := c.Get("k"); !ok || v != "v" {
			t.Errorf("%s layer not back-filled: %v, %v", name, v, ok)
		}
	}
	l.Set("x", 1)
	for i, c := range []*ftrack.MemoryCache{top, middle, bottom} {
		if _, ok := c.Get("x"); !ok {
			t.Errorf("Set did not reach layer %d", i)
		}
	}
	middle.Set("only-middle", true)
	keys := l.Keys()
	slices.Sort(keys)
	if diff := cmp.Diff([]string{"k", "only-middle", "x"}, keys); diff != "" {
		t.Errorf("Keys (-want +got):\n%s", diff)
	}
	if !l.Remove("x") || l.Remove("x") {
		t.Error("Remove should report presence once")
	}
	if _, ok := l.Get("missing"); ok {
		t.Error("missing key found")
	}
}

func TestFileCache(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cache.jsonl")
	c, err := ftrack.OpenFileCache(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Set("a", map[string]any{"n": 1.0})
	c.Set("b", "two")
	c.Set("b", "three")
	c.Remove("a")
	c.Set("c", func() {}) // not JSON encodable
	if c.Err() == nil {
		t.Error("encoding failure not reported by Err")
	}
	// Reopen without Close: the appended log is replayed.
	c2, err := ftrack.OpenFileCache(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := c2.Get("b"); !ok || v != "three" {
		t.Errorf("b after reopen = %v, %v", v, ok)
	}
	if _, ok := c2.Get("a"); ok {
		t.Error("removed key survived")
	}
	if err := c.Close(); err != nil && c.Err() == nil {
		t.Fatal(err)
	}
	if err := c2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c2.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Error(err)
	}
	matches, _ := filepath.Glob(path + ".tmp*")
	if len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}

func TestKeyMakers(t *testing.T) {
	t.Parallel()
	id := ftrack.Identity{Type: "Task", Key: []string{"a1"}}
	cases := map[string]struct {
		reason string
		maker  ftrack.KeyMaker
		items  []any
		want   string
	}{
		"identity": {"an identity prints as the Python tuple", ftrack.StringKeyMaker{}, []any{id}, "('Task', ['a1'])"},
		"strings":  {"items are joined by the separator", ftrack.StringKeyMaker{Separator: "|"}, []any{"a", 1, true}, "a|1|true"},
		"object":   {"maps are encoded with sorted keys", ftrack.ObjectKeyMaker{}, []any{map[string]any{"b": 1, "a": []int{2}}, "x"}, "{\"a\":[2],\"b\":1}\x00\"x\""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.maker.Key(tc.items...)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("%s: got %q, want %q", tc.reason, got, tc.want)
			}
		})
	}
	if _, err := (ftrack.ObjectKeyMaker{}).Key(func() {}); err == nil {
		t.Error("ObjectKeyMaker accepted an unencodable value")
	}
}

func TestSessionLayeredCache(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	path := filepath.Join(t.TempDir(), "entities.jsonl")
	fc, err := ftrack.OpenFileCache(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	writer := newSession(t, srv)
	p := newProject(t, writer, "cached")

	first := newSession(t, srv, ftrack.WithCache(fc))
	got, err := first.Get(t.Context(), "Project", p.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got.MustGet("name") != "cached" {
		t.Fatalf("name = %v", got.MustGet("name"))
	}
	key := "('Project', ['" + p.ID() + "'])"
	if _, ok := fc.Get(key); !ok {
		t.Fatalf("entity not written to the lower cache; keys %v", fc.Keys())
	}

	// A second session with the same file cache finds the project there
	// without asking the server, and its memory layer is back-filled.
	var memoryHit bool
	second := newSession(t, srv, ftrack.WithCacheFunc(func(s *ftrack.Session) ftrack.Cache { return fc }), ftrack.WithAutoPopulate(false))
	before := srv.RequestCount("query")
	e, err := second.Get(t.Context(), "Project", p.ID())
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.RequestCount("query") - before; n != 0 {
		t.Errorf("Get through the lower cache made %d queries", n)
	}
	if e.MustGet("name") != "cached" {
		t.Errorf("name from the lower cache = %v", e.MustGet("name"))
	}
	again, _ := second.Get(t.Context(), "Project", p.ID())
	memoryHit = again == e
	if !memoryHit {
		t.Error("the rebuilt entity was not kept in the memory layer")
	}
}
