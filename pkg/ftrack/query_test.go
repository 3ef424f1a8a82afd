package ftrack_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// seedTasks creates n tasks named prefix-i under a new project.
func seedTasks(t *testing.T, s *ftrack.Session, prefix string, n int) *ftrack.Entity {
	t.Helper()
	p := newProject(t, s, prefix)
	for i := range n {
		must(s.Create("Task", map[string]any{"name": fmt.Sprintf("%s-%02d", prefix, i), "parent": p}))
	}
	mustOK(t, s.Commit(t.Context()))
	return p
}

func TestQueryPaging(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	p := seedTasks(t, s, "page", 7)
	cases := map[string]struct {
		reason   string
		expr     string
		pageSize int
		want     int
		calls    int
	}{
		"three pages and a tail": {
			reason: "7 rows in pages of 2 take 4 calls, following next.offset", expr: "Task where parent.id is \"%s\" order by name",
			pageSize: 2, want: 7, calls: 4,
		},
		"own limit": {
			reason: "the expression's limit caps the rows and the page size", expr: "Task where parent.id is \"%s\" order by name limit 5",
			pageSize: 2, want: 5, calls: 3,
		},
		"own offset": {
			reason: "the expression's offset is where paging starts", expr: "Task where parent.id is \"%s\" order by name offset 4",
			pageSize: 2, want: 3, calls: 2,
		},
		"one page": {
			reason: "the default page size fetches everything at once", expr: "Task where parent.id is \"%s\"",
			pageSize: 0, want: 7, calls: 1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// Not parallel: counts requests on the shared server.
			var opts []ftrack.QueryOption
			if tc.pageSize > 0 {
				opts = append(opts, ftrack.WithPageSize(tc.pageSize))
			}
			r, err := s.Query(fmt.Sprintf(tc.expr, p.ID()), opts...)
			if err != nil {
				t.Fatal(err)
			}
			before := srv.RequestCount("query")
			all, err := r.All(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != tc.want {
				t.Errorf("%s: %d entities, want %d", tc.reason, len(all), tc.want)
			}
			if got := srv.RequestCount("query") - before; got != tc.calls {
				t.Errorf("%s: %d query calls, want %d", tc.reason, got, tc.calls)
			}
		})
	}
	t.Run("iterate", func(t *testing.T) {
		r := must(s.Query(fmt.Sprintf("Task where parent.id is \"%s\" order by name", p.ID()), ftrack.WithPageSize(3)))
		var names []string
		for e, err := range r.Iter(t.Context()) {
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, e.MustGet("name").(string))
			if len(names) == 4 {
				break
			}
		}
		want := []string{"page-00", "page-01", "page-02", "page-03"}
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("iteration (-want +got):\n%s", diff)
		}
	})
}

func TestQueryDefaultProjections(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	r := must(s.Query("Task where name is \"x\""))
	sc, _ := s.Schemas().Get("Task")
	want := "select " + strings.Join(sc.DefaultProjections, ", ") + " from Task where name is \"x\""
	if r.Expression() != want {
		t.Errorf("Expression() = %q, want %q", r.Expression(), want)
	}
	if r := must(s.Query("select name from Task")); r.Expression() != "select name from Task" {
		t.Errorf("an explicit select was rewritten: %q", r.Expression())
	}
	if _, err := s.Query("select from"); err == nil {
		t.Error("a malformed expression was accepted")
	}
}

func TestQueryOneFirst(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	p := seedTasks(t, s, "onefirst", 3)
	if _, err := must(s.Query(fmt.Sprintf("Task where parent.id is \"%s\"", p.ID()))).One(t.Context()); !errors.Is(err, ftrack.ErrMultipleResultsFound) {
		t.Errorf("One on 3 rows: got %v", err)
	}
	if _, err := must(s.Query("Task where name is \"nothing\"")).One(t.Context()); !errors.Is(err, ftrack.ErrNoResultFound) {
		t.Errorf("One on 0 rows: got %v", err)
	}
	if _, err := must(s.Query("Task limit 1")).One(t.Context()); err == nil {
		t.Error("One accepted an expression with a limit")
	}
	e, err := must(s.Query(fmt.Sprintf("Task where parent.id is \"%s\" order by name", p.ID()))).First(t.Context())
	if err != nil || e == nil || e.MustGet("name") != "onefirst-00" {
		t.Errorf("First = %v, %v", e, err)
	}
	e, err = must(s.Query("Task where name is \"nothing\"")).First(t.Context())
	if err != nil || e != nil {
		t.Errorf("First on nothing = %v, %v; want nil, nil", e, err)
	}
}

func TestGetAndIdentityMap(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	p := newProject(t, s, "identity")
	other := newSession(t, srv)
	got, err := other.Get(t.Context(), "Project", p.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got.MustGet("name") != "identity" {
		t.Errorf("name = %v", got.MustGet("name"))
	}
	before := srv.RequestCount("query")
	again, err := other.Get(t.Context(), "Project", p.ID())
	if err != nil || again != got {
		t.Errorf("second Get = %p, %v; want the cached %p", again, err, got)
	}
	if n := srv.RequestCount("query") - before; n != 0 {
		t.Errorf("second Get made %d queries, want 0", n)
	}
	if _, err := other.Get(t.Context(), "Project", "8f3b1d6c-0000-4000-8000-000000000000"); !errors.Is(err, ftrack.ErrNotFound) {
		t.Errorf("missing: got %v, want ErrNotFound", err)
	}
	if _, err := other.Get(t.Context(), "Project", "a", "b"); err == nil {
		t.Error("a key of the wrong length was accepted")
	}
}

func TestAutoPopulate(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	writer := newSession(t, srv)
	p := newProject(t, writer, "autopop")
	task := must(writer.Create("Task", map[string]any{"name": "t", "description": "described", "parent": p}))
	mustOK(t, writer.Commit(t.Context()))

	t.Run("on", func(t *testing.T) {
		s := newSession(t, srv)
		e := must(must(s.Query(fmt.Sprintf("select name from Task where id is \"%s\"", task.ID()))).One(t.Context()))
		if e.IsSet("description") {
			t.Fatal("description loaded without being selected")
		}
		before := srv.RequestCount("query")
		if got := e.MustGet("description"); got != "described" {
			t.Errorf("description = %v", got)
		}
		if n := srv.RequestCount("query") - before; n != 1 {
			t.Errorf("auto-populate made %d queries, want 1", n)
		}
		parent := e.MustGet("parent").(*ftrack.Entity)
		if parent.ID() != p.ID() {
			t.Errorf("parent = %v", parent)
		}
		if parent.MustGet("name") != "autopop" {
			t.Errorf("parent name = %v", parent.MustGet("name"))
		}
	})
	t.Run("off", func(t *testing.T) {
		s := newSession(t, srv, ftrack.WithAutoPopulate(false))
		e := must(must(s.Query(fmt.Sprintf("select name from Task where id is \"%s\"", task.ID()))).One(t.Context()))
		before := srv.RequestCount("query")
		if got := e.MustGet("description"); got != nil {
			t.Errorf("description = %v, want nil without auto-populate", got)
		}
		if n := srv.RequestCount("query") - before; n != 0 {
			t.Errorf("%d queries with auto-populate off", n)
		}
		mustOK(t, s.WithAutoPopulating(true, func() error {
			if got := e.MustGet("description"); got != "described" {
				t.Errorf("scoped auto-populate: description = %v", got)
			}
			return nil
		}))
		if s.AutoPopulate() {
			t.Error("auto-populate not restored after the scope")
		}
	})
	t.Run("created", func(t *testing.T) {
		s := newSession(t, srv)
		e := must(s.Create("Task", map[string]any{"name": "new"}))
		before := srv.RequestCount("query")
		if got := e.MustGet("description"); got != nil {
			t.Errorf("description of a new entity = %v", got)
		}
		if n := srv.RequestCount("query") - before; n != 0 {
			t.Errorf("a new entity was populated with %d queries", n)
		}
		s.Rollback()
	})
}

func TestPopulate(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	p := seedTasks(t, s, "populate", 4)
	reader := newSession(t, srv, ftrack.WithAutoPopulate(false))
	tasks := must(must(reader.Query(fmt.Sprintf("select id from Task where parent.id is \"%s\"", p.ID()))).All(t.Context()))
	mustOK(t, tasks[0].Set("name", "local"))
	before := srv.RequestCount("query")
	mustOK(t, reader.Populate(t.Context(), tasks, "name, parent.name"))
	if n := srv.RequestCount("query") - before; n != 1 {
		t.Errorf("Populate made %d queries, want 1", n)
	}
	if got := tasks[0].MustGet("name"); got != "local" {
		t.Errorf("a local value was overwritten: %v", got)
	}
	for _, e := range tasks[1:] {
		name, _ := e.MustGet("name").(string)
		if !strings.HasPrefix(name, "populate-") {
			t.Errorf("name not populated: %v", name)
		}
		parent, _ := e.MustGet("parent").(*ftrack.Entity)
		if parent == nil || parent.MustGet("name") != "populate" {
			t.Errorf("parent.name not populated: %v", parent)
		}
	}
}

func TestEnsure(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	data := map[string]any{"name": "ensured", "full_name": "First"}
	// A Project needs a schema; ensure a simpler type: a Location.
	loc, err := s.Ensure(t.Context(), "Location", map[string]any{"name": "studio.disk", "label": "Disk"}, "name")
	if err != nil {
		t.Fatal(err)
	}
	if srv.Count("Location") == 0 {
		t.Fatal("no locations")
	}
	stored, ok := srv.Get("Location", loc.ID())
	if !ok || stored["label"] != "Disk" {
		t.Fatalf("created location = %v", stored)
	}
	before := srv.RequestCount("create")
	again, err := s.Ensure(t.Context(), "Location", map[string]any{"name": "studio.disk", "label": "Disk"}, "name")
	if err != nil || again.ID() != loc.ID() {
		t.Fatalf("second Ensure = %v, %v; want the same entity", again, err)
	}
	if n := srv.RequestCount("create") - before; n != 0 {
		t.Errorf("second Ensure created %d entities", n)
	}
	beforeUpd := srv.RequestCount("update")
	if _, err := s.Ensure(t.Context(), "Location", map[string]any{"name": "studio.disk", "label": "Disk 2"}, "name"); err != nil {
		t.Fatal(err)
	}
	if n := srv.RequestCount("update") - beforeUpd; n != 1 {
		t.Errorf("Ensure with a changed label sent %d updates, want 1", n)
	}
	if stored, _ := srv.Get("Location", loc.ID()); stored["label"] != "Disk 2" {
		t.Errorf("label on the server = %v", stored["label"])
	}
	if _, err := s.Ensure(t.Context(), "Location", data, "missing"); err == nil {
		t.Error("a missing identifying key was accepted")
	}
	if _, err := s.Ensure(t.Context(), "Location", map[string]any{}); err == nil {
		t.Error("Ensure without data was accepted")
	}
}

func TestDecodeNormalisedAnswer(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := newSession(t, srv)
	// A normalised answer: the second occurrence of the status is a bare
	// reference and must resolve to the fully decoded entity.
	answer := `[{"action": "query", "data": [
		{"__entity_type__": "Task", "id": "t1", "name": "a", "start_date": {"__type__": "datetime", "value": "2024-03-01T10:00:00"},
		 "status": {"__entity_type__": "Status", "id": "st1", "name": "Done"}},
		{"status": {"__entity_type__": "Status", "id": "st1"}, "__entity_type__": "Task", "id": "t2", "name": "b",
		 "end_date": {"__type__": "date", "value": "2024-03-02"}}],
		"metadata": {"next": {"offset": null}}}]`
	res, err := ftrack.DecodeAnswerForTest(s, []byte(answer))
	if err != nil {
		t.Fatal(err)
	}
	data := res[0].(map[string]any)["data"].([]any)
	t1, t2 := data[0].(*ftrack.Entity), data[1].(*ftrack.Entity)
	st1, st2 := t1.MustGet("status").(*ftrack.Entity), t2.MustGet("status").(*ftrack.Entity)
	if st1 != st2 {
		t.Error("the bare reference did not resolve to the same entity")
	}
	if st2.MustGet("name") != "Done" {
		t.Errorf("status name through the bare reference = %v", st2.MustGet("name"))
	}
	if got, want := t1.MustGet("start_date"), time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC); got != want {
		t.Errorf("start_date = %v, want %v", got, want)
	}
	if got := t2.MustGet("end_date"); got != (ftrack.Date{Year: 2024, Month: 3, Day: 2}) {
		t.Errorf("end_date = %#v", got)
	}
	_ = ftracktest.DefaultUser
}
