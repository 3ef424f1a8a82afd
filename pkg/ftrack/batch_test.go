package ftrack_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

func TestDoTypedOperations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := newServer(t)
	s := newSession(t, srv)
	const projectID = "00000000-0000-4000-8000-00000000d001"
	const seqID = "00000000-0000-4000-8000-00000000d002"
	// A name the query language must quote exactly: quotes, a backslash, unicode.
	name := `sq "ten" \ séquence ✓`
	res, err := s.Do(ctx,
		ftrack.CreateOp("Project", map[string]any{"id": projectID, "name": "typed", "full_name": "Typed", "project_schema_id": builtin.DefaultProjectSchemaID}),
		ftrack.CreateOp("Sequence", map[string]any{"id": seqID, "name": name, "parent": ftrack.Ref{Type: "Project", ID: projectID}}),
		ftrack.UpdateOp("Sequence", []string{seqID}, map[string]any{"description": "updated"}),
	)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if len(res) != 3 {
		t.Fatalf("%d results, want 3", len(res))
	}
	if got, ok := srv.Get("Sequence", seqID); !ok || got["parent_id"] != projectID || got["description"] != "updated" {
		t.Fatalf("the emulator holds %v", got)
	}
	res, err = s.Do(ctx, ftrack.QueryOp("select id, name from Sequence where name is "+ftrack.Quote(name)+" and "+ftrack.In("parent_id", []string{projectID, "other"})))
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	found, err := ftrack.Entities(res[0])
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range found {
		ids = append(ids, e.ID())
	}
	if diff := cmp.Diff([]string{seqID}, ids); diff != "" {
		t.Errorf("query by quoted name (-want +got):\n%s", diff)
	}
	if _, err := s.Do(ctx, ftrack.DeleteOp("Sequence", seqID)); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, ok := srv.Get("Sequence", seqID); ok {
		t.Error("the sequence was not deleted")
	}
}

func TestLiteral(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason string
		in     any
		want   string
	}{
		"String":   {reason: "strings are quoted with only backslash and quote escaped", in: `a "b" \ é`, want: `"a \"b\" \\ é"`},
		"Bool":     {reason: "booleans as Python writes them", in: true, want: "True"},
		"Nil":      {reason: "nil is None", in: nil, want: "None"},
		"Number":   {reason: "numbers as they are", in: 2.5, want: "2.5"},
		"DateTime": {reason: "datetimes as naive UTC", in: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), want: `"2026-01-02T03:04:05"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ftrack.Literal(tc.in); got != tc.want {
				t.Errorf("%s: Literal(%v) = %s, want %s", tc.reason, tc.in, got, tc.want)
			}
		})
	}
	if got, want := ftrack.In("id", []string{"a", `b"`}), `id in ("a", "b\"")`; got != want {
		t.Errorf("In = %s, want %s", got, want)
	}
}

func TestErrorClassification(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason  string
		err     error
		refused bool
		after   time.Duration
	}{
		"Validation":  {reason: "invalid data is refused", err: &ftrack.ServerError{Exception: "ValidationError", StatusCode: http.StatusBadRequest}, refused: true},
		"NotFound":    {reason: "a missing entity is refused", err: &ftrack.ServerError{Exception: "NoResultFoundError", StatusCode: http.StatusNotFound}, refused: true},
		"Credentials": {reason: "refused credentials may pass with another key", err: &ftrack.ServerError{Exception: "InvalidCredentialsError", StatusCode: http.StatusUnauthorized}},
		"Server":      {reason: "a server failure may pass", err: &ftrack.ServerError{Exception: "ServerError", StatusCode: http.StatusInternalServerError}},
		"RateLimited": {reason: "a rate limit passes after the hint", err: &ftrack.RateLimitError{RetryAfter: 3 * time.Second}, after: 3 * time.Second},
		"Transport":   {reason: "a network failure may pass", err: &ftrack.TransportError{Op: "post", Err: errors.New("connection reset")}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ftrack.IsRefused(tc.err); got != tc.refused {
				t.Errorf("%s: IsRefused = %v", tc.reason, got)
			}
			after, ok := ftrack.RetryAfter(tc.err)
			if after != tc.after || ok != (tc.after > 0) {
				t.Errorf("%s: RetryAfter = %v, %v", tc.reason, after, ok)
			}
		})
	}
}
