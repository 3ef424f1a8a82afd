package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConnectionReference names the connection an FtrackEntity uses.
type ConnectionReference struct {
	// Kind is FtrackConnection (in the entity's namespace) or ClusterFtrackConnection.
	// +kubebuilder:validation:Enum=FtrackConnection;ClusterFtrackConnection
	// +kubebuilder:default=FtrackConnection
	// +optional
	Kind string `json:"kind,omitempty"`
	// Name is the name of the connection.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
}

// DeletionPolicy says what happens in ftrack when an FtrackEntity is deleted.
// +kubebuilder:validation:Enum=Orphan;Delete
type DeletionPolicy string

// Deletion policies.
const (
	// DeletionPolicyOrphan leaves the ftrack entity as it is.
	DeletionPolicyOrphan DeletionPolicy = "Orphan"
	// DeletionPolicyDelete deletes the ftrack entity, if the operator created or adopted it.
	DeletionPolicyDelete DeletionPolicy = "Delete"
)

// DriftPolicy says what the operator does when ftrack differs from the spec.
// +kubebuilder:validation:Enum=Correct;Report
type DriftPolicy string

// Drift policies.
const (
	// DriftPolicyCorrect makes ftrack equal to the spec again.
	DriftPolicyCorrect DriftPolicy = "Correct"
	// DriftPolicyReport records the difference in status and an Event, and leaves ftrack as it is.
	DriftPolicyReport DriftPolicy = "Report"
)

// Management says whether the operator writes to ftrack.
// +kubebuilder:validation:Enum=Manage;Observe
type Management string

// Management modes.
const (
	// ManagementManage creates, updates and (with deletionPolicy Delete) deletes the entity.
	ManagementManage Management = "Manage"
	// ManagementObserve only reads the entity into status; it never writes to ftrack.
	ManagementObserve Management = "Observe"
)

// EntityReference points a relation attribute at another ftrack entity. Exactly one of name,
// id and query is set.
//
// +kubebuilder:validation:XValidation:rule="[has(self.name), has(self.id), has(self.query)].filter(x, x).size() == 1",message="set exactly one of name, id and query"
type EntityReference struct {
	// Name is another FtrackEntity of the same namespace. The reference waits until that
	// object is Ready and then uses its ftrack id.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
	// ID is the ftrack id of an existing entity.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	ID string `json:"id,omitempty"`
	// Query is an ftrack query, resolved at every reconcile, that must match exactly one
	// entity, for example `Status where name is "In progress"`.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Query string `json:"query,omitempty"`
}

// AdoptSpec names an existing ftrack entity that the FtrackEntity takes over instead of
// creating a new one. Exactly one of id and match is set.
//
// +kubebuilder:validation:XValidation:rule="has(self.id) != has(self.match)",message="set exactly one of id and match"
type AdoptSpec struct {
	// ID is the ftrack id of the entity to adopt.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	ID string `json:"id,omitempty"`
	// Match lists identifying attributes and their values as text (for example name, and
	// parent_id for a shot); the one entity of entityType whose attributes equal them is
	// adopted. When none matches, a
	// new entity is created; when several match, the object fails with a terminal condition.
	// +optional
	// +kubebuilder:validation:MinProperties=1
	// +kubebuilder:validation:MaxProperties=16
	Match map[string]string `json:"match,omitempty"`
}

// FtrackEntitySpec declares one ftrack entity.
//
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.adopt) || (has(self.adopt) && self.adopt == oldSelf.adopt)",message="adopt cannot be changed once set"
type FtrackEntitySpec struct {
	// ConnectionRef names the connection to the ftrack server that holds the entity.
	ConnectionRef ConnectionReference `json:"connectionRef"`

	// EntityType is the ftrack entity type, any type of the server's schema, for example
	// Project, Sequence, Shot or Task. It cannot be changed.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="entityType cannot be changed; create a new FtrackEntity instead"
	EntityType string `json:"entityType"`

	// Attributes are the entity's scalar attributes by name, as the server's schema names
	// them: strings, numbers, booleans, JSON values, and datetimes as RFC 3339 strings.
	// Relations go into references, custom attributes into customAttributes.
	// +optional
	// +kubebuilder:validation:MaxProperties=128
	Attributes map[string]apiextensionsv1.JSON `json:"attributes,omitempty"`

	// CustomAttributes are custom attribute values by configuration key.
	// +optional
	// +kubebuilder:validation:MaxProperties=256
	CustomAttributes map[string]apiextensionsv1.JSON `json:"customAttributes,omitempty"`

	// Metadata are the entity's metadata key/value pairs. Keys the spec does not name are
	// left alone.
	// +optional
	// +kubebuilder:validation:MaxProperties=256
	Metadata map[string]string `json:"metadata,omitempty"`

	// References set relation attributes (for example parent, project, status, type) by
	// attribute name.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	References map[string]EntityReference `json:"references,omitempty"`

	// Adopt takes over an existing ftrack entity instead of creating one. It cannot be
	// changed once set.
	// +optional
	Adopt *AdoptSpec `json:"adopt,omitempty"`

	// DeletionPolicy says what happens in ftrack when this object is deleted: Orphan (the
	// default) leaves the entity, Delete deletes it if the operator created or adopted it.
	// +optional
	// +kubebuilder:default=Orphan
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// DriftPolicy says what happens when ftrack was changed outside the operator: Correct
	// (the default) makes it equal to the spec again, Report records the difference in
	// status.lastDrift and an Event.
	// +optional
	// +kubebuilder:default=Correct
	DriftPolicy DriftPolicy `json:"driftPolicy,omitempty"`

	// Management is Manage (the default: create and update) or Observe (read the entity
	// into status, never write). Observe needs adopt.
	// +optional
	// +kubebuilder:default=Manage
	Management Management `json:"management,omitempty"`

	// Suspend stops reconciling the object; ftrack is left as it is.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// Ownership says how the operator came to manage an entity.
type Ownership string

// Ownerships.
const (
	// OwnershipCreated: the operator created the entity.
	OwnershipCreated Ownership = "Created"
	// OwnershipAdopted: the entity existed and was adopted through spec.adopt.
	OwnershipAdopted Ownership = "Adopted"
	// OwnershipObserved: the entity is only read (management Observe).
	OwnershipObserved Ownership = "Observed"
)

// AttributeDrift is one attribute that ftrack held differently from the spec.
type AttributeDrift struct {
	// Name is the attribute, custom attribute ("custom_attributes.<key>") or metadata key
	// ("metadata.<key>").
	Name string `json:"name"`
	// Expected is the value of the spec, as JSON.
	// +optional
	Expected string `json:"expected,omitempty"`
	// Actual is the value ftrack held, as JSON.
	// +optional
	Actual string `json:"actual,omitempty"`
}

// DriftReport describes the last drift the operator saw.
type DriftReport struct {
	// Time is when the drift was seen.
	Time metav1.Time `json:"time"`
	// Deleted is true when the entity had been deleted in ftrack.
	// +optional
	Deleted bool `json:"deleted,omitempty"`
	// Attributes lists what differed (at most 32 entries).
	// +optional
	// +kubebuilder:validation:MaxItems=32
	Attributes []AttributeDrift `json:"attributes,omitempty"`
	// Corrected is true when the operator made ftrack equal to the spec again.
	// +optional
	Corrected bool `json:"corrected,omitempty"`
}

// FtrackEntityStatus is the observed state of an FtrackEntity.
type FtrackEntityStatus struct {
	// ObservedGeneration is the generation of the spec that this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// ID is the ftrack id of the managed entity.
	// +optional
	ID string `json:"id,omitempty"`
	// Path is the entity's place in ftrack: project / … / name, read from the entity's
	// link in ftrack whatever way its parent is named. Types without a link (statuses,
	// users, configurations) show their name.
	// +optional
	Path string `json:"path,omitempty"`
	// DisplayName is the entity's name in ftrack: its name, or for types named otherwise
	// the attribute that names them (a custom attribute configuration's key, a user's
	// username).
	// +optional
	DisplayName string `json:"displayName,omitempty"`
	// Ownership is how the operator came to manage the entity: Created, Adopted or Observed.
	// Only entities it created or adopted are ever deleted.
	// +optional
	Ownership Ownership `json:"ownership,omitempty"`
	// Conditions describe the entity: Ready, Synced, and for kstatus Reconciling and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// LastSyncTime is when ftrack was last seen equal to the spec.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`
	// LastDrift is the last difference between ftrack and the spec made outside the operator.
	// +optional
	LastDrift *DriftReport `json:"lastDrift,omitempty"`
	// LastHandledReconcileAt is the last value of the reconcile-requested-at annotation
	// that was handled.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
}

// Condition types of FtrackEntity read by kstatus (Flux, Argo CD).
const (
	// ConditionReconciling is True while the object is being brought to its spec.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when the object cannot progress without a change of its
	// spec (or of ftrack's schema).
	ConditionStalled = "Stalled"
)

// Annotation keys of FtrackEntity.
const (
	// AnnotationPaused stops reconciling the object while it is "true".
	AnnotationPaused = "ftrack-operator.dev/paused"
	// AnnotationReconcileRequestedAt asks for a reconcile now: set it to any new value;
	// status.lastHandledReconcileAt records the handled value.
	AnnotationReconcileRequestedAt = "ftrack-operator.dev/reconcile-requested-at"
)

// MetadataManagedBy is the ftrack metadata key the operator sets, on entity types that have
// metadata, to the UID of the FtrackEntity that created or adopted the entity. It names the
// entity's one owner: any other FtrackEntity that points at the entity stalls with
// OwnershipConflict while that object exists.
const MetadataManagedBy = "ftrack-operator.dev/managed-by"

// FinalizerEntityDelete keeps an FtrackEntity with deletionPolicy Delete until its ftrack
// entity is deleted.
const FinalizerEntityDelete = "ftrack-operator.dev/delete-entity"

// Reasons of the Ready, Synced, Reconciling and Stalled conditions of FtrackEntity.
const (
	// ReasonSynced: ftrack holds what the spec declares.
	ReasonSynced = "Synced"
	// ReasonObserved: management Observe; the entity was read.
	ReasonObserved = "Observed"
	// ReasonConnectionNotReady: the connection has no usable session yet.
	ReasonConnectionNotReady = "ConnectionNotReady"
	// ReasonConnectionNotFound: the connection does not exist.
	ReasonConnectionNotFound = "ConnectionNotFound"
	// ReasonReferenceNotReady: a referenced FtrackEntity is not Ready yet.
	ReasonReferenceNotReady = "ReferenceNotReady"
	// ReasonReferenceNotFound: a reference's id or query matched no entity.
	ReasonReferenceNotFound = "ReferenceNotFound"
	// ReasonReferenceAmbiguous: a reference's query matched more than one entity.
	ReasonReferenceAmbiguous = "ReferenceAmbiguous"
	// ReasonUnknownEntityType: entityType is not a type of the server's schema.
	ReasonUnknownEntityType = "UnknownEntityType"
	// ReasonInvalidAttribute: an attribute is unknown, read-only, computed, of the wrong type
	// or immutable.
	ReasonInvalidAttribute = "InvalidAttribute"
	// ReasonMissingRequiredAttribute: the spec creates an entity but lacks an attribute that
	// ftrack requires and neither the schema nor the server fills.
	ReasonMissingRequiredAttribute = "MissingRequiredAttribute"
	// ReasonCustomAttributeNotFound: no custom attribute configuration with a key of
	// spec.customAttributes applies to the entity yet; the reconciler waits for one (an
	// FtrackEntity of the same connection that declares it becoming Ready wakes it).
	ReasonCustomAttributeNotFound = "CustomAttributeNotFound"
	// ReasonInvalidReference: a reference names an attribute that is not a relation, or an
	// entity of the wrong type.
	ReasonInvalidReference = "InvalidReference"
	// ReasonWriteRejected: ftrack refused a write as invalid; the message has its answer.
	ReasonWriteRejected = "WriteRejected"
	// ReasonAdoptionFailed: the entity to adopt does not exist or is not unique.
	ReasonAdoptionFailed = "AdoptionFailed"
	// ReasonNotFoundInFtrack: the entity does not exist in ftrack (observe-only, or deleted
	// in ftrack under driftPolicy Report).
	ReasonNotFoundInFtrack = "NotFoundInFtrack"
	// ReasonDriftReported: ftrack differs from the spec and driftPolicy is Report.
	ReasonDriftReported = "DriftReported"
	// ReasonOwnershipConflict: the entity is owned by another FtrackEntity (the one its
	// managed-by mark names, or the one that claimed it first), or it exists in ftrack and
	// this object neither created it nor says spec.adopt. Nothing is written to ftrack.
	ReasonOwnershipConflict = "OwnershipConflict"
	// ReasonDeleteBlocked: deleting the entity would make ftrack delete descendants that
	// other FtrackEntity objects keep (their deletionPolicy is not Delete); the finalizer
	// stays until they are gone or say Delete.
	ReasonDeleteBlocked = "DeleteBlocked"
	// ReasonReferenceCycle: the references by name lead back to the object itself.
	ReasonReferenceCycle = "ReferenceCycle"
	// ReasonSuspended: spec.suspend or the paused annotation stops reconciling.
	ReasonSuspended = "Suspended"
	// ReasonDeleting: the entity is being deleted in ftrack.
	ReasonDeleting = "Deleting"
)

// Reasons of the Kubernetes Events recorded on FtrackEntity objects.
const (
	// EventReasonCreated: the entity was created in ftrack.
	EventReasonCreated = "Created"
	// EventReasonUpdated: attributes of the entity were updated in ftrack.
	EventReasonUpdated = "Updated"
	// EventReasonDeleted: the entity was deleted in ftrack.
	EventReasonDeleted = "Deleted"
	// EventReasonAdopted: an existing entity was adopted.
	EventReasonAdopted = "Adopted"
	// EventReasonDriftCorrected: a change made outside the operator was undone.
	EventReasonDriftCorrected = "DriftCorrected"
	// EventReasonDriftReported: a change made outside the operator was seen and left alone.
	EventReasonDriftReported = "DriftReported"
	// EventReasonInvalidSpec: the spec cannot be applied.
	EventReasonInvalidSpec = "InvalidSpec"
	// EventReasonDeleteRefused: the entity was not deleted because the operator did not create
	// or adopt it.
	EventReasonDeleteRefused = "DeleteRefused"
	// EventReasonDeleteBlocked: the entity was not deleted (yet) because ftrack would delete
	// descendants that other FtrackEntity objects keep with it.
	EventReasonDeleteBlocked = "DeleteBlocked"
	// EventReasonOwnershipConflict: the entity belongs to another FtrackEntity; nothing was
	// written.
	EventReasonOwnershipConflict = "OwnershipConflict"
	// EventReasonOwnerReplaced: the entity's previous owner no longer exists and this object
	// took it over (the path of a backup restore).
	EventReasonOwnerReplaced = "OwnerReplaced"
)

// FtrackEntity declares one ftrack entity (a project, a shot, a task, a status...) that the
// operator keeps equal to its spec.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ftent,categories=ftrack
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.entityType`
// +kubebuilder:printcolumn:name="Ftrack-Name",type=string,JSONPath=`.status.displayName`
// +kubebuilder:printcolumn:name="ID",type=string,JSONPath=`.status.id`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FtrackEntity struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the entity as ftrack should hold it.
	Spec FtrackEntitySpec `json:"spec"`
	// Status is the observed state of the entity.
	// The API server defaults it to an observedGeneration of 0 until the operator writes
	// it, so that kstatus (Flux, Argo CD) reads an object no reconcile has seen yet as
	// InProgress, not as Current.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status FtrackEntityStatus `json:"status,omitempty"`
}

// GetConditions returns the conditions of the entity.
func (e *FtrackEntity) GetConditions() []metav1.Condition { return e.Status.Conditions }

// SetConditions replaces the conditions of the entity.
func (e *FtrackEntity) SetConditions(conditions []metav1.Condition) {
	e.Status.Conditions = conditions
}

// FtrackEntityList is a list of FtrackEntity objects.
//
// +kubebuilder:object:root=true
type FtrackEntityList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FtrackEntity `json:"items"`
}

func init() {
	SchemeBuilder.Register(&FtrackEntity{}, &FtrackEntityList{})
}
