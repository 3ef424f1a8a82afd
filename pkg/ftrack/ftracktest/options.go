package ftracktest

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// Default credentials of the API user a Server has when no WithUser option
// is given.
const (
	DefaultUser   = "ftracktest"
	DefaultAPIKey = "ftracktest-api-key"
)

// DefaultVersion is the server version query_server_information reports.
const DefaultVersion = "4.13.0"

// Record is one entity to seed: its entity type and attributes as a client
// would send them in create.entity_data (references as
// {"__entity_type__", "id"} objects or as *_id foreign keys; datetimes as
// time.Time, tagged objects or strings).
type Record struct {
	Type string
	Data map[string]any
}

// Option configures a Server.
type Option func(*config) error

type config struct {
	users       []user
	schemaRaw   []byte
	schemaSet   *schema.Set
	clock       func() time.Time
	newID       func() string
	latency     time.Duration
	jitter      time.Duration
	seed        []Record
	builtinSeed bool
	logger      *slog.Logger
	version     string
	addr        string
	heartbeat   time.Duration
}

type user struct{ name, key string }

// WithUser adds an API user and its key. The first WithUser replaces the
// default user; the users exist as User entities.
func WithUser(username, apiKey string) Option {
	return func(c *config) error {
		if username == "" || apiKey == "" {
			return errors.New("ftracktest: WithUser needs a username and an API key")
		}
		c.users = append(c.users, user{username, apiKey})
		return nil
	}
}

// WithSchema serves raw, a query_schemas answer (a JSON array of schema
// objects), instead of the built-in schema. The built-in seed belongs to the
// built-in schema and is then not applied; use WithSeed.
func WithSchema(raw []byte) Option {
	return func(c *config) error {
		if len(raw) == 0 {
			return errors.New("ftracktest: WithSchema needs a non-empty schema")
		}
		c.schemaRaw = raw
		return nil
	}
}

// WithSchemaSet serves an already parsed schema set. As with WithSchema, the
// built-in seed is then not applied.
func WithSchemaSet(set *schema.Set) Option {
	return func(c *config) error {
		if set == nil {
			return errors.New("ftracktest: WithSchemaSet needs a set")
		}
		c.schemaSet = set
		return nil
	}
}

// WithClock sets the clock used for created_at and similar attributes.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("ftracktest: WithClock needs a function")
		}
		c.clock = now
		return nil
	}
}

// WithIDGenerator sets the generator of new ids ("{uid}" defaults, API keys).
// It is called with the server's lock held, never concurrently.
func WithIDGenerator(newID func() string) Option {
	return func(c *config) error {
		if newID == nil {
			return errors.New("ftracktest: WithIDGenerator needs a function")
		}
		c.newID = newID
		return nil
	}
}

// WithLatency delays every /api request by fixed plus a random duration in
// [0, jitter).
func WithLatency(fixed, jitter time.Duration) Option {
	return func(c *config) error {
		if fixed < 0 || jitter < 0 {
			return fmt.Errorf("ftracktest: WithLatency needs non-negative durations, got %v and %v", fixed, jitter)
		}
		c.latency, c.jitter = fixed, jitter
		return nil
	}
}

// WithSeed adds entities created at start, after the built-in seed, in order.
func WithSeed(records ...Record) Option {
	return func(c *config) error {
		c.seed = append(c.seed, records...)
		return nil
	}
}

// WithoutBuiltinSeed starts with an empty store (plus the API users)
// instead of the built-in fresh-site data.
func WithoutBuiltinSeed() Option {
	return func(c *config) error {
		c.builtinSeed = false
		return nil
	}
}

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("ftracktest: WithLogger needs a logger")
		}
		c.logger = l
		return nil
	}
}

// WithServerVersion sets the version query_server_information reports.
func WithServerVersion(v string) Option {
	return func(c *config) error {
		if v == "" {
			return errors.New("ftracktest: WithServerVersion needs a version")
		}
		c.version = v
		return nil
	}
}

// WithAddress sets the listen address; the default is 127.0.0.1:0 (a free
// loopback port). Tests should keep the default.
func WithAddress(addr string) Option {
	return func(c *config) error {
		if addr == "" {
			return errors.New("ftracktest: WithAddress needs an address")
		}
		c.addr = addr
		return nil
	}
}

// WithHeartbeatInterval sets how often the event hub sends heartbeats.
func WithHeartbeatInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("ftracktest: WithHeartbeatInterval needs a positive duration, got %v", d)
		}
		c.heartbeat = d
		return nil
	}
}
