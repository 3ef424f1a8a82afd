// Package ftracktest is an ftrack server emulator shaped like
// net/http/httptest: NewServer starts it on a loopback port, URL is its base
// URL and Close stops it. It serves the /api batch endpoint (queries, creates,
// updates and deletes validated against a schema, executed atomically) and the
// event hub, and the unmodified official Python and JavaScript clients accept
// it. Tests seed it, inspect it, inject latency and failures, and read its
// request log.
package ftracktest
