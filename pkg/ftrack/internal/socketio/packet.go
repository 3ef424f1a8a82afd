package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Packet types of socket.io 0.9.
const (
	TypeDisconnect = "0"
	TypeConnect    = "1"
	TypeHeartbeat  = "2"
	TypeMessage    = "3"
	TypeJSON       = "4"
	TypeEvent      = "5"
	TypeAck        = "6"
	TypeError      = "7"
	TypeNoop       = "8"
)

// ErrInvalidPacket is wrapped by every error Parse returns.
var ErrInvalidPacket = errors.New("socketio: invalid packet")

// Packet is one socket.io 0.9 packet, "<type>:<id>[+]:<endpoint>[:<data>]".
type Packet struct {
	// Type is one of the Type constants, a single digit.
	Type string
	// ID is the message id (decimal digits) or "".
	ID string
	// AckRequested is true when the id carried a "+" suffix: the peer asks
	// for an ack packet ("6:::<id>+[args]") in return.
	AckRequested bool
	// Endpoint is always "" for ftrack.
	Endpoint string
	// Data is everything after the third colon; "" when absent.
	Data string
}

// Parse decodes a packet. Like the Python client it splits on the first three
// colons and accepts one, three or four fields; the type must be a digit 0–8
// and the id decimal digits optionally followed by "+".
func Parse(s string) (Packet, error) {
	parts := strings.SplitN(s, ":", 4)
	if len(parts) == 2 {
		return Packet{}, fmt.Errorf("%w: %d fields", ErrInvalidPacket, len(parts))
	}
	var p Packet
	p.Type = parts[0]
	if len(p.Type) != 1 || p.Type[0] < '0' || p.Type[0] > '8' {
		return Packet{}, fmt.Errorf("%w: type %q", ErrInvalidPacket, truncate(p.Type))
	}
	if len(parts) == 1 {
		return p, nil
	}
	id := parts[1]
	if rest, ok := strings.CutSuffix(id, "+"); ok {
		if rest == "" {
			return Packet{}, fmt.Errorf("%w: ack request without id", ErrInvalidPacket)
		}
		id, p.AckRequested = rest, true
	}
	for i := range len(id) {
		if id[i] < '0' || id[i] > '9' {
			return Packet{}, fmt.Errorf("%w: id %q", ErrInvalidPacket, truncate(parts[1]))
		}
	}
	p.ID = id
	p.Endpoint = parts[2]
	if len(parts) == 4 {
		p.Data = parts[3]
	}
	return p, nil
}

func truncate(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

// String encodes the packet. The data field and its colon are omitted when
// Data is empty ("2::"), so "2:::" and "2::" decode to the same Packet.
func (p Packet) String() string {
	var b strings.Builder
	b.Grow(len(p.Type) + len(p.ID) + len(p.Endpoint) + len(p.Data) + 4)
	b.WriteString(p.Type)
	b.WriteByte(':')
	b.WriteString(p.ID)
	if p.AckRequested {
		b.WriteByte('+')
	}
	b.WriteByte(':')
	b.WriteString(p.Endpoint)
	if p.Data != "" {
		b.WriteByte(':')
		b.WriteString(p.Data)
	}
	return b.String()
}

// Frequently sent packets.
var (
	Connect    = Packet{Type: TypeConnect}
	Heartbeat  = Packet{Type: TypeHeartbeat}
	Disconnect = Packet{Type: TypeDisconnect}
)

// EventPayload is the data of an event packet.
type EventPayload struct {
	Name string            `json:"name"`
	Args []json.RawMessage `json:"args"`
}

// NewEvent returns an event packet named name with args encoded as JSON.
// With a non-empty id the packet requests an ack.
func NewEvent(id, name string, args ...any) (Packet, error) {
	payload := EventPayload{Name: name, Args: make([]json.RawMessage, 0, len(args))}
	for _, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			return Packet{}, fmt.Errorf("socketio: encode event %s: %w", name, err)
		}
		payload.Args = append(payload.Args, b)
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return Packet{}, fmt.Errorf("socketio: encode event %s: %w", name, err)
	}
	return Packet{Type: TypeEvent, ID: id, AckRequested: id != "", Data: string(data)}, nil
}

// Event decodes the data of an event packet.
func (p Packet) Event() (EventPayload, error) {
	if p.Type != TypeEvent {
		return EventPayload{}, fmt.Errorf("%w: type %s is not an event", ErrInvalidPacket, p.Type)
	}
	var payload EventPayload
	if err := json.Unmarshal([]byte(p.Data), &payload); err != nil {
		return EventPayload{}, fmt.Errorf("%w: event data: %w", ErrInvalidPacket, err)
	}
	return payload, nil
}

// NewAck returns the ack for the packet with the given id, "6:::<id>+<args>",
// where args is a JSON array.
func NewAck(id string, args json.RawMessage) Packet {
	return Packet{Type: TypeAck, Data: id + "+" + string(args)}
}

// Ack decodes the data of an ack packet into the acknowledged id and the
// JSON argument list (empty when the ack carries none).
func (p Packet) Ack() (id string, args json.RawMessage, err error) {
	if p.Type != TypeAck {
		return "", nil, fmt.Errorf("%w: type %s is not an ack", ErrInvalidPacket, p.Type)
	}
	i := 0
	for i < len(p.Data) && p.Data[i] >= '0' && p.Data[i] <= '9' {
		i++
	}
	if i == 0 {
		return "", nil, fmt.Errorf("%w: ack without id", ErrInvalidPacket)
	}
	id, rest := p.Data[:i], p.Data[i:]
	rest = strings.TrimPrefix(rest, "+")
	if rest == "" {
		return id, nil, nil
	}
	if !json.Valid([]byte(rest)) || rest[0] != '[' {
		return "", nil, fmt.Errorf("%w: ack arguments are not a JSON array", ErrInvalidPacket)
	}
	return id, json.RawMessage(rest), nil
}
