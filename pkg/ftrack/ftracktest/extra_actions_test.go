package ftracktest

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheapActions(t *testing.T) {
	t.Parallel()
	const roleID = "00000000-0000-0000-0000-000000000a01"
	s := newFixtureServer(t, WithSeed(Record{"SecurityRole", map[string]any{"id": roleID, "name": "Supervisor", "type": "PROJECT"}}))
	uid := mustUserID(t, s)
	cases := []struct {
		name   string
		reason string
		op     map[string]any
		check  func(t *testing.T, result any)
	}{
		{"DelayedJob", "delayed_job answers a queued Job", map[string]any{"action": "delayed_job", "job_type": "SYNC_USERS_LDAP"}, func(t *testing.T, result any) {
			job := result.(map[string]any)["data"].(map[string]any)
			if job["__entity_type__"] != "Job" || job["status"] != "queued" || job["type"] != "api_job" {
				t.Errorf("job = %v", job)
			}
		}},
		{"EncodeMedia", "encode_media answers a job id whose data is a JSON string", map[string]any{"action": "encode_media", "component_id": "c9", "version_id": nil, "keep_original": true}, func(t *testing.T, result any) {
			id := result.(map[string]any)["job_id"].(string)
			job, ok := s.Get("Job", id)
			if !ok {
				t.Fatalf("no Job %s", id)
			}
			var data map[string]any
			if err := json.Unmarshal([]byte(job["data"].(string)), &data); err != nil {
				t.Fatalf("Job.data is not JSON: %v", err)
			}
			if diff := cmp.Diff(map[string]any{"output": []any{}, "source_component_id": "c9", "keep_original": true}, data); diff != "" {
				t.Errorf("job data (-want +got):\n%s", diff)
			}
		}},
		{"AddRole", "add_user_security_role creates the role row", map[string]any{"action": "add_user_security_role", "user_id": uid, "role_id": roleID}, func(t *testing.T, _ any) {
			if got := s.Count("UserSecurityRole"); got != 1 {
				t.Errorf("Count(UserSecurityRole) = %d, want 1", got)
			}
		}},
		{"GrantProject", "grant_user_security_role_project adds a project grant", map[string]any{"action": "grant_user_security_role_project", "user_id": uid, "role_id": roleID, "project_id": fxProjectID}, func(t *testing.T, _ any) {
			if got := s.Count("UserSecurityRoleProject"); got != 1 {
				t.Errorf("Count(UserSecurityRoleProject) = %d, want 1", got)
			}
		}},
		{"RevokeProject", "revoke_user_security_role_project removes it", map[string]any{"action": "revoke_user_security_role_project", "user_id": uid, "role_id": roleID, "project_id": fxProjectID}, func(t *testing.T, _ any) {
			if got := s.Count("UserSecurityRoleProject"); got != 0 {
				t.Errorf("Count(UserSecurityRoleProject) = %d, want 0", got)
			}
		}},
		{"RemoveRole", "remove_user_security_role deletes the role row", map[string]any{"action": "remove_user_security_role", "user_id": uid, "role_id": roleID}, func(t *testing.T, _ any) {
			if got := s.Count("UserSecurityRole"); got != 0 {
				t.Errorf("Count(UserSecurityRole) = %d, want 0", got)
			}
		}},
		{"Search", "search narrows by terms and context", map[string]any{"action": "search", "expression": "select name from Shot", "entity_type": "Shot", "terms": []any{"020"}, "context_id": fxSeqID}, func(t *testing.T, result any) {
			if diff := cmp.Diff([]string{fxShot2ID}, ids(result.(map[string]any))); diff != "" {
				t.Errorf("search ids (-want +got):\n%s", diff)
			}
		}},
		{"Invite", "invites answer sent", map[string]any{"action": "send_user_invite", "user_id": uid}, func(t *testing.T, result any) {
			if diff := cmp.Diff(map[string]any{"sent": true}, result); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		}},
	}
	if err := s.Seed(Record{"FileComponent", map[string]any{"id": "c9", "name": "main"}}); err != nil {
		t.Fatal(err)
	}
	// In order: the role actions build on each other.
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, out := post(t, s, []any{tc.op}, nil)
			list, ok := out.([]any)
			if !ok {
				t.Fatalf("%s: %v", tc.reason, out)
			}
			tc.check(t, list[0])
		})
	}
}
