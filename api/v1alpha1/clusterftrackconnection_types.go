package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterCredentialsSecretReference names the Secret, in a namespace named explicitly, holding
// the ftrack API key (and usually the API user) of a ClusterFtrackConnection.
type ClusterCredentialsSecretReference struct {
	// Namespace is the namespace of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`

	// Name is the name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	SecretKeys `json:",inline"`
}

// AllowedNamespaces say which namespaces may use a ClusterFtrackConnection. A namespace is
// allowed when it is listed in names or matched by selector. With neither, no namespace may
// use the connection; an empty selector ({}) allows every namespace.
type AllowedNamespaces struct {
	// Names lists namespaces by name.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=63
	Names []string `json:"names,omitempty"`

	// Selector matches namespaces by their labels.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
}

// ClusterFtrackConnectionSpec says which ftrack server to talk to, where its credentials are,
// and which namespaces may use it.
type ClusterFtrackConnectionSpec struct {
	ConnectionSettings `json:",inline"`

	// SecretRef names the Secret that holds the API key and user, with its namespace. A
	// change of the Secret's data opens a new session without a restart.
	SecretRef ClusterCredentialsSecretReference `json:"secretRef"`

	// AllowedNamespaces say which namespaces' FtrackEntity objects may use this connection.
	// +optional
	AllowedNamespaces AllowedNamespaces `json:"allowedNamespaces,omitempty"`
}

// ClusterFtrackConnection is a cluster-wide connection to an ftrack server, usable by
// FtrackEntity objects in the namespaces it allows.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=cftconn,categories=ftrack
// +kubebuilder:printcolumn:name="Server",type=string,JSONPath=`.spec.serverURL`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Event Hub",type=string,JSONPath=`.status.conditions[?(@.type=="EventHubConnected")].status`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.status.serverVersion`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterFtrackConnection struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired connection.
	Spec ClusterFtrackConnectionSpec `json:"spec"`

	// Status is the observed state of the connection.
	// The API server defaults it to an observedGeneration of 0 until the operator writes
	// it, so that kstatus (Flux, Argo CD) reads an object no reconcile has seen yet as
	// InProgress, not as Current.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status ConnectionStatus `json:"status,omitempty"`
}

// GetConditions returns the conditions of the connection.
func (c *ClusterFtrackConnection) GetConditions() []metav1.Condition { return c.Status.Conditions }

// SetConditions replaces the conditions of the connection.
func (c *ClusterFtrackConnection) SetConditions(conditions []metav1.Condition) {
	c.Status.Conditions = conditions
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
