package ftrack_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ftrack-operator/ftrack-operator/internal/ftrackref"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// TestServerHelpers runs each server helper of the Session against the emulator.
func TestServerHelpers(t *testing.T) {
	srv := newServer(t)
	s := newSession(t, srv)
	ctx := t.Context()

	user, err := s.Query(`select id, username from User where username is "ftracktest"`)
	if err != nil {
		t.Fatal(err)
	}
	users, err := user.All(ctx)
	if err != nil || len(users) != 1 {
		t.Fatalf("the API user: %v, %v", users, err)
	}
	me := users[0]

	t.Run("EntityReference", func(t *testing.T) {
		ref := s.EntityReference(me)
		if ref["__entity_type__"] != "User" || ref["id"] != me.ID() || len(ref) != 2 {
			t.Errorf("EntityReference = %v", ref)
		}
	})

	t.Run("EncodeDecode", func(t *testing.T) {
		when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
		data, err := s.Encode(map[string]any{"user": me, "when": when})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), `"__entity_type__":"User"`) || !strings.Contains(string(data), `"__type__":"datetime"`) {
			t.Errorf("Encode = %s", data)
		}
		v, err := s.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := v.(map[string]any)
		if e, ok := m["user"].(*ftrack.Entity); !ok || e != me {
			t.Errorf("Decode gives user %#v, want the session's own entity", m["user"])
		}
		if got, ok := m["when"].(time.Time); !ok || !got.Equal(when) {
			t.Errorf("Decode gives when %#v, want %v", m["when"], when)
		}
	})

	t.Run("GetWidgetURL", func(t *testing.T) {
		url, err := s.GetWidgetURL(ctx, "tasks", me, "light")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", url, resp.StatusCode)
		}
	})

	t.Run("UploadAndEncodeMedia", func(t *testing.T) {
		comp, err := s.Create("FileComponent", map[string]any{"name": "clip", "file_type": ".mov", "size": int64(4)})
		if err != nil {
			t.Fatal(err)
		}
		// Uploaded before the component is committed, as the Python client does.
		meta, err := s.GetUploadMetadata(ctx, comp.ID(), "clip.mov", 4, "")
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, meta.URL, bytes.NewReader([]byte("moov")))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range meta.Headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if err := s.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if data, ok := srv.ComponentData(comp.ID()); !ok || string(data) != "moov" {
			t.Errorf("the component's data is %q", data)
		}
		job, err := s.EncodeMedia(ctx, comp, ftrack.EncodeMediaOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if job.EntityType() != "Job" || !strings.Contains(job.MustGet("data").(string), comp.ID()) {
			t.Errorf("EncodeMedia returned %s with data %v", job.EntityType(), job.MustGet("data"))
		}
	})

	t.Run("Invites", func(t *testing.T) {
		if err := s.SendUserInvites(ctx, me); err != nil {
			t.Fatal(err)
		}
		if err := s.SendUserInvites(ctx); err != nil {
			t.Errorf("no user to invite: %v", err)
		}
		stranger, err := s.Create("User", map[string]any{"username": "never-committed", "first_name": "N", "last_name": "C"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SendUserInvites(ctx, stranger); err == nil {
			t.Error("inviting a user ftrack does not have succeeded")
		}
		s.Rollback()
	})

	t.Run("ResetRemote", func(t *testing.T) {
		other, err := s.Create("User", map[string]any{"username": "reset-me", "first_name": "Re", "last_name": "Set"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		data, err := s.ResetRemote(ctx, "api_key", other)
		if err != nil {
			t.Fatal(err)
		}
		if m, _ := data.(map[string]any); m["api_key"] == nil || m["api_key"] == "" {
			t.Errorf("ResetRemote answered %v, want a new api_key", data)
		}
	})
}

// TestSendReviewSessionInvites runs against the emulator with the reference server's schema,
// which has review sessions (the built-in schema does not).
func TestSendReviewSessionInvites(t *testing.T) {
	const projectID = "5f1c9e36-5b0e-4a43-9d25-0a6f8e2b7c11"
	srv := newServer(t, ftracktest.WithSchemaSet(ftrackref.SchemaSet(t)),
		ftracktest.WithSeed(ftracktest.Record{Type: "Project", Data: map[string]any{"id": projectID, "name": "review-show", "full_name": "Review show"}}))
	s := newSession(t, srv)
	ctx := t.Context()
	project, err := s.Get(ctx, "Project", projectID)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	review, err := s.Create("ReviewSession", map[string]any{"name": "Dailies", "description": "Monday dailies", "project": project, "start_date": start, "end_date": start.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var invitees []*ftrack.Entity
	for _, who := range []string{"ana", "ben"} {
		inv, err := s.Create("ReviewSessionInvitee", map[string]any{"name": who, "email": who + "@studio.example", "review_session": review})
		if err != nil {
			t.Fatal(err)
		}
		invitees = append(invitees, inv)
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.SendReviewSessionInvites(ctx, invitees...); err != nil {
		t.Fatal(err)
	}
	ghost, err := s.Create("ReviewSessionInvitee", map[string]any{"name": "ghost", "email": "ghost@studio.example", "review_session": review})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendReviewSessionInvites(ctx, ghost); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("inviting an invitee ftrack does not have: %v", err)
	}
	s.Rollback()
}
