package ftracktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/internal/eventhub"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// maxBodyBytes bounds the size of an /api request body.
const maxBodyBytes = 64 << 20

// Server is an ftrack server emulator listening on a loopback port. It
// serves POST /api and the event hub under /socket.io/. All methods are
// safe for concurrent use.
type Server struct {
	// URL is the base URL, http://127.0.0.1:port, without a trailing slash.
	URL string

	cfg    config
	m      *model
	logger *slog.Logger

	mu sync.RWMutex // guards st
	st *store

	authMu sync.RWMutex
	keys   map[string]string // username → API key

	idMu sync.Mutex

	faultMu    sync.Mutex
	failN      int
	failStatus int
	failExc    string
	rateN      int
	retryAfter time.Duration
	latency    time.Duration
	jitter     time.Duration

	// inFlight counts /api requests being handled.
	inFlight atomic.Int64

	logMu    sync.Mutex
	requests []RequestInfo
	counts   map[string]int

	files *fileStore

	hub       *eventhub.Server
	http      *http.Server
	ln        net.Listener
	closeOnce sync.Once
	closeErr  error
}

// RequestInfo describes one /api request in the Requests log.
type RequestInfo struct {
	// Time is when the request arrived (server clock).
	Time time.Time
	// User is the ftrack-user header.
	User string
	// Actions lists the action of every operation of the batch.
	Actions []string
	// ClientToken is the ftrack-Clienttoken header.
	ClientToken string
	// Status is the HTTP status of the answer.
	Status int
	// Exception is the exception name of an error answer, or "".
	Exception string
}

// NewServer starts an emulator with the built-in schema and fresh-site data
// unless options say otherwise. It needs no *testing.T, so it can be used
// from TestMain; call Close when done.
func NewServer(opts ...Option) (*Server, error) {
	cfg := config{
		clock:       time.Now,
		newID:       uuid.NewString,
		builtinSeed: true,
		version:     DefaultVersion,
		addr:        "127.0.0.1:0",
		logger:      slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if len(cfg.users) == 0 {
		cfg.users = []user{{DefaultUser, DefaultAPIKey}}
	}
	set := cfg.schemaSet
	if set == nil {
		raw := cfg.schemaRaw
		if raw == nil {
			raw = builtinSchemas()
		}
		var err error
		if set, err = schema.Parse(raw); err != nil {
			return nil, fmt.Errorf("ftracktest: %w", err)
		}
	}
	m, err := newModel(set)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		m:       m,
		logger:  cfg.logger,
		st:      newStore(),
		keys:    map[string]string{},
		counts:  map[string]int{},
		latency: cfg.latency,
		jitter:  cfg.jitter,
		files:   newFileStore(),
	}
	for _, u := range cfg.users {
		s.keys[u.name] = u.key
	}
	var seed []Record
	if cfg.builtinSeed && cfg.schemaRaw == nil && cfg.schemaSet == nil {
		seed = builtinSeed()
	}
	seed = append(seed, cfg.seed...)
	if err := s.Seed(seed...); err != nil {
		return nil, err
	}
	if err := s.ensureUsers(); err != nil {
		return nil, err
	}
	s.hub = eventhub.New(eventhub.Options{
		Authenticate:      s.authenticate,
		HeartbeatInterval: cfg.heartbeat,
		Logger:            cfg.logger,
	})
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		s.hub.Close()
		return nil, fmt.Errorf("ftracktest: listen: %w", err)
	}
	s.ln = ln
	s.URL = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("/api", s.handleAPI)
	mux.Handle("/socket.io/", s.hub)
	mux.HandleFunc("/upload/", s.handleUpload)
	mux.HandleFunc("GET /widget/", s.handleWidget)
	mux.HandleFunc("GET /component/get", s.handleComponent)
	mux.HandleFunc("GET /component/thumbnail", s.handleComponent)
	mux.HandleFunc("GET /component/remove", s.handleComponent)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("ftracktest: serve", "err", err)
		}
	}()
	return s, nil
}

// Close stops the server: it closes the event hub connections, stops
// accepting requests and waits for in-flight requests. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.hub.Close()
		s.closeErr = s.http.Shutdown(context.Background())
	})
	return s.closeErr
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Schema returns the schema set the server serves.
func (s *Server) Schema() *schema.Set { return s.m.set }

func (s *Server) newID() string {
	s.idMu.Lock()
	defer s.idMu.Unlock()
	return s.cfg.newID()
}

func (s *Server) authenticate(username, apiKey string) bool {
	s.authMu.RLock()
	defer s.authMu.RUnlock()
	k, ok := s.keys[username]
	return ok && apiKey != "" && k == apiKey
}

func (s *Server) setAPIKey(username, key string) {
	s.authMu.Lock()
	defer s.authMu.Unlock()
	s.keys[username] = key
}

// APIKey returns the current API key of username (reset_remote changes it).
func (s *Server) APIKey(username string) (string, bool) {
	s.authMu.RLock()
	defer s.authMu.RUnlock()
	k, ok := s.keys[username]
	return k, ok
}

// ensureUsers creates a User entity for every API user that has none.
func (s *Server) ensureUsers() error {
	ut, ok := s.m.types["User"]
	if !ok {
		return nil
	}
	var missing []Record
	s.mu.RLock()
	for _, u := range s.cfg.users {
		if s.findUser(u.name) == nil {
			missing = append(missing, Record{Type: ut.name, Data: map[string]any{
				"username": u.name, "first_name": u.name, "last_name": "", "is_active": true,
			}})
		}
	}
	s.mu.RUnlock()
	return s.Seed(missing...)
}

// findUser returns the User record of username; the caller holds s.mu.
func (s *Server) findUser(username string) *record {
	ut, ok := s.m.types["User"]
	if !ok {
		return nil
	}
	for _, r := range s.st.byType[ut.name] {
		if r.data["username"] == username {
			return r
		}
	}
	return nil
}

func (s *Server) sleep(ctx context.Context) {
	s.faultMu.Lock()
	d := s.latency
	if s.jitter > 0 {
		d += rand.N(s.jitter)
	}
	s.faultMu.Unlock()
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// takeFault consumes one injected failure, if any.
func (s *Server) takeFault() (status int, exc string, retryAfter time.Duration, ok bool) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.rateN > 0 {
		s.rateN--
		return http.StatusTooManyRequests, "RateLimitError", s.retryAfter, true
	}
	if s.failN > 0 {
		s.failN--
		return s.failStatus, s.failExc, 0, true
	}
	return 0, "", 0, false
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	info := RequestInfo{Time: s.cfg.clock(), User: r.Header.Get("ftrack-user"), ClientToken: r.Header.Get("ftrack-Clienttoken")}
	defer func() { s.logRequest(info) }()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		info.Status, info.Exception = http.StatusMethodNotAllowed, "ServerError"
		writeJSON(w, info.Status, (&apiError{Exception: "ServerError", Content: "The API accepts only POST requests."}).body())
		return
	}
	s.sleep(r.Context())
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	var ops []map[string]any
	if err == nil {
		if len(body) > maxBodyBytes {
			err = fmt.Errorf("the request body is larger than %d bytes", maxBodyBytes)
		} else {
			dec := json.NewDecoder(bytes.NewReader(body))
			err = dec.Decode(&ops)
		}
	}
	for _, op := range ops {
		a, _ := op["action"].(string)
		info.Actions = append(info.Actions, a)
	}
	strict := strings.EqualFold(strings.TrimSpace(r.Header.Get("ftrack-strict-api")), "true")
	fail := func(e *apiError, forceStatus bool) {
		info.Exception = e.Exception
		info.Status = http.StatusOK
		if strict || forceStatus {
			info.Status = e.Status
		}
		writeJSON(w, info.Status, e.body())
	}
	if status, exc, retry, ok := s.takeFault(); ok {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
		}
		fail(&apiError{Exception: exc, Content: fmt.Sprintf("Injected failure: %s (HTTP %d).", exc, status), Status: status}, true)
		return
	}
	if !s.authenticate(r.Header.Get("ftrack-user"), r.Header.Get("ftrack-api-key")) {
		fail(errInvalidCredentials, true)
		return
	}
	if err != nil {
		fail(validationError("The request body must be a JSON array of operations: %v", err), false)
		return
	}
	results, ev, aerr := s.execute(ops, info.User, strict, r.Header)
	if aerr != nil {
		fail(aerr, false)
		return
	}
	info.Status = http.StatusOK
	writeJSON(w, http.StatusOK, results)
	if ev != nil {
		s.hub.Publish(*ev)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (s *Server) logRequest(info RequestInfo) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.requests = append(s.requests, info)
	for _, a := range info.Actions {
		s.counts[a]++
	}
}

// execute runs a batch atomically. It returns the results and the
// ftrack.update event to publish, or the error of the failed operation
// (after rolling every change of the batch back).
func (s *Server) execute(ops []map[string]any, username string, strict bool, h http.Header) (results []any, ev *event.Event, aerr *apiError) {
	mutating := false
	for _, op := range ops {
		a, _ := op["action"].(string)
		if !readOnlyActions[a] {
			mutating = true
		}
	}
	if mutating {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.st.begin()
	} else {
		s.mu.RLock()
		defer s.mu.RUnlock()
	}
	b := &batch{srv: s, m: s.m, st: s.st, username: username, strict: strict, now: s.cfg.clock().UTC().Truncate(time.Second)}
	b.user = s.findUser(username)
	defer func() {
		if p := recover(); p != nil {
			if mutating {
				s.st.rollback()
			}
			s.logger.Error("ftracktest: panic in batch", "panic", p)
			results, ev, aerr = nil, nil, serverError("Internal error: %v", p)
		}
	}()
	results = make([]any, 0, len(ops))
	for i, op := range ops {
		res, err := b.run(op)
		if err != nil {
			if mutating {
				s.st.rollback()
			}
			var ae *apiError
			if !errors.As(err, &ae) {
				ae = serverError("%v", err)
			}
			s.logger.Debug("ftracktest: batch failed", "operation", i, "exception", ae.Exception, "content", ae.Content)
			return nil, nil, ae
		}
		results = append(results, res)
	}
	if mutating {
		if err := b.finish(); err != nil {
			s.st.rollback()
			var ae *apiError
			if !errors.As(err, &ae) {
				ae = serverError("%v", err)
			}
			return nil, nil, ae
		}
		s.st.commit()
		// Without event hub clients nobody can receive the event; skip
		// building and encoding it.
		if len(b.changes) > 0 && s.hub.Connections() > 0 {
			e := b.updateEvent(h)
			ev = &e
		}
	}
	return results, ev, nil
}

// serverInformation answers query_server_information.
func (s *Server) serverInformation(op map[string]any, u *record) map[string]any {
	info := map[string]any{
		"version":                     s.cfg.version,
		"schema_hash":                 s.m.set.Hash(),
		"storage_scenario":            map[string]any{"scenario": "ftrack.automatic", "data": map[string]any{}},
		"is_timezone_support_enabled": true,
	}
	values, _ := op["values"].([]any)
	for _, v := range values {
		switch v {
		case "user_information":
			ui := map[string]any{"is_global_access_key": false, "restricted_user": false, "permissions": []any{}}
			if u != nil {
				ui["id"] = u.id()
				ui["username"] = u.data["username"]
				ui["first_name"] = u.data["first_name"]
				ui["last_name"] = u.data["last_name"]
				ui["thumbnail_id"] = u.data["thumbnail_id"]
				ui["thumbnail_url"] = nil
			}
			info["user_information"] = ui
		case "is_nested_subqueries_enabled":
			info["is_nested_subqueries_enabled"] = true
		case "license":
			info["license"] = []any{}
		case "preferred_language":
			info["preferred_language"] = "en"
		case "week_startday":
			info["week_startday"] = 0
		case "workday_length":
			info["workday_length"] = 28800
		case "display_week_numbers":
			info["display_week_numbers"] = false
		case "storage_limit":
			info["storage_limit"] = 0
		case "display_task_dates_as_time":
			info["display_task_dates_as_time"] = false
		case "company_information":
			info["company_information"] = map[string]any{"name": "ftracktest", "logo_url": nil}
		case "product":
			info["product"] = map[string]any{}
		}
	}
	return info
}
