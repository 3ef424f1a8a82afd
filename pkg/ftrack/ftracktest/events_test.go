package ftracktest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

// hubClient is a minimal socket.io 0.9 client for tests.
type hubClient struct {
	conn *websocket.Conn
}

func dialHub(t *testing.T, s *Server) *hubClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	q := url.Values{"api_user": {DefaultUser}, "api_key": {DefaultAPIKey}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/socket.io/1/?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("handshake: %d %s", resp.StatusCode, body)
	}
	sid := strings.SplitN(string(body), ":", 2)[0]
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/socket.io/1/websocket/"+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	c := &hubClient{conn: conn}
	c.waitFor(t, func(p string) bool { return strings.HasPrefix(p, "1::") })
	return c
}

func (c *hubClient) send(t *testing.T, packet string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(packet)); err != nil {
		t.Fatal(err)
	}
}

// waitFor reads packets until match accepts one, for at most 10 seconds.
func (c *hubClient) waitFor(t *testing.T, match func(string) bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for range 1000 {
		_, data, err := c.conn.Read(ctx)
		if err != nil {
			t.Fatalf("reading the event hub: %v", err)
		}
		if p := string(data); match(p) {
			return p
		}
	}
	t.Fatal("no matching packet in 1000 packets")
	return ""
}

func (c *hubClient) subscribe(t *testing.T, subscription string) {
	t.Helper()
	ev := map[string]any{"id": "sub-event", "topic": "ftrack.meta.subscribe", "target": "", "inReplyToEvent": nil, "sent": nil,
		"source": map[string]any{"id": "hub-1"},
		"data":   map[string]any{"subscriber": map[string]any{"id": "sub-1"}, "subscription": subscription}}
	b, _ := json.Marshal(map[string]any{"name": "ftrack.event", "args": []any{ev}})
	c.send(t, "5:1+::"+string(b))
	c.waitFor(t, func(p string) bool { return strings.HasPrefix(p, "6:::1") })
}

// nextEvent returns the next ftrack.event of topic.
func (c *hubClient) nextEvent(t *testing.T, topic string) map[string]any {
	t.Helper()
	var ev map[string]any
	c.waitFor(t, func(p string) bool {
		i := strings.Index(p, "{")
		if !strings.HasPrefix(p, "5:") || i < 0 {
			return false
		}
		var pkt struct {
			Name string           `json:"name"`
			Args []map[string]any `json:"args"`
		}
		if json.Unmarshal([]byte(p[i:]), &pkt) != nil || len(pkt.Args) == 0 {
			return false
		}
		if pkt.Args[0]["topic"] == topic {
			ev = pkt.Args[0]
			return true
		}
		return false
	})
	return ev
}

func TestUpdateEvent(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	hub := dialHub(t, s)
	hub.subscribe(t, "topic=ftrack.update")
	status, out := post(t, s, []any{op("update", "Shot", "entity_key", []any{fxShotID}, "entity_data", map[string]any{"name": "sh011", "status": ref("Status", fxStatus2ID)})},
		map[string]string{"ftrack-Clienttoken": "client-1", "ftrack-pushtoken": "push-1"})
	if exc, content := errorOf(out); status != 200 || exc != "" {
		t.Fatalf("update failed: %d %s %s", status, exc, content)
	}
	ev := hub.nextEvent(t, "ftrack.update")
	userID := mustUserID(t, s)
	wantData := map[string]any{
		"entities": []any{map[string]any{
			"entity_type": "Shot", "entityType": "task", "entityId": fxShotID, "action": "update",
			"keys": []any{"name", "statusid"},
			"changes": map[string]any{
				"name":     map[string]any{"old": "sh010", "new": "sh011"},
				"statusid": map[string]any{"old": fxStatusID, "new": fxStatus2ID},
			},
			"objectTypeId": shotOTID, "parentId": fxSeqID,
			"parents": []any{
				map[string]any{"entityId": fxShotID, "entityType": "task", "entity_type": "Shot", "parentId": fxSeqID},
				map[string]any{"entityId": fxSeqID, "entityType": "task", "entity_type": "Sequence", "parentId": fxProjectID},
				map[string]any{"entityId": fxProjectID, "entityType": "show", "entity_type": "Project", "parentId": nil},
			},
		}},
		"parents":     []any{fxShotID, fxSeqID, fxProjectID},
		"user":        map[string]any{"userid": userID, "name": DefaultUser},
		"clientToken": "client-1",
		"pushToken":   "push-1",
	}
	if diff := cmp.Diff(wantData, ev["data"]); diff != "" {
		t.Errorf("event data (-want +got):\n%s", diff)
	}
	wantSource := map[string]any{"id": "client-1", "clientToken": "client-1", "applicationId": "ftrack.api", "user": map[string]any{"username": DefaultUser, "id": userID}}
	if diff := cmp.Diff(wantSource, ev["source"]); diff != "" {
		t.Errorf("event source (-want +got):\n%s", diff)
	}
	// A failed batch publishes nothing; the next successful one does.
	post(t, s, []any{op("update", "Shot", "entity_key", fxShotID, "entity_data", map[string]any{"bid": "x"})}, nil)
	post(t, s, []any{op("create", "Task", "entity_data", map[string]any{"name": "roto", "parent_id": fxShotID})}, nil)
	ev = hub.nextEvent(t, "ftrack.update")
	ent := ev["data"].(map[string]any)["entities"].([]any)[0].(map[string]any)
	if ent["action"] != "add" || ent["entity_type"] != "Task" {
		t.Errorf("after a failed batch the next event is %v, want the Task add", ent)
	}
}

func TestEventActions(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason     string
		op         map[string]any
		wantAction string
		wantType   string
		key        string
		wantChange map[string]any
	}{
		"Add": {"a create is an add with old values null",
			op("create", "Task", "entity_data", map[string]any{"name": "roto", "parent_id": fxShotID}),
			"add", "Task", "name", map[string]any{"old": nil, "new": "roto"}},
		"Remove": {"a delete is a remove with new values null",
			op("delete", "Task", "entity_key", []any{fxTaskID}),
			"remove", "Task", "name", map[string]any{"old": "comp", "new": nil}},
		"Move": {"a parent change is a move",
			op("update", "Task", "entity_key", []any{fxTaskID}, "entity_data", map[string]any{"parent": ref("Shot", fxShot2ID)}),
			"move", "Task", "parent_id", map[string]any{"old": fxShotID, "new": fxShot2ID}},
		"LegacyColumn": {"keys use the legacy column names of alias_for",
			op("update", "Task", "entity_key", []any{fxTaskID}, "entity_data", map[string]any{"end_date": "2024-02-03T04:05:06Z"}),
			"update", "Task", "enddate", map[string]any{"old": nil, "new": map[string]any{"__type__": "datetime", "value": "2024-02-03T04:05:06"}}},
		"CustomAttribute": {"custom attribute changes name the attribute key",
			op("update", "ContextCustomAttributeValue", "entity_key", []any{fxCAConfigID, fxShotID}, "entity_data", map[string]any{"value": 1050}),
			"update", "Shot", "fstart", map[string]any{"old": float64(1001), "new": float64(1050)}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newFixtureServer(t)
			hub := dialHub(t, s)
			hub.subscribe(t, "topic=ftrack.update")
			if _, out := post(t, s, []any{tc.op}, nil); !isList(out) {
				t.Fatalf("%s: batch failed: %v", tc.reason, out)
			}
			ev := hub.nextEvent(t, "ftrack.update")
			var entity map[string]any
			for _, e := range ev["data"].(map[string]any)["entities"].([]any) {
				if m := e.(map[string]any); m["entity_type"] == tc.wantType && m["action"] == tc.wantAction {
					entity = m
				}
			}
			if entity == nil {
				t.Fatalf("%s: no %s %s entry in %v", tc.reason, tc.wantAction, tc.wantType, ev["data"])
			}
			changes := entity["changes"].(map[string]any)
			if diff := cmp.Diff(tc.wantChange, changes[tc.key]); diff != "" {
				t.Errorf("%s: changes[%q] (-want +got):\n%s", tc.reason, tc.key, diff)
			}
		})
	}
}

func isList(v any) bool { _, ok := v.([]any); return ok }
