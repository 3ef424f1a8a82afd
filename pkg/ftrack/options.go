package ftrack

import (
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// Option configures a Session.
type Option func(*config) error

type config struct {
	serverURL        string
	apiKey           string
	apiUser          string
	timeout          time.Duration
	headers          http.Header
	strictAPI        bool
	clientToken      string
	httpClient       *http.Client
	logger           *slog.Logger
	maxResponseBytes int64
	autoPopulate     bool
	cache            Cache
	cacheFunc        func(*Session) Cache
	keyMaker         KeyMaker
	schemaCacheDir   string
	schemaCacheSet   bool
	schemaCacheOff   bool
	pluginPaths      []string
	pluginPathsSet   bool
	pluginArguments  map[string]any
	plugins          []PluginFunc
	autoConnectHub   bool
}

// DefaultTimeout is the per-request timeout, as the Python client's 60 s.
const DefaultTimeout = 60 * time.Second

// DefaultMaxResponseBytes bounds the size of one /api answer.
const DefaultMaxResponseBytes = 256 << 20

// WithServerURL sets the server URL (default: FTRACK_SERVER).
func WithServerURL(u string) Option {
	return func(c *config) error {
		if u == "" {
			return errors.New("ftrack: WithServerURL: empty URL")
		}
		c.serverURL = u
		return nil
	}
}

// WithAPIKey sets the API key (default: FTRACK_API_KEY, then FTRACK_APIKEY).
func WithAPIKey(key string) Option {
	return func(c *config) error {
		if key == "" {
			return errors.New("ftrack: WithAPIKey: empty key")
		}
		c.apiKey = key
		return nil
	}
}

// WithAPIUser sets the API user (default: FTRACK_API_USER, then the OS user).
func WithAPIUser(user string) Option {
	return func(c *config) error {
		if user == "" {
			return errors.New("ftrack: WithAPIUser: empty user")
		}
		c.apiUser = user
		return nil
	}
}

// WithTimeout sets the timeout of each HTTP request (default 60 s).
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("ftrack: WithTimeout: timeout must be positive")
		}
		c.timeout = d
		return nil
	}
}

// WithHeaders adds headers to every request (and to the event hub).
func WithHeaders(h http.Header) Option {
	return func(c *config) error {
		for k, vs := range h {
			for _, v := range vs {
				c.headers.Add(k, v)
			}
		}
		return nil
	}
}

// WithStrictAPI sets the ftrack-strict-api header to "true" (default
// "false").
func WithStrictAPI(strict bool) Option {
	return func(c *config) error { c.strictAPI = strict; return nil }
}

// WithClientToken sets the ftrack-Clienttoken header value (default: a
// generated token). The server echoes it in ftrack.update events.
func WithClientToken(token string) Option {
	return func(c *config) error {
		if token == "" {
			return errors.New("ftrack: WithClientToken: empty token")
		}
		c.clientToken = token
		return nil
	}
}

// WithHTTPClient sets the HTTP client. Its transport is wrapped in a
// SessionAuthentication; the client itself is not modified.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("ftrack: WithHTTPClient: nil client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("ftrack: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithMaxResponseBytes bounds the size of one answer (default 256 MiB).
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return errors.New("ftrack: WithMaxResponseBytes: limit must be positive")
		}
		c.maxResponseBytes = n
		return nil
	}
}

// WithAutoPopulate switches auto-populate (default on).
func WithAutoPopulate(on bool) Option {
	return func(c *config) error { c.autoPopulate = on; return nil }
}

// WithCache adds a cache layer below the session's memory cache.
func WithCache(cache Cache) Option {
	return func(c *config) error { c.cache = cache; return nil }
}

// WithCacheFunc adds the cache layer returned by f, called during NewSession
// after the schemas are loaded; f may return nil for no layer.
func WithCacheFunc(f func(*Session) Cache) Option {
	return func(c *config) error { c.cacheFunc = f; return nil }
}

// WithCacheKeyMaker sets the key maker of entity cache keys (default
// StringKeyMaker).
func WithCacheKeyMaker(m KeyMaker) Option {
	return func(c *config) error {
		if m == nil {
			return errors.New("ftrack: WithCacheKeyMaker: nil key maker")
		}
		c.keyMaker = m
		return nil
	}
}

// WithSchemaCacheDir sets the directory of ftrack_api_schema_cache.json
// (default: FTRACK_API_SCHEMA_CACHE_PATH, else os.TempDir()).
func WithSchemaCacheDir(dir string) Option {
	return func(c *config) error { c.schemaCacheDir, c.schemaCacheSet = dir, true; return nil }
}

// WithoutSchemaCache disables the schema cache file.
func WithoutSchemaCache() Option {
	return func(c *config) error { c.schemaCacheOff = true; return nil }
}

// WithPluginPaths sets the plugin search paths (default: FTRACK_EVENT_PLUGIN_PATH
// split on os.PathListSeparator).
func WithPluginPaths(paths ...string) Option {
	return func(c *config) error { c.pluginPaths, c.pluginPathsSet = paths, true; return nil }
}

// WithPluginArguments sets the keyword arguments passed to plugin Register
// functions.
func WithPluginArguments(args map[string]any) Option {
	return func(c *config) error { c.pluginArguments = args; return nil }
}

// WithPlugin registers a compiled-in plugin, called during NewSession with
// the session and the plugin arguments, before the schemas are loaded.
func WithPlugin(p PluginFunc) Option {
	return func(c *config) error {
		if p == nil {
			return errors.New("ftrack: WithPlugin: nil plugin")
		}
		c.plugins = append(c.plugins, p)
		return nil
	}
}

// WithAutoConnectEventHub connects the event hub in the background after
// construction (default off: local events only).
func WithAutoConnectEventHub(on bool) Option {
	return func(c *config) error { c.autoConnectHub = on; return nil }
}
