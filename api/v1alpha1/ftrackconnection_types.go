package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FtrackConnectionSpec says which ftrack server to talk to and where its credentials are.
type FtrackConnectionSpec struct {
	// ServerURL is the base URL of the ftrack server, for example https://studio.ftrackapp.com.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="self.startsWith('http://') || self.startsWith('https://')",message="serverURL must start with http:// or https://"
	ServerURL string `json:"serverURL"`
}

// FtrackConnectionStatus is the observed state of an FtrackConnection.
type FtrackConnectionStatus struct {
	// ObservedGeneration is the generation of the spec that this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions describe the connection: Ready and EventHubConnected.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// FtrackConnection is a connection to an ftrack server, usable by the FtrackEntity objects of
// its own namespace. The operator keeps one ftrack session open per connection.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ftconn,categories=ftrack
// +kubebuilder:printcolumn:name="Server",type=string,JSONPath=`.spec.serverURL`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FtrackConnection struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired connection.
	Spec FtrackConnectionSpec `json:"spec"`
	// Status is the observed state of the connection.
	// +optional
	Status FtrackConnectionStatus `json:"status,omitempty"`
}

// FtrackConnectionList is a list of FtrackConnection objects.
//
// +kubebuilder:object:root=true
type FtrackConnectionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FtrackConnection `json:"items"`
}

func init() {
	SchemeBuilder.Register(&FtrackConnection{}, &FtrackConnectionList{})
}
