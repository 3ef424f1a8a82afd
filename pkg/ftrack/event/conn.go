package event

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/coder/websocket"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/internal/socketio"
)

const (
	handshakePath = "/socket.io/1/"
	websocketPath = "/socket.io/1/websocket/"
	eventName     = "ftrack.event"
	readLimit     = 16 << 20
	maxHandshake  = 4 << 10
)

// HandshakeError reports a refused socket.io handshake.
type HandshakeError struct {
	// StatusCode is the HTTP status of the handshake answer.
	StatusCode int
}

// Error implements error.
func (e *HandshakeError) Error() string {
	return "event: handshake answered with HTTP status " + strconv.Itoa(e.StatusCode)
}

// Unwrap returns ErrUnauthorized for 401 and 403.
func (e *HandshakeError) Unwrap() error {
	if e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden {
		return ErrUnauthorized
	}
	return nil
}

type ackResult struct{ err error }

// hubConn is one open socket.
type hubConn struct {
	h    *Hub
	ws   *websocket.Conn
	done chan struct{}

	mu      sync.Mutex
	closed  bool
	reason  error
	pending map[string]chan ackResult
}

// dial performs the handshake, opens the WebSocket and starts its reader.
func (h *Hub) dial(ctx context.Context) (*hubConn, error) {
	// Close must also abort an attempt made with the caller's context.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(h.ctx, cancel)
	defer stop()
	if h.cfg.client.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.cfg.client.Timeout)
		defer cancel()
	}
	sid, err := h.handshake(ctx)
	if err != nil {
		return nil, err
	}
	scheme := "ws"
	if h.cfg.base.Scheme == "https" {
		scheme = "wss"
	}
	wsURL := scheme + "://" + h.cfg.base.Host + websocketPath + sid
	ws, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{
		HTTPClient: h.cfg.client,
		HTTPHeader: h.cfg.header.Clone(),
	})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("event: open WebSocket: %w", err)
	}
	ws.SetReadLimit(readLimit)
	c := &hubConn{h: h, ws: ws, done: make(chan struct{}), pending: map[string]chan ackResult{}}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		_ = ws.CloseNow()
		return nil, ErrClosed
	}
	h.wg.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.wg.Done()
		c.readLoop()
	}()
	return c, nil
}

// handshake asks the server for a socket.io session id.
func (h *Hub) handshake(ctx context.Context) (string, error) {
	u := h.cfg.base.String() + handshakePath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("event: handshake request: %w", err)
	}
	for k, v := range h.cfg.header {
		req.Header[k] = v
	}
	req.Header.Set("ftrack-user", h.cfg.user)
	req.Header.Set("ftrack-api-key", h.cfg.apiKey)
	resp, err := h.cfg.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("event: handshake: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHandshake))
	if err != nil {
		return "", fmt.Errorf("event: read handshake: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", &HandshakeError{StatusCode: resp.StatusCode}
	}
	parts := strings.Split(strings.TrimSpace(string(body)), ":")
	if len(parts) < 4 || parts[0] == "" {
		return "", errors.New("event: malformed handshake answer")
	}
	if !strings.Contains(","+parts[3]+",", ",websocket,") {
		return "", errors.New("event: server does not support websocket sessions")
	}
	return parts[0], nil
}

// send writes ev as an event packet. With ack non-nil the packet requests an
// ack and the result is delivered on ack.
func (c *hubConn) send(ctx context.Context, ev Event, ack chan ackResult) error {
	n := strconv.FormatUint(c.h.ackSeq.Add(1), 10)
	p, err := socketio.NewEvent(n, eventName, ev)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrConnectionLost
	}
	if ack != nil {
		c.pending[n] = ack
	}
	c.mu.Unlock()
	if err := c.write(ctx, p.String()); err != nil {
		c.mu.Lock()
		delete(c.pending, n)
		c.mu.Unlock()
		return err
	}
	return nil
}

func (c *hubConn) write(ctx context.Context, frame string) error {
	ctx, cancel := context.WithTimeout(ctx, c.h.cfg.writeTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		c.close(fmt.Errorf("event: write: %w", err))
		return err
	}
	return nil
}

// close ends the connection once; pending acks fail with ErrConnectionLost.
func (c *hubConn) close(reason error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.reason = reason
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	_ = c.ws.CloseNow()
	for _, ch := range pending {
		ch <- ackResult{err: ErrConnectionLost}
	}
	close(c.done)
}

func (c *hubConn) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// readLoop reads frames until the connection ends. It never blocks on
// handlers: events go to the hub's bounded queue.
func (c *hubConn) readLoop() {
	h := c.h
	for {
		ctx, cancel := context.WithTimeout(h.ctx, h.cfg.readTimeout)
		typ, msg, err := c.ws.Read(ctx)
		timedOut := ctx.Err() != nil && h.ctx.Err() == nil
		cancel()
		if err != nil {
			if timedOut {
				err = fmt.Errorf("event: no frame for %v", h.cfg.readTimeout)
			}
			c.close(err)
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		p, err := socketio.Parse(string(msg))
		if err != nil {
			h.log.Debug("event hub ignored invalid packet", "error", err)
			continue
		}
		switch p.Type {
		case socketio.TypeHeartbeat:
			if err := c.write(h.ctx, socketio.Heartbeat.String()); err != nil {
				return
			}
		case socketio.TypeDisconnect:
			c.close(errors.New("event: server sent disconnect"))
			return
		case socketio.TypeError:
			h.log.Warn("event hub server error", "reason", p.Data)
			c.close(fmt.Errorf("event: server error: %s", p.Data))
			return
		case socketio.TypeEvent:
			c.handleEvent(p)
		case socketio.TypeAck:
			c.handleAck(p)
		}
	}
}

func (c *hubConn) handleEvent(p socketio.Packet) {
	h := c.h
	payload, err := p.Event()
	if err != nil || payload.Name != eventName || len(payload.Args) == 0 {
		h.log.Debug("event hub ignored malformed event packet")
		return
	}
	var ev Event
	if err := json.Unmarshal(payload.Args[0], &ev); err != nil {
		h.log.Info("event hub ignored undecodable event", "error", err)
		return
	}
	h.received.Add(1)
	if h.inbox.push(ev) {
		h.log.Warn("event hub queue full; dropped the oldest event", "dropped", h.inbox.droppedCount())
		h.signalResync()
	}
}

func (c *hubConn) handleAck(p socketio.Packet) {
	id, args, err := p.Ack()
	if err != nil {
		c.h.log.Debug("event hub ignored invalid ack", "error", err)
		return
	}
	var res ackResult
	var responses []struct {
		Success *bool  `json:"success"`
		Message string `json:"message"`
	}
	if len(args) > 0 && json.Unmarshal(args, &responses) == nil && len(responses) > 0 &&
		responses[0].Success != nil && !*responses[0].Success {
		res.err = fmt.Errorf("event: server refused event: %s", responses[0].Message)
		c.h.log.Warn("event hub refused an event", "message", responses[0].Message)
	}
	c.mu.Lock()
	ch := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if ch != nil {
		ch <- res
	}
}
