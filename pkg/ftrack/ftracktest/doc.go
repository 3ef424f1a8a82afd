// Package ftracktest is an ftrack server emulator shaped like
// net/http/httptest: NewServer starts it on a loopback port, URL is its base
// URL and Close stops it, waiting for in-flight requests. It needs no
// *testing.T, so a TestMain can share one server. The unmodified official
// clients (the Python ftrack_api and the JavaScript @ftrack/api) accept it;
// testdata/js/conformance.mjs (at the module root) runs the JavaScript one against it.
//
// # What it serves
//
//   - POST /api: JSON batches executed in order and atomically (a failing
//     operation rolls the whole batch back and the answer is ftrack's single
//     error object), authenticated by the ftrack-user and ftrack-api-key
//     headers (401 and InvalidCredentialsError otherwise). Errors answer HTTP
//     200 unless the request sends ftrack-strict-api: true, which selects
//     400, 401, 403, 404 or 500 by error kind.
//   - The actions query_server_information, query_schemas, query, search,
//     create, update, delete, reset_remote (api_key), delayed_job,
//     encode_media, get_upload_metadata, complete_multipart_upload, the
//     invites, get_widget_url and the user security role actions. Unknown
//     actions answer "Invalid action u'<action>'".
//   - The query language with every operator, relation paths, has/any,
//     sub-queries, ordering, paging and group by (strict API), over a
//     schema-driven store (any query_schemas answer can be loaded) with
//     indexes on id and every *_id attribute.
//   - The event hub at /socket.io/: one ftrack.update event per successful
//     batch that changed data.
//   - Component data of the ftrack.server location: upload URLs (single and
//     multipart) and /component/get, /component/thumbnail and
//     /component/remove.
//
// Answers are always denormalised (every occurrence of an entity carries its
// data), which both clients accept whatever ftrack-api-options asks for.
// Datetimes are stored in UTC to the microsecond and emitted naive as YYYY-MM-DDTHH:MM:SS,
// with .ffffff when the microseconds are not zero. What it does differently from ftrack is
// listed in docs/emulator.md.
// "like" matches case-insensitively, as on the real server's database.
//
// # For tests
//
// Options set the users, schema, clock, id generator, latency, seed data and
// logger. Seed, Get, Count and All seed and inspect the store; FailNext,
// RateLimitNext, SetLatency and DropEventHubConnections inject faults;
// Requests and RequestCount report what clients sent.
package ftracktest
