package event

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Default settings of a Hub.
const (
	DefaultMinBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff    = 30 * time.Second
	DefaultQueueSize     = 1024
	DefaultReadTimeout   = 30 * time.Second
	DefaultWriteTimeout  = 15 * time.Second
	DefaultApplicationID = "ftrack.api.go"
)

// Option configures a Hub. Options validate their input; NewHub returns the
// first error.
type Option func(*config) error

type config struct {
	base          *url.URL // scheme://host[:port], path dropped
	user          string
	apiKey        string
	header        http.Header
	client        *http.Client
	log           *slog.Logger
	minBackoff    time.Duration
	maxBackoff    time.Duration
	queueSize     int
	readTimeout   time.Duration
	writeTimeout  time.Duration
	applicationID string
}

// WithHeader adds a header to the handshake and WebSocket upgrade requests,
// e.g. ftrack-strict-api. The credential headers cannot be overridden.
func WithHeader(key, value string) Option {
	return func(c *config) error {
		k := http.CanonicalHeaderKey(key)
		if k == "" || strings.ContainsAny(k, " :\r\n") {
			return fmt.Errorf("event: invalid header name %q", key)
		}
		if k == "Ftrack-User" || k == "Ftrack-Api-Key" {
			return fmt.Errorf("event: header %s is set from the credentials", k)
		}
		c.header.Add(k, value)
		return nil
	}
}

// WithHTTPClient sets the client used for the handshake and the WebSocket
// (its Transport carries TLS settings and proxies). Its Timeout, if any,
// bounds each connection attempt.
func WithHTTPClient(client *http.Client) Option {
	return func(c *config) error {
		if client == nil {
			return errors.New("event: nil HTTP client")
		}
		c.client = client
		return nil
	}
}

// WithLogger sets the logger; the default discards. Logs never contain the
// API key.
func WithLogger(log *slog.Logger) Option {
	return func(c *config) error {
		if log == nil {
			return errors.New("event: nil logger")
		}
		c.log = log
		return nil
	}
}

// WithBackoff sets the bounds of the jittered exponential back-off between
// reconnection attempts; 0 < min <= max.
func WithBackoff(minDelay, maxDelay time.Duration) Option {
	return func(c *config) error {
		if minDelay <= 0 || maxDelay < minDelay {
			return fmt.Errorf("event: invalid back-off bounds %v..%v", minDelay, maxDelay)
		}
		c.minBackoff, c.maxBackoff = minDelay, maxDelay
		return nil
	}
}

// WithQueueSize sets how many received events may wait for the handler
// goroutine; see Hub for the overflow policy.
func WithQueueSize(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("event: queue size %d < 1", n)
		}
		c.queueSize = n
		return nil
	}
}

// WithReadTimeout sets the watchdog: when no frame (heartbeats included)
// arrives for this long the connection is considered lost and re-established.
// Servers send heartbeats every few seconds.
func WithReadTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("event: read timeout %v <= 0", d)
		}
		c.readTimeout = d
		return nil
	}
}

// WithWriteTimeout bounds the write of one frame.
func WithWriteTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("event: write timeout %v <= 0", d)
		}
		c.writeTimeout = d
		return nil
	}
}

// WithApplicationID sets source.applicationId of published events.
func WithApplicationID(id string) Option {
	return func(c *config) error {
		if id == "" {
			return errors.New("event: empty application id")
		}
		c.applicationID = id
		return nil
	}
}

// parseServerURL keeps scheme, host and port of an http(s) server URL.
func parseServerURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// The URL itself stays out of the message: it could carry userinfo.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("event: invalid server URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("event: server URL scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("event: server URL has no host")
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}
