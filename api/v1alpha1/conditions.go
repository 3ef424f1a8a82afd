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
