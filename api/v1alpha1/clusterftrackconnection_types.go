package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterFtrackConnectionSpec says which ftrack server to talk to, where its credentials are,
// and which namespaces may use it.
type ClusterFtrackConnectionSpec struct {
	// ServerURL is the base URL of the ftrack server, for example https://studio.ftrackapp.com.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="self.startsWith('http://') || self.startsWith('https://')",message="serverURL must start with http:// or https://"
	ServerURL string `json:"serverURL"`
}

// ClusterFtrackConnectionStatus is the observed state of a ClusterFtrackConnection.
type ClusterFtrackConnectionStatus struct {
	// ObservedGeneration is the generation of the spec that this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions describe the connection: Ready and EventHubConnected.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ClusterFtrackConnection is a cluster-wide connection to an ftrack server, usable by
// FtrackEntity objects in the namespaces it allows.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=cftconn,categories=ftrack
// +kubebuilder:printcolumn:name="Server",type=string,JSONPath=`.spec.serverURL`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterFtrackConnection struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired connection.
	Spec ClusterFtrackConnectionSpec `json:"spec"`
	// Status is the observed state of the connection.
	// +optional
	Status ClusterFtrackConnectionStatus `json:"status,omitempty"`
}

// ClusterFtrackConnectionList is a list of ClusterFtrackConnection objects.
//
// +kubebuilder:object:root=true
type ClusterFtrackConnectionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterFtrackConnection `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ClusterFtrackConnection{}, &ClusterFtrackConnectionList{})
}
