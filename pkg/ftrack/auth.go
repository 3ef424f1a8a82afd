package ftrack

import "net/http"

// Header names used by the ftrack API.
const (
	HeaderUser        = "ftrack-user"
	HeaderAPIKey      = "ftrack-api-key" //nolint:gosec // G101: a header name, not a credential
	HeaderStrictAPI   = "ftrack-strict-api"
	HeaderClientToken = "ftrack-Clienttoken"
)

// SessionAuthentication is an http.RoundTripper that adds the ftrack-user and
// ftrack-api-key headers to every request before passing it to Base
// (http.DefaultTransport when nil). It can wrap the transport of any
// http.Client. Its String and GoString never show the key.
type SessionAuthentication struct {
	APIUser string
	APIKey  string
	Base    http.RoundTripper
}

// RoundTrip implements http.RoundTripper. The request is cloned, never
// modified.
func (a *SessionAuthentication) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set(HeaderUser, a.APIUser)
	r.Header.Set(HeaderAPIKey, a.APIKey)
	base := a.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

// String describes the authentication without the key.
func (a *SessionAuthentication) String() string {
	return "SessionAuthentication{APIUser: " + a.APIUser + ", APIKey: [redacted]}"
}

// GoString is String, so %#v does not print the key either.
func (a *SessionAuthentication) GoString() string { return a.String() }

// CloseIdleConnections closes the idle connections of Base (or of
// http.DefaultTransport when Base is nil), so that http.Client's method of
// the same name reaches the wrapped transport.
func (a *SessionAuthentication) CloseIdleConnections() {
	base := a.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if c, ok := base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
