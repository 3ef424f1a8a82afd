package ftracktest

import (
	"encoding/json"
	"slices"
	"strings"
)

// delayedJob answers delayed_job with a queued api_job.
func (b *batch) delayedJob(op map[string]any) (any, error) {
	jobType, _ := op["job_type"].(string)
	if jobType == "" {
		return nil, validationError("delayed_job needs a job_type")
	}
	job, err := b.createJob(map[string]any{"job_type": jobType}, "queued")
	if err != nil {
		return nil, err
	}
	return map[string]any{"action": "delayed_job", "data": b.encodeFull(job)}, nil
}

// encodeMedia answers encode_media with a finished Job whose data names the
// source component; the emulator does not transcode, so the output list is
// empty.
func (b *batch) encodeMedia(op map[string]any) (any, error) {
	cid, _ := op["component_id"].(string)
	comp, ok := b.m.types["Component"]
	if !ok || b.st.find(comp, cid) == nil {
		return nil, validationError("encode_media: component %q does not exist", cid)
	}
	keep, _ := op["keep_original"].(bool)
	job, err := b.createJob(map[string]any{"output": []any{}, "source_component_id": cid, "keep_original": keep}, "done")
	if err != nil {
		return nil, err
	}
	return map[string]any{"job_id": job.id()}, nil
}

func (b *batch) createJob(data map[string]any, status string) (*record, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, serverError("encoding job data: %v", err)
	}
	in := map[string]any{"type": "api_job", "status": status, "data": string(raw)}
	if b.user != nil {
		in["user_id"] = b.user.id()
	}
	res, err := b.create(map[string]any{"action": "create", "entity_type": "Job", "entity_data": in})
	if err != nil {
		return nil, err
	}
	id := res.(map[string]any)["data"].(map[string]any)["id"].(string)
	return b.st.find(b.m.types["Job"], id), nil
}

// userRoles returns the UserSecurityRole rows of a user and role.
func (b *batch) userRoles(userID, roleID string) []*record {
	t, ok := b.m.types["UserSecurityRole"]
	if !ok {
		return nil
	}
	var out []*record
	for _, r := range b.st.byIndex(t, "user_id", userID) {
		if r.data["security_role_id"] == roleID {
			out = append(out, r)
		}
	}
	return out
}

// securityRole implements the user security role actions:
// add_user_security_role, remove_user_security_role,
// update_user_security_role, grant_user_security_role_project and
// revoke_user_security_role_project.
func (b *batch) securityRole(action string, op map[string]any) (any, error) {
	if _, ok := b.m.types["UserSecurityRole"]; !ok {
		return nil, validationError("%s: this schema has no UserSecurityRole type", action)
	}
	str := func(k string) string { s, _ := op[k].(string); return s }
	userID, roleID := str("user_id"), str("role_id")
	if userID == "" || roleID == "" {
		return nil, validationError("%s needs user_id and role_id", action)
	}
	existing := b.userRoles(userID, roleID)
	ok := map[string]any{"action": action, "data": map[string]any{"success": true}}
	switch action {
	case "add_user_security_role":
		if len(existing) > 0 {
			return ok, nil
		}
		_, err := b.create(map[string]any{"action": "create", "entity_type": "UserSecurityRole", "entity_data": map[string]any{
			"user_id": userID, "security_role_id": roleID, "is_all_projects": false, "is_all_open_projects": false}})
		return ok, err
	case "remove_user_security_role":
		for _, r := range existing {
			if err := b.deleteCascade(r, 0); err != nil {
				return nil, err
			}
		}
		return ok, nil
	case "update_user_security_role":
		newRole := str("new_role_id")
		if len(existing) == 0 || newRole == "" {
			return nil, validationError("%s: user %s has no role %s, or new_role_id is missing", action, userID, roleID)
		}
		_, err := b.update(map[string]any{"action": "update", "entity_type": "UserSecurityRole", "entity_key": existing[0].key, "entity_data": map[string]any{"security_role_id": newRole}})
		return ok, err
	}
	// Project grants hang off the user's role row.
	projectID := str("project_id")
	if projectID == "" {
		return nil, validationError("%s needs project_id", action)
	}
	pt, hasProjects := b.m.types["UserSecurityRoleProject"]
	if !hasProjects {
		return nil, validationError("%s: this schema has no UserSecurityRoleProject type", action)
	}
	if len(existing) == 0 {
		if action == "revoke_user_security_role_project" {
			return ok, nil
		}
		res, err := b.create(map[string]any{"action": "create", "entity_type": "UserSecurityRole", "entity_data": map[string]any{
			"user_id": userID, "security_role_id": roleID, "is_all_projects": false, "is_all_open_projects": false}})
		if err != nil {
			return nil, err
		}
		id := res.(map[string]any)["data"].(map[string]any)["id"].(string)
		existing = []*record{b.st.find(b.m.types["UserSecurityRole"], id)}
	}
	grants := b.st.byIndex(pt, "user_security_role_id", existing[0].id())
	i := slices.IndexFunc(grants, func(r *record) bool { return r.data["project_id"] == projectID })
	switch {
	case action == "grant_user_security_role_project" && i < 0:
		_, err := b.create(map[string]any{"action": "create", "entity_type": "UserSecurityRoleProject", "entity_data": map[string]any{
			"user_security_role_id": existing[0].id(), "project_id": projectID}})
		return ok, err
	case action == "revoke_user_security_role_project" && i >= 0:
		return ok, b.deleteCascade(grants[i], 0)
	}
	return ok, nil
}

// search answers the JS search action: the query, narrowed to entities
// whose name contains every term, that lie under context_id and whose
// object type is one of object_type_ids.
func (b *batch) search(op map[string]any) (any, error) {
	expr, _ := op["expression"].(string)
	if expr == "" {
		et, _ := op["entity_type"].(string)
		expr = "select id, name from " + et
	}
	res, err := b.runQuery("search", expr)
	if err != nil {
		return nil, err
	}
	var terms, objectTypes []string
	for _, t := range asList(op["terms"]) {
		if s, ok := t.(string); ok && s != "" {
			terms = append(terms, strings.ToLower(s))
		}
	}
	for _, t := range asList(op["object_type_ids"]) {
		if s, ok := t.(string); ok {
			objectTypes = append(objectTypes, s)
		}
	}
	contextID, _ := op["context_id"].(string)
	ctx := b.m.types["Context"]
	var kept []any
	for _, d := range res["data"].([]any) {
		m := d.(map[string]any)
		id, _ := m["id"].(string)
		var r *record
		if ctx != nil {
			r = b.st.find(ctx, id)
		}
		if r == nil {
			for _, x := range b.st.byIndex(nil, "id", id) {
				r = x
				break
			}
		}
		if r == nil || !b.searchMatch(r, terms, objectTypes, contextID) {
			continue
		}
		kept = append(kept, m)
	}
	res["data"] = kept
	return res, nil
}

func (b *batch) searchMatch(r *record, terms, objectTypes []string, contextID string) bool {
	name, _ := r.data["name"].(string)
	for _, t := range terms {
		if !strings.Contains(strings.ToLower(name), t) {
			return false
		}
	}
	if len(objectTypes) > 0 && !slices.Contains(objectTypes, stringify(r.data["object_type_id"])) {
		return false
	}
	if contextID != "" && r.typ.is("Context") {
		found := r.id() == contextID
		for _, l := range b.link(r) {
			if l.(map[string]any)["id"] == contextID {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
