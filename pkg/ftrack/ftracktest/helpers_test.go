package ftracktest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// referenceDir returns ../shared/ftrack-reference relative to the module root.
func referenceDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for range 20 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "ftrack-reference")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	tb.Fatal("go.mod not found above the package directory")
	return ""
}

var (
	refSchemaOnce sync.Once
	refSchema     []byte
	refSchemaErr  error
)

// referenceSchema returns the recorded query_schemas answer of a real server.
func referenceSchema(tb testing.TB) []byte {
	tb.Helper()
	dir := referenceDir(tb)
	refSchemaOnce.Do(func() {
		refSchema, refSchemaErr = os.ReadFile(filepath.Join(dir, "query_schemas.json"))
	})
	if refSchemaErr != nil {
		tb.Fatalf("reading the reference schema: %v", refSchemaErr)
	}
	return refSchema
}

// Fixed ids of the test fixture.
const (
	fxSchemaID   = "00000000-0000-0000-0000-0000000000a1"
	fxStatusID   = "00000000-0000-0000-0000-0000000000b1"
	fxStatus2ID  = "00000000-0000-0000-0000-0000000000b2"
	fxStateID    = "00000000-0000-0000-0000-0000000000c1"
	fxTypeID     = "00000000-0000-0000-0000-0000000000d1"
	fxPriorityID = "9661b320-3a0c-11e2-81c1-0800200c9a66"
	fxProjectID  = "00000000-0000-0000-0000-000000000101"
	fxSeqID      = "00000000-0000-0000-0000-000000000201"
	fxShotID     = "00000000-0000-0000-0000-000000000301"
	fxShot2ID    = "00000000-0000-0000-0000-000000000302"
	fxTaskID     = "00000000-0000-0000-0000-000000000401"
	fxCATypeID   = "00000000-0000-0000-0000-000000000501"
	fxCAConfigID = "00000000-0000-0000-0000-000000000601"
	taskOTID     = "11c137c0-ee7e-4f9c-91c5-8c77cec22b2c"
	shotOTID     = "bad911de-3bd6-47b9-8b46-3476e237cb36"
)

func ref(typ, id string) map[string]any { return map[string]any{"__entity_type__": typ, "id": id} }

// fixtureSeed is a small project: Project / Sequence / two Shots / Task.
func fixtureSeed() []Record {
	return []Record{
		{"State", map[string]any{"id": fxStateID, "name": "Not started", "short": "NOT_STARTED"}},
		{"Status", map[string]any{"id": fxStatusID, "name": "Not started", "state": ref("State", fxStateID), "is_active": true, "sort": 1}},
		{"Status", map[string]any{"id": fxStatus2ID, "name": "In progress", "state": ref("State", fxStateID), "is_active": true, "sort": 2}},
		{"Type", map[string]any{"id": fxTypeID, "name": "Compositing", "color": "#fff", "sort": 1, "is_billable": true}},
		{"Priority", map[string]any{"id": fxPriorityID, "name": "None", "sort": 0, "color": "#000", "value": 0}},
		{"ObjectType", map[string]any{"id": taskOTID, "name": "Task", "icon": "task", "sort": 0, "is_time_reportable": true, "is_taskable": true, "is_typeable": true, "is_statusable": true, "is_schedulable": true, "is_leaf": true}},
		{"ObjectType", map[string]any{"id": shotOTID, "name": "Shot", "icon": "shot", "sort": 1, "is_time_reportable": false, "is_taskable": false, "is_typeable": false, "is_statusable": true, "is_schedulable": true, "is_leaf": false}},
		{"ProjectSchema", map[string]any{"id": fxSchemaID, "name": "VFX"}},
		{"Project", map[string]any{"id": fxProjectID, "name": "thrones", "full_name": "Game of Thrones", "project_schema_id": fxSchemaID, "start_date": "2024-01-01T00:00:00", "end_date": "2024-12-31T00:00:00"}},
		{"Sequence", map[string]any{"id": fxSeqID, "name": "sq010", "parent": ref("Project", fxProjectID), "status_id": fxStatusID, "type_id": fxTypeID}},
		{"Shot", map[string]any{"id": fxShotID, "name": "sh010", "parent": ref("Sequence", fxSeqID), "status_id": fxStatusID, "type_id": fxTypeID, "bid": 10.5}},
		{"Shot", map[string]any{"id": fxShot2ID, "name": "sh020", "parent": ref("Sequence", fxSeqID), "status_id": fxStatus2ID, "type_id": fxTypeID, "bid": 20, "description": "100% done"}},
		{"Task", map[string]any{"id": fxTaskID, "name": "comp", "parent": ref("Shot", fxShotID), "status_id": fxStatusID, "type_id": fxTypeID, "start_date": "2024-03-01T10:00:00Z"}},
		{"CustomAttributeType", map[string]any{"id": fxCATypeID, "name": "number", "core": true}},
		{"CustomAttributeConfiguration", map[string]any{"id": fxCAConfigID, "key": "fstart", "label": "Frame start", "entity_type": "task", "object_type_id": shotOTID, "type_id": fxCATypeID, "default": 1001, "config": "{}", "core": false}},
	}
}

// newFixtureServer starts a server with the reference schema and the fixture.
func newFixtureServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	all := append([]Option{WithSchema(referenceSchema(tb)), WithoutBuiltinSeed(), WithSeed(fixtureSeed()...)}, opts...)
	s, err := NewServer(all...)
	if err != nil {
		tb.Fatalf("NewServer: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// post sends a batch with the default credentials plus headers and returns
// the status and decoded body.
func post(tb testing.TB, s *Server, ops any, headers map[string]string) (int, any) {
	tb.Helper()
	body, err := json.Marshal(ops)
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/api", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ftrack-user", DefaultUser)
	req.Header.Set("ftrack-api-key", DefaultAPIKey)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Fatalf("response is not JSON (%d): %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// query runs one expression and returns the query result object.
func query(tb testing.TB, s *Server, expr string) map[string]any {
	tb.Helper()
	_, out := post(tb, s, []any{map[string]any{"action": "query", "expression": expr}}, nil)
	list, ok := out.([]any)
	if !ok {
		tb.Fatalf("query %q failed: %v", expr, out)
	}
	return list[0].(map[string]any)
}

func newAPIRequest(s *Server, body string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, s.URL+"/api", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("ftrack-user", DefaultUser)
	req.Header.Set("ftrack-api-key", DefaultAPIKey)
	return req, nil
}

func (s *Server) client() *http.Client { return http.DefaultClient }
