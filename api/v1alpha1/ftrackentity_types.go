package v1alpha1

import (
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

// FtrackEntitySpec declares one ftrack entity.
type FtrackEntitySpec struct {
	// ConnectionRef names the connection to the ftrack server that holds the entity.
	ConnectionRef ConnectionReference `json:"connectionRef"`
	// EntityType is the ftrack entity type, any type of the server's schema, for example
	// Project, Sequence, Shot or Task.
	// +kubebuilder:validation:MinLength=1
	EntityType string `json:"entityType"`
}

// FtrackEntityStatus is the observed state of an FtrackEntity.
type FtrackEntityStatus struct {
	// ObservedGeneration is the generation of the spec that this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// ID is the ftrack id of the managed entity.
	// +optional
	ID string `json:"id,omitempty"`
	// Conditions describe the entity: Ready and Synced.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// FtrackEntity declares one ftrack entity (a project, a shot, a task, a status...) that the
// operator keeps equal to its spec.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ftent,categories=ftrack
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.entityType`
// +kubebuilder:printcolumn:name="ID",type=string,JSONPath=`.status.id`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FtrackEntity struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the entity as ftrack should hold it.
	Spec FtrackEntitySpec `json:"spec"`
	// Status is the observed state of the entity.
	// +optional
	Status FtrackEntityStatus `json:"status,omitempty"`
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
