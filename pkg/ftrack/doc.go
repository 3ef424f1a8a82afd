// Package ftrack is a Go client for the ftrack server API, modelled on the
// Session of the official Python client: one Session holds the credentials,
// the server's schemas, an identity map of generic entities, the recorded
// create/update/delete operations that Commit sends as one batch, a layered
// cache, plugins and the event hub.
//
// # Sessions
//
// NewSession takes the server URL, API user and API key from options, else
// from FTRACK_SERVER, FTRACK_API_KEY (or FTRACK_APIKEY) and FTRACK_API_USER
// (else the OS login name). It fetches the server information, checks the
// server version, runs plugins, loads the schemas (from the schema cache
// file when the server's schema hash matches) and publishes the local
// events ftrack.api.session.construct-entity-type (per schema),
// ftrack.api.session.configure-location and ftrack.api.session.ready.
//
// # Entities and operations
//
// Entities are generic: an *Entity has a type name and the attributes of
// its schema, each with a remote (server) and a local (pending) value.
// Create, Entity.Set, Collection changes, KeyValueView changes and Delete
// record operations while recording is on; Commit merges them (a create
// and delete of one entity cancel out, the last update of an attribute
// wins, updates fold into the preceding create or update of the same
// entity) and sends them as one atomic /api batch. Rollback drops them.
// Reading an unset attribute of a persisted entity loads it with one query
// while auto-populate is on.
//
// # Locations and components
//
// The session configures ftrack.origin, ftrack.unmanaged, ftrack.review and
// ftrack.server before it publishes ftrack.api.session.configure-location
// (data: the session and a context), whose handlers add their own with
// ConfigureLocation. CreateComponent makes a file or sequence component from
// a path or a pattern (/path/plate.%04d.exr [1001-1100]) and adds it to a
// location; Location adds, removes, reads and locates components through
// its Accessor and Structure. See docs/go-client.md, "Publishing".
//
// # Errors
//
// Server errors are *ServerError values matching ErrValidation,
// ErrPermissionDenied, ErrInvalidCredentials or ErrNotFound with errors.Is;
// HTTP 429 answers are *RateLimitError with the Retry-After hint; network
// and decoding failures are *TransportError. No error string contains the
// API key.
//
// # Plugins
//
// Every *.go file found (recursively) in the plugin paths (WithPluginPaths,
// else FTRACK_EVENT_PLUGIN_PATH split on os.PathListSeparator) is
// interpreted with yaegi, each in its own interpreter, with the standard
// library and the packages github.com/ftrack-operator/ftrack-operator/pkg/ftrack
// (types Session, Entity, Collection, Identity, KeyValue, Date, Operation,
// LocalHandler and the Topic constants; for location plugins Location,
// DiskAccessor, NewDiskAccessor, StandardStructure, NewStandardStructure, the
// other structures, ComponentOptions, ParseFileSequence and the built-in
// location ids) and …/pkg/ftrack/event (Event, NewEvent) available. A handler
// that panics is logged and skipped. A file must declare a package-level Register
// function in one of these forms, optionally returning an error (which
// aborts NewSession):
//
//	func Register(session *ftrack.Session)
//	func Register(session *ftrack.Session, args map[string]any)
//	func Register(session *ftrack.Session, opts Options) // Options is a struct
//	func Register()
//
// The first parameter may also be any. The plugin arguments
// (WithPluginArguments) are matched like Python keyword arguments: a map
// receives them all; a struct receives those whose key equals a field's
// `ftrack:"name"` tag or, ignoring case and underscores, its name. Arguments
// that do not fit, and the session for a Register without parameters, are
// culled with the warning CullingWarning. A file that fails to load or has
// no Register function is skipped with a warning. Compiled-in plugins are
// added with WithPlugin and receive every argument.
package ftrack
