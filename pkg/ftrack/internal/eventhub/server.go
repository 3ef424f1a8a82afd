package eventhub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/internal/socketio"
)

const (
	handshakePath = "/socket.io/1/"
	websocketPath = "/socket.io/1/websocket/"

	// sessionTTL is how long a handshake's session id stays valid without
	// being upgraded; it matches the close timeout announced in the
	// handshake.
	sessionTTL = 60 * time.Second
	// readLimit bounds one incoming frame; ftrack.update events can be large.
	readLimit = 16 << 20
	// sendQueue is the number of packets buffered per socket. A socket whose
	// queue is full is closed: its client reconnects and re-subscribes.
	sendQueue = 1024
	// writeTimeout bounds one frame write.
	writeTimeout = 10 * time.Second
	// eventName is the socket.io event name of every ftrack event.
	eventName = "ftrack.event"
)

// ackSuccess is the argument list of every successful ack; the Python client
// reads response["success"] from its first element.
var ackSuccess = json.RawMessage(`[{"success": true}]`)

// Options configures a Server.
type Options struct {
	// Authenticate checks the credentials of a handshake; nil accepts all.
	Authenticate func(user, apiKey string) bool
	// HeartbeatInterval is the period of server heartbeats; default 5s.
	HeartbeatInterval time.Duration
	// Logger receives connection and routing diagnostics; nil discards.
	Logger *slog.Logger
}

// Server is an ftrack event hub. It is an http.Handler for the socket.io
// paths; mount it at the root of the emulator's mux (or under
// "/socket.io/"). All methods are safe for concurrent use.
type Server struct {
	opts   Options
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	ttl    time.Duration

	mu       sync.Mutex
	closed   bool
	sessions map[string]session // handshaken, not yet upgraded
	conns    map[*conn]struct{}
	wg       sync.WaitGroup
}

type session struct {
	user    string
	expires time.Time
}

// New returns a Server ready to serve.
func New(opts Options) *Server {
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 5 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		opts:     opts,
		log:      log,
		ctx:      ctx,
		cancel:   cancel,
		ttl:      sessionTTL,
		sessions: map[string]session{},
		conns:    map[*conn]struct{}{},
	}
}

// ServeHTTP serves GET /socket.io/1/ (the handshake; credentials from the
// headers ftrack-user/ftrack-api-key or the query parameters
// api_user/api_key; 401 with a JSON error on bad credentials; body
// "<sid>:60:60:websocket") and /socket.io/1/websocket/<sid> (the WebSocket,
// authorised by the session id alone, which is single-use and expires when
// not upgraded within 60 seconds).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == handshakePath || path == strings.TrimSuffix(handshakePath, "/"):
		s.serveHandshake(w, r)
	case strings.HasPrefix(path, websocketPath):
		s.serveWebSocket(w, r, strings.Trim(strings.TrimPrefix(path, websocketPath), "/"))
	default:
		writeError(w, http.StatusNotFound, "NotFoundError", "Not found.")
	}
}

func writeError(w http.ResponseWriter, status int, exception, content string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"exception": exception, "content": content, "error_code": nil})
}

func (s *Server) serveHandshake(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Use GET.")
		return
	}
	user, key := r.Header.Get("ftrack-user"), r.Header.Get("ftrack-api-key")
	if user == "" && key == "" {
		q := r.URL.Query()
		user, key = q.Get("api_user"), q.Get("api_key")
	}
	if s.opts.Authenticate != nil && !s.opts.Authenticate(user, key) {
		s.log.Info("event hub handshake refused", "user", user, "remote", r.RemoteAddr)
		writeError(w, http.StatusUnauthorized, "InvalidCredentialsError", "The supplied API key is not valid.")
		return
	}
	sid := event.NewID()
	now := time.Now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "ServerError", "Event hub closed.")
		return
	}
	for id, sess := range s.sessions {
		if now.After(sess.expires) {
			delete(s.sessions, id)
		}
	}
	s.sessions[sid] = session{user: user, expires: now.Add(s.ttl)}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, "%s:%d:%d:websocket", sid, int(sessionTTL/time.Second), int(sessionTTL/time.Second))
}

// takeSession consumes sid and registers c; it fails for unknown or expired
// ids and once the server is closed.
func (s *Server) takeSession(sid string) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[sid]
	delete(s.sessions, sid)
	if !ok || s.closed || time.Now().After(sess.expires) {
		return session{}, false
	}
	return sess, true
}

func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request, sid string) {
	sess, ok := s.takeSession(sid)
	if !ok {
		writeError(w, http.StatusForbidden, "InvalidSessionError", "Unknown or expired session id.")
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		s.log.Debug("event hub upgrade failed", "error", err)
		return
	}
	ws.SetReadLimit(readLimit)
	c := &conn{
		srv:  s,
		ws:   ws,
		user: sess.user,
		send: make(chan string, sendQueue),
		done: make(chan struct{}),
		subs: map[string]subscription{},
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.CloseNow()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	s.log.Debug("event hub socket open", "user", c.user)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	c.readLoop()
	c.shutdown()
	<-writerDone
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.log.Debug("event hub socket closed", "user", c.user)
}

// Publish routes a server-originated event (e.g. ftrack.update) to every
// socket with a matching subscription, as if a client had published it.
func (s *Server) Publish(ev event.Event) {
	if ev.Data == nil {
		ev.Data = map[string]any{}
	}
	if ev.Source == nil {
		ev.Source = map[string]any{}
	}
	s.route(ev)
}

// DropAll abruptly closes every open socket (no close handshake, no 0::
// packet), as a network failure would, and returns how many it closed.
func (s *Server) DropAll() int {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.shutdown()
	}
	return len(conns)
}

// Connections returns the number of open sockets.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Close closes every socket, refuses new ones and waits until every
// goroutine the server started has returned. It is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	clear(s.sessions)
	s.mu.Unlock()
	s.cancel()
	s.DropAll()
	s.wg.Wait()
}

// route delivers ev at most once to every socket that has a subscription
// whose expression matches the event and whose metadata the event's target
// (if any) matches. The sender is not excluded.
func (s *Server) route(ev event.Event) { s.routeVerbatim(ev, nil) }

// routeVerbatim routes ev; when verbatim is set, subscribers receive it (the event as its
// publisher sent it) instead of ev's encoding.
func (s *Server) routeVerbatim(ev event.Event, verbatim json.RawMessage) {
	var target *event.Expression
	if ev.Target != "" {
		var err error
		if target, err = event.ParseExpression(ev.Target); err != nil {
			s.log.Info("event hub dropped event with invalid target", "topic", ev.Topic, "id", ev.ID, "error", err)
			return
		}
	}
	var payload any = ev
	if verbatim != nil {
		payload = verbatim
	}
	p, err := socketio.NewEvent("", eventName, payload)
	if err != nil {
		s.log.Info("event hub could not encode event", "topic", ev.Topic, "id", ev.ID, "error", err)
		return
	}
	frame := p.String()
	candidate := ev.Candidate()
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		if c.wants(candidate, target) {
			c.enqueue(frame)
		}
	}
}

type subscription struct {
	expr *event.Expression
	meta map[string]any
}

// conn is one WebSocket.
type conn struct {
	srv  *Server
	ws   *websocket.Conn
	user string
	send chan string
	done chan struct{}
	once sync.Once

	mu   sync.Mutex
	subs map[string]subscription
}

// shutdown closes the socket abruptly and drops its subscriptions.
func (c *conn) shutdown() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.CloseNow()
		c.mu.Lock()
		clear(c.subs)
		c.mu.Unlock()
	})
}

func (c *conn) wants(candidate map[string]any, target *event.Expression) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sub := range c.subs {
		if sub.expr.Match(candidate) && (target == nil || target.Match(sub.meta)) {
			return true
		}
	}
	return false
}

// enqueue queues a frame without blocking; a socket that cannot keep up is
// closed so that routing never stalls on one slow client.
func (c *conn) enqueue(frame string) {
	select {
	case <-c.done:
	case c.send <- frame:
	default:
		c.srv.log.Info("event hub closing slow socket", "user", c.user, "queued", len(c.send))
		c.shutdown()
	}
}

func (c *conn) writeLoop() {
	ctx := c.srv.ctx
	if err := c.write(ctx, socketio.Connect.String()); err != nil {
		c.shutdown()
		return
	}
	tick := time.NewTicker(c.srv.opts.HeartbeatInterval)
	defer tick.Stop()
	for {
		var frame string
		select {
		case <-c.done:
			return
		case <-ctx.Done():
			c.shutdown()
			return
		case <-tick.C:
			frame = socketio.Heartbeat.String()
		case frame = <-c.send:
		}
		if err := c.write(ctx, frame); err != nil {
			c.shutdown()
			return
		}
	}
}

func (c *conn) write(ctx context.Context, frame string) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, []byte(frame))
}

func (c *conn) readLoop() {
	for {
		typ, msg, err := c.ws.Read(c.srv.ctx)
		if err != nil {
			if !errors.Is(err, context.Canceled) && websocket.CloseStatus(err) == -1 {
				c.srv.log.Debug("event hub read ended", "user", c.user, "error", err)
			}
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		p, err := socketio.Parse(string(msg))
		if err != nil {
			c.srv.log.Info("event hub ignored invalid packet", "user", c.user, "error", err)
			continue
		}
		switch p.Type {
		case socketio.TypeDisconnect:
			return
		case socketio.TypeEvent:
			c.handleEvent(p)
		case socketio.TypeHeartbeat:
			// Replies to our heartbeats; nothing to do.
		default:
			if p.AckRequested {
				c.ack(p.ID, ackSuccess)
			}
		}
	}
}

func (c *conn) ack(id string, args json.RawMessage) {
	c.enqueue(socketio.NewAck(id, args).String())
}

func ackFailure(message string) json.RawMessage {
	b, _ := json.Marshal([]map[string]any{{"success": false, "message": message}})
	return b
}

// wireEvent decodes the seven event keys keeping numbers verbatim, so that
// forwarding does not alter them.
type wireEvent struct {
	ID             string         `json:"id"`
	Topic          string         `json:"topic"`
	Data           map[string]any `json:"data"`
	Source         map[string]any `json:"source"`
	Target         string         `json:"target"`
	InReplyToEvent *string        `json:"inReplyToEvent"`
	Sent           any            `json:"sent"`
}

// decodeEvent decodes an event a client published. ftrack routes an event whose data is not
// an object (a reply whose data is "Replied", say) as it came: such data is returned in
// verbatim, for forwarding, and the event's Data is then empty (subscriptions on data keys do
// not match it). verbatim is nil when the data is an object.
func decodeEvent(raw json.RawMessage) (ev event.Event, verbatim json.RawMessage, err error) {
	var head struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return event.Event{}, nil, err
	}
	if d := bytes.TrimSpace(head.Data); len(d) > 0 && d[0] != '{' && !bytes.Equal(d, []byte("null")) {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return event.Event{}, nil, err
		}
		obj["data"] = json.RawMessage("{}")
		stripped, err := json.Marshal(obj)
		if err != nil {
			return event.Event{}, nil, err
		}
		verbatim, raw = raw, stripped
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var w wireEvent
	if err := dec.Decode(&w); err != nil {
		return event.Event{}, nil, err
	}
	if w.Data == nil {
		w.Data = map[string]any{}
	}
	if w.Source == nil {
		w.Source = map[string]any{}
	}
	return event.Event{ID: w.ID, Topic: w.Topic, Data: w.Data, Source: w.Source, Target: w.Target, InReplyToEvent: w.InReplyToEvent, Sent: w.Sent}, verbatim, nil
}

func (c *conn) handleEvent(p socketio.Packet) {
	result := ackSuccess
	defer func() {
		if p.AckRequested {
			c.ack(p.ID, result)
		}
	}()
	payload, err := p.Event()
	if err != nil || payload.Name != eventName || len(payload.Args) == 0 {
		c.srv.log.Info("event hub ignored malformed event packet", "user", c.user)
		result = ackFailure("Malformed event packet.")
		return
	}
	ev, verbatim, err := decodeEvent(payload.Args[0])
	if err != nil {
		c.srv.log.Info("event hub ignored undecodable event", "user", c.user, "error", err)
		result = ackFailure("Malformed event.")
		return
	}
	switch ev.Topic {
	case event.TopicSubscribe:
		if msg := c.subscribe(ev); msg != "" {
			result = ackFailure(msg)
		}
	case event.TopicUnsubscribe:
		c.unsubscribe(ev)
	default:
		c.srv.routeVerbatim(ev, verbatim)
	}
}

// subscribe registers (or replaces) the subscription of data.subscriber.id.
func (c *conn) subscribe(ev event.Event) string {
	subscriber, _ := ev.Data["subscriber"].(map[string]any)
	id, _ := subscriber["id"].(string)
	if id == "" {
		return "Subscriber id missing."
	}
	text, _ := ev.Data["subscription"].(string)
	expr, err := event.ParseExpression(text)
	if err != nil {
		c.srv.log.Info("event hub refused subscription", "user", c.user, "subscriber", id, "error", err)
		return "Invalid subscription expression."
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return ""
	default:
	}
	c.subs[id] = subscription{expr: expr, meta: subscriber}
	return ""
}

func (c *conn) unsubscribe(ev event.Event) {
	subscriber, _ := ev.Data["subscriber"].(map[string]any)
	id, _ := subscriber["id"].(string)
	c.mu.Lock()
	delete(c.subs, id)
	c.mu.Unlock()
}
