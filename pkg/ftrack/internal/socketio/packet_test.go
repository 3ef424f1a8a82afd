package socketio

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		in     string
		want   Packet
		out    string
	}{
		"Disconnect":    {"server disconnect", "0::", Packet{Type: "0"}, "0::"},
		"Connect":       {"connect after open", "1::", Packet{Type: "1"}, "1::"},
		"Heartbeat":     {"heartbeat, JS form", "2::", Packet{Type: "2"}, "2::"},
		"HeartbeatPy":   {"heartbeat, Python form with empty data", "2:::", Packet{Type: "2"}, "2::"},
		"TypeOnly":      {"one field is accepted", "2", Packet{Type: "2"}, "2::"},
		"EventAck":      {"Python event with ack request", `5:1+::{"name":"ftrack.event","args":[{}]}`, Packet{Type: "5", ID: "1", AckRequested: true, Data: `{"name":"ftrack.event","args":[{}]}`}, `5:1+::{"name":"ftrack.event","args":[{}]}`},
		"EventNoAck":    {"server/JS event", `5:::{"name":"ftrack.event","args":[]}`, Packet{Type: "5", Data: `{"name":"ftrack.event","args":[]}`}, `5:::{"name":"ftrack.event","args":[]}`},
		"EventID":       {"id without ack request", `5:12::{}`, Packet{Type: "5", ID: "12", Data: `{}`}, `5:12::{}`},
		"DataColons":    {"data keeps its colons", `5:::{"a":"b:c"}`, Packet{Type: "5", Data: `{"a":"b:c"}`}, `5:::{"a":"b:c"}`},
		"Ack":           {"ack with arguments", `6:::1+[{"success": true}]`, Packet{Type: "6", Data: `1+[{"success": true}]`}, `6:::1+[{"success": true}]`},
		"Error":         {"error with reason", "7:::unauthorized", Packet{Type: "7", Data: "unauthorized"}, "7:::unauthorized"},
		"Noop":          {"noop", "8::", Packet{Type: "8"}, "8::"},
		"Endpoint":      {"endpoint is kept", "1::/chat", Packet{Type: "1", Endpoint: "/chat"}, "1::/chat"},
		"UnicodeData":   {"raw UTF-8 data", "5:::{\"a\":\"é\"}", Packet{Type: "5", Data: "{\"a\":\"é\"}"}, "5:::{\"a\":\"é\"}"},
		"EmptyEndpoint": {"three fields with empty id", "7::", Packet{Type: "7"}, "7::"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("%s: Parse(%q): %v", tc.reason, tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: Parse(%q) (-want +got):\n%s", tc.reason, tc.in, diff)
			}
			if diff := cmp.Diff(tc.out, got.String()); diff != "" {
				t.Errorf("%s: String() (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		in     string
	}{
		"Empty":      {"empty frame", ""},
		"TwoFields":  {"two fields are invalid (Python)", "2:"},
		"BadType":    {"type out of range", "9::"},
		"LongType":   {"type with two digits", "10::"},
		"LetterType": {"type is not a digit", "x::"},
		"BadID":      {"id with letters", "5:a::{}"},
		"PlusOnly":   {"ack request without id", "5:+::{}"},
		"PlusMiddle": {"plus inside the id", "5:1+2::{}"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse(tc.in)
			if !errors.Is(err, ErrInvalidPacket) {
				t.Errorf("%s: Parse(%q) = %+v, %v; want ErrInvalidPacket", tc.reason, tc.in, p, err)
			}
		})
	}
}

func TestNewEvent(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		id     string
		want   string
	}{
		"NoAck":   {"no id: plain 5::: packet as the server sends", "", `5:::{"name":"ftrack.event","args":[{"k":"v"}]}`},
		"WithAck": {"an id requests an ack", "3", `5:3+::{"name":"ftrack.event","args":[{"k":"v"}]}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := NewEvent(tc.id, "ftrack.event", map[string]string{"k": "v"})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, p.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
			back, err := Parse(p.String())
			if err != nil {
				t.Fatal(err)
			}
			payload, err := back.Event()
			if err != nil {
				t.Fatal(err)
			}
			if payload.Name != "ftrack.event" || len(payload.Args) != 1 || string(payload.Args[0]) != `{"k":"v"}` {
				t.Errorf("%s: decoded payload %+v", tc.reason, payload)
			}
		})
	}
}

func TestAck(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason  string
		in      string
		id      string
		args    string
		wantErr bool
	}{
		"Args":      {"id and array", `6:::4+[{"success": true}]`, "4", `[{"success": true}]`, false},
		"NoPlus":    {"id without plus", `6:::4[1]`, "4", `[1]`, false},
		"Bare":      {"id only", `6:::4`, "4", "", false},
		"NoID":      {"missing id", `6:::+[1]`, "", "", true},
		"NotArray":  {"arguments must be an array", `6:::4+{}`, "", "", true},
		"BadJSON":   {"arguments must be JSON", `6:::4+[`, "", "", true},
		"WrongType": {"not an ack packet", `5:::4+[]`, "", "", true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			id, args, err := p.Ack()
			if (err != nil) != tc.wantErr {
				t.Fatalf("%s: Ack() error = %v, wantErr %v", tc.reason, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.id+"|"+tc.args, id+"|"+string(args)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
	if got := NewAck("7", json.RawMessage(`[{"success": true}]`)).String(); got != `6:::7+[{"success": true}]` {
		t.Errorf("NewAck = %q", got)
	}
}

func TestEventWrongType(t *testing.T) {
	t.Parallel()
	if _, err := (Packet{Type: TypeAck}).Event(); !errors.Is(err, ErrInvalidPacket) {
		t.Errorf("Event() on an ack: %v", err)
	}
	if _, err := (Packet{Type: TypeEvent, Data: "{"}).Event(); !errors.Is(err, ErrInvalidPacket) {
		t.Errorf("Event() on bad JSON: %v", err)
	}
}

// FuzzParsePacket checks that Parse never panics and that every accepted
// packet encodes to a string that parses back to the same packet.
func FuzzParsePacket(f *testing.F) {
	for _, s := range []string{"0::", "1::", "2::", "2:::", `5:1+::{"name":"ftrack.event","args":[{}]}`, `6:::1+[{"success": true}]`, "7:::reason"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(p.String())
		if err != nil {
			t.Fatalf("String() %q of %q does not parse: %v", p.String(), s, err)
		}
		if diff := cmp.Diff(p, back); diff != "" {
			t.Fatalf("round trip of %q (-first +second):\n%s", s, diff)
		}
		if p.Type == TypeAck {
			_, _, _ = p.Ack()
		}
		if p.Type == TypeEvent {
			_, _ = p.Event()
		}
	})
}
