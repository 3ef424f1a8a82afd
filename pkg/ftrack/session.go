package ftrack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// Session is a connection to one ftrack server, the Go counterpart of the
// Python client's ftrack_api.Session. It is safe for concurrent use.
type Session struct {
	cfg         config
	serverURL   string
	apiURL      string
	apiUser     string
	apiKey      string
	clientToken string
	client      *http.Client
	baseClient  *http.Client
	logger      *slog.Logger
	serverInfo  map[string]any
	schemas     *schema.Set
	types       map[string]*entityType

	commitMu     sync.Mutex // serialises commits
	mu           sync.Mutex // guards entity values, ops, flags below
	ops          []Operation
	dirty        map[*Entity]struct{} // entities with local values
	memory       *MemoryCache
	cache        *LayeredCache
	lower        bool // cache has layers below memory
	rebuilding   bool // decoding an entity from a lower cache layer
	caConfigs    []customAttributeConfig
	keyMaker     KeyMaker
	record       bool
	noRecord     int
	autoPopulate bool
	noPopulate   int
	yesPopulate  int

	events    *localEvents
	hub       *eventHub
	locations atomic.Pointer[locations]

	closed    atomic.Bool
	closeOnce sync.Once
	bg        sync.WaitGroup
}

// NewSession connects to the server and prepares a session: it resolves the
// credentials (options, then environment), fetches the server information,
// checks compatibility, loads plugins, loads the schemas (from the schema
// cache when the server's schema hash matches) and publishes the session's
// start-up events.
func NewSession(ctx context.Context, opts ...Option) (*Session, error) {
	cfg := config{
		timeout:          DefaultTimeout,
		headers:          http.Header{},
		maxResponseBytes: DefaultMaxResponseBytes,
		autoPopulate:     true,
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.resolveEnvironment(); err != nil {
		return nil, err
	}
	s := &Session{
		cfg:          cfg,
		serverURL:    cfg.serverURL,
		apiURL:       cfg.serverURL + "/api",
		apiUser:      cfg.apiUser,
		apiKey:       cfg.apiKey,
		clientToken:  cfg.clientToken,
		logger:       cfg.logger,
		memory:       NewMemoryCache(),
		dirty:        make(map[*Entity]struct{}),
		keyMaker:     cfg.keyMaker,
		record:       true,
		autoPopulate: cfg.autoPopulate,
		events:       newLocalEvents(),
	}
	if s.clientToken == "" {
		s.clientToken = "ftrack-go-api--" + newUUID()
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.keyMaker == nil {
		s.keyMaker = StringKeyMaker{}
	}
	// Without a client of the caller's, the session has its own transport,
	// so that Close can drop its idle connections.
	base := cfg.httpClient
	if base == nil {
		tr, _ := http.DefaultTransport.(*http.Transport)
		if tr != nil {
			tr = tr.Clone()
		}
		base = &http.Client{Transport: tr}
	}
	s.baseClient = base
	hc := *base
	hc.Transport = &SessionAuthentication{APIUser: s.apiUser, APIKey: s.apiKey, Base: base.Transport}
	if hc.Timeout == 0 || hc.Timeout > cfg.timeout {
		hc.Timeout = cfg.timeout
	}
	s.client = &hc
	s.cache = NewLayeredCache(s.memory, cfg.cache)
	s.lower = cfg.cache != nil
	hub, err := newEventHub(s)
	if err != nil {
		return nil, err
	}
	s.hub = hub

	if err := s.start(ctx); err != nil {
		_ = s.Close() // the start-up error is the one worth returning
		return nil, err
	}
	return s, nil
}

func (s *Session) start(ctx context.Context) error {
	info, err := s.fetchServerInformation(ctx)
	if err != nil {
		return err
	}
	s.serverInfo = info
	if err := checkServerCompatibility(info); err != nil {
		return err
	}
	if s.cfg.autoConnectHub {
		s.hub.connectInBackground()
	}
	if err := s.discoverPlugins(); err != nil {
		return err
	}
	if err := s.loadSchemas(ctx); err != nil {
		return err
	}
	if s.cfg.cacheFunc != nil {
		if c := s.cfg.cacheFunc(s); c != nil {
			s.cache = NewLayeredCache(s.memory, c)
			s.lower = true
		}
	}
	for _, sc := range s.schemas.Types() {
		s.publishLocal(TopicConstructEntityType, map[string]any{"schema": sc, "schemas": s.schemas})
	}
	s.builtinLocations()
	s.publishLocal(TopicConfigureLocation, map[string]any{"session": s, "context": ctx})
	s.publishLocal(TopicSessionReady, map[string]any{"session": s})
	return nil
}

// resolveEnvironment fills unset credentials from the environment.
func (c *config) resolveEnvironment() error {
	if c.serverURL == "" {
		c.serverURL = os.Getenv("FTRACK_SERVER")
	}
	if c.serverURL == "" {
		return errors.New("ftrack: required server URL not specified: use WithServerURL or set FTRACK_SERVER")
	}
	c.serverURL = strings.TrimRight(c.serverURL, "/")
	u, err := url.Parse(c.serverURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("ftrack: invalid server URL %q: want http(s)://host[:port][/path]", c.serverURL)
	}
	if c.apiKey == "" {
		c.apiKey = os.Getenv("FTRACK_API_KEY")
	}
	if c.apiKey == "" {
		c.apiKey = os.Getenv("FTRACK_APIKEY")
	}
	if c.apiKey == "" {
		return errors.New("ftrack: required API key not specified: use WithAPIKey or set FTRACK_API_KEY")
	}
	if c.apiUser == "" {
		c.apiUser = os.Getenv("FTRACK_API_USER")
	}
	if c.apiUser == "" {
		c.apiUser = osUser()
	}
	if c.apiUser == "" {
		return errors.New("ftrack: required API user not specified: use WithAPIUser or set FTRACK_API_USER")
	}
	if !c.pluginPathsSet {
		if p := os.Getenv("FTRACK_EVENT_PLUGIN_PATH"); p != "" {
			c.pluginPaths = strings.Split(p, string(os.PathListSeparator))
		}
	}
	return nil
}

// osUser returns the login name as Python's getpass.getuser does.
func osUser() string {
	for _, k := range []string{"LOGNAME", "USER", "LNAME", "USERNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// newUUID returns a random version 4 UUID string.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// ServerURL returns the server URL without a trailing slash.
func (s *Session) ServerURL() string { return s.serverURL }

// APIUser returns the acting user's name.
func (s *Session) APIUser() string { return s.apiUser }

// ClientToken returns the value sent in the ftrack-Clienttoken header; the
// server echoes it in the ftrack.update events caused by this session.
func (s *Session) ClientToken() string { return s.clientToken }

// Logger returns the session's logger.
func (s *Session) Logger() *slog.Logger { return s.logger }

// ServerInformation returns a copy of the query_server_information answer.
func (s *Session) ServerInformation() map[string]any {
	out := make(map[string]any, len(s.serverInfo))
	for k, v := range s.serverInfo {
		out[k] = v
	}
	return out
}

// ServerVersion returns the server's version string.
func (s *Session) ServerVersion() string {
	v, _ := s.serverInfo["version"].(string)
	return v
}

// SchemaHash returns the server's schema_hash, or the hash of the loaded
// schemas when the server sent none.
func (s *Session) SchemaHash() string {
	if h, _ := s.serverInfo["schema_hash"].(string); h != "" {
		return h
	}
	return s.schemas.Hash()
}

// Schemas returns the server's schemas.
func (s *Session) Schemas() *schema.Set { return s.schemas }

// Types returns the entity type names.
func (s *Session) Types() []string { return s.schemas.Names() }

// Closed reports whether Close was called.
func (s *Session) Closed() bool { return s.closed.Load() }

// Close releases the session: pending operations are dropped (with a
// warning), the memory cache is cleared, the event hub is disconnected and
// background work is waited for. Close is idempotent.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.mu.Lock()
		if n := len(s.ops); n > 0 {
			s.logger.Warn("ftrack: closing session with pending operations", "count", n)
		}
		s.ops = nil
		s.mu.Unlock()
		s.memory.Clear()
		if s.hub != nil {
			s.hub.close()
		}
		s.bg.Wait()
		s.client.CloseIdleConnections()
		s.baseClient.CloseIdleConnections()
	})
	return nil
}

func (s *Session) defaultContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.cfg.timeout)
}

var versionPattern = regexp.MustCompile(`^\d+\.\d+\.\d+`)

// MinimumServerVersion is the oldest server version the client accepts.
const MinimumServerVersion = "3.3.11"

// checkServerCompatibility mirrors the Python client's check.
func checkServerCompatibility(info map[string]any) error {
	v, _ := info["version"].(string)
	if v == "" {
		return &CompatibilityError{Reason: "Could not determine server version."}
	}
	if v == "dev" {
		return nil
	}
	m := versionPattern.FindString(v)
	if m == "" {
		return nil
	}
	if compareVersions(m, MinimumServerVersion) < 0 {
		return &CompatibilityError{Reason: fmt.Sprintf("Server version %q incompatible with this version of the API which requires a server version >= %s", v, MinimumServerVersion)}
	}
	return nil
}

func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < 3; i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func (s *Session) fetchServerInformation(ctx context.Context) (map[string]any, error) {
	res, err := s.callRaw(ctx, []map[string]any{{"action": "query_server_information"}}, nil)
	if err != nil {
		return nil, err
	}
	if len(res) != 1 {
		return nil, &TransportError{Op: "query_server_information", Err: fmt.Errorf("want 1 result, got %d", len(res))}
	}
	info, ok := res[0].(map[string]any)
	if !ok {
		return nil, &TransportError{Op: "query_server_information", Err: fmt.Errorf("want an object, got %T", res[0])}
	}
	return info, nil
}

// Call sends one batch of operations to <server>/api and returns one
// decoded result per operation. Entities in the answer are merged into the
// session's identity map and returned as *Entity; a later bare reference
// resolves to the entity already decoded. Operation values may contain
// *Entity, *Collection, time.Time and Date; they are encoded as the server
// expects.
func (s *Session) Call(ctx context.Context, batch []map[string]any) ([]any, error) {
	s.mu.Lock()
	enc := make([]map[string]any, len(batch))
	for i, op := range batch {
		enc[i] = s.encodeValueLocked(op).(map[string]any)
	}
	s.mu.Unlock()
	return s.callRaw(ctx, enc, s.mergeEntityPairs)
}

// callRaw posts an already encoded batch and decodes the answer. With
// onEntity nil, entities stay plain maps.
func (s *Session) callRaw(ctx context.Context, batch []map[string]any, onEntity func(string, []jsonPair) (any, error)) ([]any, error) {
	data, status, err := s.post(ctx, batch)
	if err != nil {
		return nil, err
	}
	if onEntity != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	v, err := newJSONDecoder(data, onEntity).decodeDocument()
	if err != nil {
		return nil, &TransportError{Op: "decode answer", Err: err}
	}
	list, ok := v.([]any)
	if !ok {
		return nil, &ServerError{Content: "Server reported error in unexpected format.", StatusCode: status}
	}
	if len(list) != len(batch) {
		return nil, &TransportError{Op: "decode answer", Err: fmt.Errorf("want %d results, got %d", len(batch), len(list))}
	}
	return list, nil
}

// post sends an encoded batch and returns the checked answer body.
func (s *Session) post(ctx context.Context, batch []map[string]any) ([]byte, int, error) {
	if s.closed.Load() {
		return nil, 0, ErrSessionClosed
	}
	if batch == nil {
		batch = []map[string]any{}
	}
	body, err := json.Marshal(batch)
	if err != nil {
		return nil, 0, fmt.Errorf("ftrack: encode batch: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.apiURL, bytes.NewReader(body))
	if err != nil {
		return nil, 0, &TransportError{Op: "build request", Err: errors.New(redact(err.Error(), s.apiKey))}
	}
	for k, vs := range s.cfg.headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(HeaderStrictAPI, strconv.FormatBool(s.cfg.strictAPI))
	req.Header.Set(HeaderClientToken, s.clientToken)
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, &TransportError{Op: "POST /api", Err: ctx.Err()}
		}
		return nil, 0, &TransportError{Op: "POST /api", Err: errors.New(redact(err.Error(), s.apiKey))}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.maxResponseBytes+1))
	if err != nil {
		return nil, 0, &TransportError{Op: "read answer", Err: errors.New(redact(err.Error(), s.apiKey))}
	}
	if int64(len(data)) > s.cfg.maxResponseBytes {
		return nil, 0, &TransportError{Op: "read answer", Err: fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, s.cfg.maxResponseBytes)}
	}
	if err := s.checkError(resp, data); err != nil {
		return nil, 0, err
	}
	return data, resp.StatusCode, nil
}

// checkError decodes an error answer: an object with "exception" (any
// status), or an HTTP error status.
func (s *Session) checkError(resp *http.Response, data []byte) error {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	var serr *ServerError
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var obj struct {
			Exception *string `json:"exception"`
			Content   any     `json:"content"`
			ErrorCode any     `json:"error_code"`
		}
		if json.Unmarshal(trimmed, &obj) == nil && obj.Exception != nil {
			serr = &ServerError{Exception: *obj.Exception, StatusCode: resp.StatusCode}
			switch c := obj.Content.(type) {
			case string:
				serr.Content = c
			case nil:
			default:
				raw, _ := json.Marshal(c)
				serr.Content = string(raw)
			}
			if obj.ErrorCode != nil {
				serr.ErrorCode = fmt.Sprint(obj.ErrorCode)
			}
		}
	}
	// Raw text from the server is redacted before it is cut, so that no part of the API key
	// can survive at the cut.
	if serr == nil && resp.StatusCode >= 400 {
		serr = &ServerError{Content: truncate(redact(strings.TrimSpace(string(data)), s.apiKey), 512), StatusCode: resp.StatusCode}
	}
	if serr == nil {
		if len(trimmed) > 0 && trimmed[0] == '{' {
			return &ServerError{Content: "Server reported error in unexpected format. Raw error was: " + truncate(redact(string(trimmed), s.apiKey), 512), StatusCode: resp.StatusCode}
		}
		return nil
	}
	serr.Content = redact(serr.Content, s.apiKey)
	serr.Exception = redact(serr.Exception, s.apiKey)
	serr.ErrorCode = redact(serr.ErrorCode, s.apiKey)
	if resp.StatusCode == http.StatusTooManyRequests {
		return &RateLimitError{RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), Server: serr}
	}
	return serr
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
