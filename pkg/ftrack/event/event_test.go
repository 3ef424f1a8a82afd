package event

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEventMarshalJSON(t *testing.T) {
	t.Parallel()
	reply := "e1"
	cases := map[string]struct {
		reason string
		event  Event
		want   string
	}{
		"Zero": {
			reason: "nil maps become {} and the seven keys are always present",
			event:  Event{},
			want:   `{"id":"","topic":"","data":{},"source":{},"target":"","inReplyToEvent":null,"sent":null}`,
		},
		"Full": {
			reason: "fields map to their wire names",
			event: Event{ID: "i", Topic: "t", Data: map[string]any{"a": 1}, Source: map[string]any{"id": "s"},
				Target: "id=x", InReplyToEvent: &reply, Sent: nil},
			want: `{"id":"i","topic":"t","data":{"a":1},"source":{"id":"s"},"target":"id=x","inReplyToEvent":"e1","sent":null}`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tc.event)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(b)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
			// The pointer form must encode the same.
			b, err = json.Marshal(&tc.event)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(b)); diff != "" {
				t.Errorf("%s, via pointer (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestEventUnmarshalJSON(t *testing.T) {
	t.Parallel()
	var ev Event
	in := `{"id":"i","topic":"t","target":"","inReplyToEvent":"x","sent":null,"extra":1}`
	if err := json.Unmarshal([]byte(in), &ev); err != nil {
		t.Fatal(err)
	}
	x := "x"
	want := Event{ID: "i", Topic: "t", Data: map[string]any{}, Source: map[string]any{}, InReplyToEvent: &x}
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNewEvent(t *testing.T) {
	t.Parallel()
	a := NewEvent("t", nil)
	b := NewEvent("t", map[string]any{"k": "v"})
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(a.ID) {
		t.Errorf("id %q is not 32 hex digits", a.ID)
	}
	if a.ID == b.ID {
		t.Error("two events share an id")
	}
	if a.Data == nil || a.Source == nil {
		t.Error("NewEvent left nil maps")
	}
	if diff := cmp.Diff(map[string]any{"k": "v"}, b.Data); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
}

func TestNewReply(t *testing.T) {
	t.Parallel()
	src := NewEvent("t", nil)
	src.Source["id"] = "hub1"
	r := NewReply(src, map[string]any{"ok": true})
	if r.Topic != TopicReply || r.Target != "id=hub1" || !r.IsReplyTo(src.ID) {
		t.Errorf("reply = %+v", r)
	}
	target := MustParseExpression(r.Target)
	if !target.Match(map[string]any{"id": "hub1"}) || target.Match(map[string]any{"id": "hub2"}) {
		t.Error("reply target does not select exactly the source hub")
	}
}

func TestEventClone(t *testing.T) {
	t.Parallel()
	ev := NewEvent("t", map[string]any{"n": map[string]any{"a": "b"}, "l": []any{"x"}})
	c := ev.Clone()
	c.Data["n"].(map[string]any)["a"] = "changed"
	c.Data["l"].([]any)[0] = "changed"
	if diff := cmp.Diff(map[string]any{"n": map[string]any{"a": "b"}, "l": []any{"x"}}, ev.Data); diff != "" {
		t.Errorf("clone shares state with the original (-want +got):\n%s", diff)
	}
}

func TestEventCandidate(t *testing.T) {
	t.Parallel()
	ev := Event{ID: "i", Topic: "ftrack.update", Source: map[string]any{"user": map[string]any{"username": "jane"}}}
	if !MustParseExpression("topic=ftrack.update and source.user.username=jane and id=i").Match(ev.Candidate()) {
		t.Error("candidate does not expose topic, source and id")
	}
}

// TestEventWithDataThatIsNotAnObject: the other clients publish any JSON value as data; such
// an event decodes (the value kept in RawData, Data empty), matches subscriptions on its
// topic, and encodes back as it came.
func TestEventWithDataThatIsNotAnObject(t *testing.T) {
	for _, data := range []string{`["a",1]`, `"text"`, `42`, `true`} {
		in := `{"id":"x","topic":"studio.list","data":` + data + `,"source":{},"target":"","inReplyToEvent":null,"sent":null}`
		var ev Event
		if err := json.Unmarshal([]byte(in), &ev); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if string(ev.RawData) != data || len(ev.Data) != 0 {
			t.Errorf("%s: RawData %s, Data %v", data, ev.RawData, ev.Data)
		}
		out, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), `"data":`+data) {
			t.Errorf("%s: encoded as %s", data, out)
		}
		expr, err := ParseExpression("topic=studio.list")
		if err != nil {
			t.Fatal(err)
		}
		if !expr.Match(ev.Candidate()) {
			t.Errorf("%s: the topic does not match", data)
		}
	}
	var ev Event
	if err := json.Unmarshal([]byte(`{"topic":"t","data":null}`), &ev); err != nil || ev.Data == nil || ev.RawData != nil {
		t.Errorf("null data: %v, %v, %s", err, ev.Data, ev.RawData)
	}
}
