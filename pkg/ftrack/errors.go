package ftrack

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. Errors returned by the Session wrap or match these, so
// callers can test them with errors.Is.
var (
	// ErrSessionClosed is returned by every call on a closed Session.
	ErrSessionClosed = errors.New("ftrack: session is closed")
	// ErrInvalidCredentials matches a server error reporting that the API
	// user or key was not accepted.
	ErrInvalidCredentials = errors.New("ftrack: invalid credentials")
	// ErrPermissionDenied matches a server error reporting missing permissions.
	ErrPermissionDenied = errors.New("ftrack: permission denied")
	// ErrValidation matches a server error reporting invalid data.
	ErrValidation = errors.New("ftrack: validation failed")
	// ErrNotFound matches a server error reporting a missing entity or
	// resource (HTTP 404 or a not-found exception).
	ErrNotFound = errors.New("ftrack: not found")
	// ErrRateLimited matches a rate-limited request (HTTP 429).
	ErrRateLimited = errors.New("ftrack: rate limited")
	// ErrServerCompatibility is returned when the server version is not
	// supported or an action is unknown to the server.
	ErrServerCompatibility = errors.New("ftrack: server compatibility")
	// ErrNoResultFound is returned by QueryResult.One when nothing matched.
	ErrNoResultFound = errors.New("ftrack: expected 1 result, got none")
	// ErrMultipleResultsFound is returned by QueryResult.One when more than
	// one entity matched.
	ErrMultipleResultsFound = errors.New("ftrack: expected 1 result, got more")
	// ErrUnknownEntityType is returned for an entity type absent from the
	// server's schemas.
	ErrUnknownEntityType = errors.New("ftrack: unrecognised entity type")
	// ErrUnknownAttribute is returned for an attribute absent from the
	// entity type's schema.
	ErrUnknownAttribute = errors.New("ftrack: unknown attribute")
	// ErrImmutableAttribute is returned when an immutable attribute that
	// already has a value is changed.
	ErrImmutableAttribute = errors.New("ftrack: immutable attribute")
	// ErrResponseTooLarge is returned when a response exceeds the
	// configured maximum size.
	ErrResponseTooLarge = errors.New("ftrack: response too large")
)

// ServerError is an error reported by the ftrack server: a JSON object with
// an exception name, a message and an optional error code, or an HTTP error
// status without such an object.
type ServerError struct {
	// Exception is the server's exception class name, e.g. "ValidationError".
	Exception string
	// Content is the human readable message.
	Content string
	// ErrorCode is the server's error code, empty when null.
	ErrorCode string
	// StatusCode is the HTTP status of the response.
	StatusCode int
}

// Error implements error.
func (e *ServerError) Error() string {
	if e.Exception == "" {
		return fmt.Sprintf("ftrack: server reported error: HTTP %d: %s", e.StatusCode, e.Content)
	}
	return fmt.Sprintf("ftrack: server reported error: %s(%s)", e.Exception, e.Content)
}

// Is reports whether the error matches one of the package's sentinels by its
// exception name or HTTP status.
func (e *ServerError) Is(target error) bool {
	switch target {
	case ErrInvalidCredentials:
		return e.Exception == "InvalidCredentialsError" || e.Exception == "FTAuthenticationError" ||
			(e.Exception == "" && e.StatusCode == http.StatusUnauthorized)
	case ErrPermissionDenied:
		return e.Exception == "PermissionError" || (e.Exception == "" && e.StatusCode == http.StatusForbidden)
	case ErrValidation:
		return e.Exception == "ValidationError"
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound || strings.Contains(e.Exception, "NotFound") || strings.Contains(e.Exception, "NoResultFound")
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServerCompatibility:
		return strings.Contains(e.Content, "Invalid action u'")
	}
	return false
}

// RateLimitError is returned for HTTP 429 answers. RetryAfter is the
// server's Retry-After hint, zero when none was given.
type RateLimitError struct {
	RetryAfter time.Duration
	Server     *ServerError
}

// Error implements error.
func (e *RateLimitError) Error() string {
	msg := "ftrack: rate limited by server"
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.Server != nil && e.Server.Content != "" {
		msg += ": " + e.Server.Content
	}
	return msg
}

// Is matches ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Unwrap returns the server error.
func (e *RateLimitError) Unwrap() error {
	if e.Server == nil {
		return nil
	}
	return e.Server
}

// TransportError is a failure to reach the server or to read its answer.
type TransportError struct {
	Op  string
	Err error
}

// Error implements error.
func (e *TransportError) Error() string { return "ftrack: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

// CompatibilityError reports a server the client cannot work with.
type CompatibilityError struct {
	Reason string
}

// Error implements error.
func (e *CompatibilityError) Error() string { return "ftrack: server compatibility: " + e.Reason }

// Is matches ErrServerCompatibility.
func (e *CompatibilityError) Is(target error) bool { return target == ErrServerCompatibility }

// AttributeError reports a problem with one attribute of one entity type.
type AttributeError struct {
	EntityType string
	Attribute  string
	Err        error
}

// Error implements error.
func (e *AttributeError) Error() string {
	return fmt.Sprintf("%v: %s.%s", e.Err, e.EntityType, e.Attribute)
}

// Unwrap returns the sentinel.
func (e *AttributeError) Unwrap() error { return e.Err }

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
// ParseRetryAfter reads a Retry-After header value, in seconds or as an HTTP date, as the time
// to wait from now; zero when the value is empty, negative, in the past or unreadable.
func ParseRetryAfter(v string, now time.Time) time.Duration { return parseRetryAfter(v, now) }

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// redact removes secret from s.
func redact(s, secret string) string {
	if secret == "" || !strings.Contains(s, secret) {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}
