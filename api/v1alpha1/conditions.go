package v1alpha1

// Condition types shared by the kinds of this API.
const (
	// ConditionReady summarises whether the object is usable: for a connection, the session is
	// open; for an entity, ftrack holds what the spec declares.
	ConditionReady = "Ready"
	// ConditionSynced reports whether the last reconcile reached ftrack and applied the spec.
	ConditionSynced = "Synced"
	// ConditionEventHubConnected reports whether a connection's event hub socket is up.
	ConditionEventHubConnected = "EventHubConnected"
)

// Annotation keys read or written by the operator.
const (
	// AnnotationEntityID holds the ftrack id of the entity an FtrackEntity manages. The operator
	// writes it before the entity is created, so that a retried create finds the entity instead of
	// making a second one.
	AnnotationEntityID = "ftrack-operator.dev/entity-id"
)

// FinalizerConnectionInUse keeps a connection while FtrackEntity objects still use it.
const FinalizerConnectionInUse = "ftrack-operator.dev/connection-in-use"

// Reasons of the Ready and EventHubConnected conditions of FtrackConnection and
// ClusterFtrackConnection.
const (
	// ReasonConnected: the session is open (Ready) or the event hub socket is up
	// (EventHubConnected).
	ReasonConnected = "Connected"
	// ReasonConnecting: the event hub is being connected or reconnected.
	ReasonConnecting = "Connecting"
	// ReasonDisconnected: the event hub socket is down; the hub reconnects by itself.
	ReasonDisconnected = "Disconnected"
	// ReasonDisabled: the event hub is switched off in the spec.
	ReasonDisabled = "Disabled"
	// ReasonSecretNotFound: the credentials Secret (or the CA bundle) does not exist.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonSecretKeyMissing: the Secret exists but lacks the API key or the API user.
	ReasonSecretKeyMissing = "SecretKeyMissing"
	// ReasonInvalidCredentials: the server refused the API user and key.
	ReasonInvalidCredentials = "InvalidCredentials"
	// ReasonServerUnreachable: the server did not answer, or answered with a server error.
	ReasonServerUnreachable = "ServerUnreachable"
	// ReasonRateLimited: the server asked the operator to slow down.
	ReasonRateLimited = "RateLimited"
	// ReasonIncompatibleServer: the server's version or API is not supported.
	ReasonIncompatibleServer = "IncompatibleServer"
	// ReasonInvalidTLS: the TLS settings cannot be used (a CA bundle without certificates).
	ReasonInvalidTLS = "InvalidTLS"
	// ReasonInvalidSpec: the spec cannot be used as it is; the message says why.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonInUse: the connection is being deleted but FtrackEntity objects still use it.
	ReasonInUse = "InUse"
	// ReasonNamespaceNotAllowed: a ClusterFtrackConnection does not allow the namespace
	// of an FtrackEntity that refers to it.
	ReasonNamespaceNotAllowed = "NamespaceNotAllowed"
)

// Reasons of the Kubernetes Events recorded on connections.
const (
	// EventReasonConnected: a session was opened.
	EventReasonConnected = "Connected"
	// EventReasonConnectFailed: a session could not be opened, or the server refused the
	// credentials of an open one.
	EventReasonConnectFailed = "ConnectFailed"
	// EventReasonCredentialsTrimmed: a value read from the credentials Secret had leading
	// or trailing white space (as `kubectl create secret --from-file` keeps a file's final
	// newline), which was removed.
	EventReasonCredentialsTrimmed = "CredentialsTrimmed"
	// EventReasonDisconnected: a session was closed (connection deleted or settings changed).
	EventReasonDisconnected = "Disconnected"
	// EventReasonCredentialsChanged: the credentials Secret changed, a new session replaces
	// the old one.
	EventReasonCredentialsChanged = "CredentialsChanged"
	// EventReasonEventHubConnected: the event hub socket came up.
	EventReasonEventHubConnected = "EventHubConnected"
	// EventReasonEventHubDisconnected: the event hub socket went down.
	EventReasonEventHubDisconnected = "EventHubDisconnected"
	// EventReasonInsecureTLS: certificate verification is off.
	EventReasonInsecureTLS = "InsecureTLS"
	// EventReasonInUse: deletion waits for FtrackEntity objects that use the connection.
	EventReasonInUse = "InUse"
	// EventReasonEntityEventsSummarized: Normal Events of single FtrackEntity objects
	// (Created, Updated, …) came faster than the connection's event budget; they are
	// counted in one Event on the connection instead.
	EventReasonEntityEventsSummarized = "EntityEventsSummarized"
)
