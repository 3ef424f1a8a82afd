package ftrack

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Op is one operation of an /api batch: what Session.Do sends, and what a caller that
// gathers operations of many callers into one batch (as ftrack-operator's commit coalescer
// does) passes around instead of hand-built request maps. Make them with CreateOp,
// UpdateOp, DeleteOp, QueryOp and ActionOp.
//
// Values in Data and Args are encoded as Session.Call encodes them: *Entity and Ref become
// references, time.Time and Date datetimes.
type Op struct {
	// Action is the operation's action: create, update, delete, query, or a server action.
	Action string
	// EntityType is the entity type of create, update and delete.
	EntityType string
	// Key is the primary key of update and delete (and of a create that names its id).
	Key []string
	// Data is the entity data of create and update.
	Data map[string]any
	// Expression is the query of a query.
	Expression string
	// Args are the fields of a server action other than action.
	Args map[string]any
}

// Ref is a reference to an entity by its type and id, as relation values are sent:
// {"__entity_type__": Type, "id": ID}.
type Ref struct {
	Type string
	ID   string
}

// CreateOp returns the creation of an entity of entityType with data. An "id" in data names
// the new entity's id (ftrack refuses a second entity with the same id).
func CreateOp(entityType string, data map[string]any) Op {
	op := Op{Action: "create", EntityType: entityType, Data: data}
	if id, ok := data["id"].(string); ok && id != "" {
		op.Key = []string{id}
	}
	return op
}

// UpdateOp returns the update of the entity of entityType with primary key key.
func UpdateOp(entityType string, key []string, data map[string]any) Op {
	return Op{Action: "update", EntityType: entityType, Key: key, Data: data}
}

// DeleteOp returns the deletion of the entity of entityType with primary key key.
func DeleteOp(entityType string, key ...string) Op {
	return Op{Action: "delete", EntityType: entityType, Key: key}
}

// QueryOp returns a query; build its expression with Quote, Literal and In.
func QueryOp(expression string) Op {
	return Op{Action: "query", Expression: expression}
}

// ActionOp returns a server action (query_server_information, reset_remote, …) with its
// fields.
func ActionOp(action string, args map[string]any) Op {
	return Op{Action: action, Args: args}
}

// wire returns the operation in the form the server takes, before encoding.
func (o Op) wire() map[string]any {
	m := make(map[string]any, len(o.Args)+4)
	for k, v := range o.Args {
		m[k] = v
	}
	m["action"] = o.Action
	if o.EntityType != "" {
		m["entity_type"] = o.EntityType
	}
	if len(o.Key) > 0 {
		key := make([]any, len(o.Key))
		for i, k := range o.Key {
			key[i] = k
		}
		m["entity_key"] = key
	}
	if o.Data != nil {
		data := make(map[string]any, len(o.Data)+1)
		for k, v := range o.Data {
			data[k] = v
		}
		data["__entity_type__"] = o.EntityType
		m["entity_data"] = data
	}
	if o.Action == "query" {
		m["expression"] = o.Expression
	}
	return m
}

// Wire returns the operations in the server's JSON form (values not yet encoded), for a
// caller that sends them through its own BatchCaller.
func Wire(ops ...Op) []map[string]any {
	out := make([]map[string]any, len(ops))
	for i, o := range ops {
		out[i] = o.wire()
	}
	return out
}

// Do sends ops as one /api batch, which ftrack runs as one transaction, and returns one
// result per operation: the entity a create or update wrote, {"data": [...]} of a query,
// the answer of an action. Unlike Commit it records nothing in the session.
func (s *Session) Do(ctx context.Context, ops ...Op) ([]any, error) {
	return s.Call(ctx, Wire(ops...))
}

// Entities returns the entities of a query's result, as Do and Call return it.
func Entities(result any) ([]*Entity, error) {
	m, ok := result.(map[string]any)
	if !ok {
		return nil, &TransportError{Op: "decode answer", Err: errors.New("a query result is not an object")}
	}
	data, _ := m["data"].([]any)
	out := make([]*Entity, 0, len(data))
	for _, d := range data {
		if e, ok := d.(*Entity); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// Quote returns s as a string literal of the query language: in double quotes, with
// backslashes and double quotes escaped. Every other character stands as it is.
func Quote(s string) string { return quoteValue(s) }

// Literal returns v as a literal of the query language, as Ensure writes it: strings and
// datetimes quoted, booleans True and False, numbers as they are, nil as None, an entity as
// its quoted id.
func Literal(v any) string { return queryLiteral(v) }

// In returns the term `attr in ("v1", "v2", …)` for values.
func In(attr string, values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = quoteValue(v)
	}
	return attr + " in (" + strings.Join(q, ", ") + ")"
}

// IsRefused reports whether the server refused a batch because of what it asks (invalid
// data, a missing entity, a denied permission, a query it cannot run): sending the same
// batch again cannot succeed. Refused credentials, rate limits, server failures and
// transport errors are not refusals; they may pass.
func IsRefused(err error) bool {
	var se *ServerError
	if !errors.As(err, &se) {
		return false
	}
	if errors.Is(err, ErrRateLimited) || errors.Is(err, ErrInvalidCredentials) {
		return false
	}
	return se.StatusCode < http.StatusInternalServerError && se.Exception != ""
}

// RetryAfter returns how long the server asked the client to wait before the next request
// (HTTP 429 with Retry-After), when err carries that hint.
func RetryAfter(err error) (time.Duration, bool) {
	var rl *RateLimitError
	if errors.As(err, &rl) && rl.RetryAfter > 0 {
		return rl.RetryAfter, true
	}
	return 0, false
}
