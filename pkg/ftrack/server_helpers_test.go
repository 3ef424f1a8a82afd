package ftrack_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
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
