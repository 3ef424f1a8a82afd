package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Defaults of the connection settings, applied by the API server (markers) and again by the
// operator for objects stored before a default existed.
const (
	// DefaultAPIKeyKey is the Secret key that holds the API key unless secretRef.apiKeyKey says
	// otherwise.
	DefaultAPIKeyKey = "apiKey"
	// DefaultAPIUserKey is the Secret key that holds the API user unless secretRef.apiUserKey
	// says otherwise.
	DefaultAPIUserKey = "apiUser"
	// DefaultEventHubSubscription is the event hub subscription of a connection.
	DefaultEventHubSubscription = "topic=ftrack.update"
	// DefaultResyncInterval is how often every entity of a connection is reconciled even
	// without an event.
	DefaultResyncInterval = 10 * time.Hour
	// DefaultRequestsPerSecond is the sustained request budget of a connection.
	DefaultRequestsPerSecond = 10
	// DefaultBurst is how many requests a connection may send at once above its budget.
	DefaultBurst = 20
	// DefaultRequestTimeout bounds one request to the ftrack server.
	DefaultRequestTimeout = 60 * time.Second
	// DefaultCABundleKey is the key of the CA bundle in its Secret or ConfigMap.
	DefaultCABundleKey = "ca.crt"
)

// ConnectionSettings are the settings FtrackConnection and ClusterFtrackConnection share.
type ConnectionSettings struct {
	// ServerURL is the base URL of the ftrack server, for example
	// https://studio.ftrackapp.com. Only http and https are accepted, without credentials
	// in the URL.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('http://') || self.startsWith('https://')",message="serverURL must start with http:// or https://"
	// +kubebuilder:validation:XValidation:rule="isURL(self)",message="serverURL must be a URL"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^https?://[^/]*@')",message="serverURL must not hold credentials; put them in the Secret"
	ServerURL string `json:"serverURL"`

	// APIUser is the ftrack user the operator acts as. When set, it wins over the user
	// stored in the Secret; when neither is set the connection is not usable.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	APIUser string `json:"apiUser,omitempty"`

	// EventHub configures the connection's event hub subscription, through which changes
	// made in ftrack trigger reconciles at once instead of at the next resync.
	// +optional
	// +kubebuilder:default={}
	EventHub EventHubSettings `json:"eventHub,omitempty"`

	// ResyncInterval is how often every entity of this connection is reconciled even when
	// no event arrived: the safety net for missed events. A random jitter of up to a tenth
	// is added so that entities do not resync together. Default 10h.
	// +optional
	// +kubebuilder:default="10h"
	ResyncInterval *metav1.Duration `json:"resyncInterval,omitempty"`

	// RateLimit is the request budget of the connection, shared by every reconcile that uses
	// it, so that one busy namespace cannot starve the server or the others.
	// +optional
	// +kubebuilder:default={}
	RateLimit RateLimit `json:"rateLimit,omitempty"`

	// Timeout bounds one request to the ftrack server. Default 60s.
	// +optional
	// +kubebuilder:default="60s"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// TLS configures how the server's certificate is verified.
	// +optional
	TLS *TLSSettings `json:"tls,omitempty"`
}

// EventHubSettings configure the event hub subscription of a connection.
type EventHubSettings struct {
	// Enabled connects the event hub. Without it, changes made in ftrack are noticed only at
	// the next resync. Default true.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// Subscription is the event hub subscription expression. Default topic=ftrack.update.
	// +optional
	// +kubebuilder:default="topic=ftrack.update"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Subscription string `json:"subscription,omitempty"`
}

// RateLimit is a token-bucket request budget.
type RateLimit struct {
	// RequestsPerSecond is the sustained number of requests per second. Default 10.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	RequestsPerSecond int32 `json:"requestsPerSecond,omitempty"`

	// Burst is how many requests may be sent at once when the budget has been idle.
	// Default 20.
	// +optional
	// +kubebuilder:default=20
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	Burst int32 `json:"burst,omitempty"`
}

// TLSSettings say how the ftrack server's certificate is verified.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.insecureSkipVerify) && self.insecureSkipVerify && has(self.caBundleRef))",message="caBundleRef and insecureSkipVerify exclude each other"
type TLSSettings struct {
	// CABundleRef names a Secret or ConfigMap holding PEM certificates to trust in addition
	// to the system roots, for servers with a private certificate authority. It is read from
	// the namespace of the credentials Secret.
	// +optional
	CABundleRef *CABundleReference `json:"caBundleRef,omitempty"`

	// InsecureSkipVerify turns certificate verification off. Anyone on the network path can
	// then read the API key; the operator records a warning Event on every connect. For
	// tests only.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// CABundleReference names a key of a Secret or ConfigMap holding PEM certificates.
type CABundleReference struct {
	// Kind is Secret or ConfigMap.
	// +kubebuilder:validation:Enum=Secret;ConfigMap
	Kind string `json:"kind"`

	// Name is the name of the Secret or ConfigMap.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Key is the key holding the PEM bundle. Default ca.crt.
	// +optional
	// +kubebuilder:default="ca.crt"
	Key string `json:"key,omitempty"`
}

// SecretKeys name the keys of a credentials Secret.
type SecretKeys struct {
	// APIKeyKey is the key of the Secret that holds the API key. Default apiKey.
	// +optional
	// +kubebuilder:default="apiKey"
	// +kubebuilder:validation:MinLength=1
	APIKeyKey string `json:"apiKeyKey,omitempty"`

	// APIUserKey is the key of the Secret that holds the API user. It is read only when
	// spec.apiUser is empty. Default apiUser.
	// +optional
	// +kubebuilder:default="apiUser"
	// +kubebuilder:validation:MinLength=1
	APIUserKey string `json:"apiUserKey,omitempty"`
}

// CredentialsSecretReference names the Secret, in the connection's own namespace, holding the
// ftrack API key (and usually the API user).
type CredentialsSecretReference struct {
	// Name is the name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	SecretKeys `json:",inline"`
}

// ConnectionStatus is the observed state of an FtrackConnection or a ClusterFtrackConnection.
type ConnectionStatus struct {
	// ObservedGeneration is the generation of the spec that this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions describe the connection: Ready (the session is open and usable) and
	// EventHubConnected (changes in ftrack reach the operator at once).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ServerVersion is the version the ftrack server reported.
	// +optional
	ServerVersion string `json:"serverVersion,omitempty"`

	// SchemaHash identifies the server's entity schemas; it changes when the server's
	// configuration adds or changes entity types or attributes.
	// +optional
	SchemaHash string `json:"schemaHash,omitempty"`

	// EntityTypes is the number of entity types in the server's schema.
	// +optional
	EntityTypes int32 `json:"entityTypes,omitempty"`

	// LastConnectedTime is when the current session was opened.
	// +optional
	LastConnectedTime *metav1.Time `json:"lastConnectedTime,omitempty"`

	// LastEventTime is when the last event arrived from the event hub (updated at most every
	// few seconds).
	// +optional
	LastEventTime *metav1.Time `json:"lastEventTime,omitempty"`

	// EventHubReconnects counts how often the current session's event hub lost its
	// connection and connected again.
	// +optional
	EventHubReconnects int64 `json:"eventHubReconnects,omitempty"`
}

// FtrackConnectionSpec says which ftrack server to talk to and where its credentials are.
type FtrackConnectionSpec struct {
	ConnectionSettings `json:",inline"`

	// SecretRef names the Secret of this namespace that holds the API key and user. A
	// change of the Secret's data opens a new session without a restart.
	SecretRef CredentialsSecretReference `json:"secretRef"`
}

// FtrackConnection is a connection to an ftrack server, usable by the FtrackEntity objects of
// its own namespace. The operator keeps one ftrack session open per connection.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ftconn,categories=ftrack
// +kubebuilder:printcolumn:name="Server",type=string,JSONPath=`.spec.serverURL`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Event Hub",type=string,JSONPath=`.status.conditions[?(@.type=="EventHubConnected")].status`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.status.serverVersion`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FtrackConnection struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired connection.
	Spec FtrackConnectionSpec `json:"spec"`

	// Status is the observed state of the connection.
	// The API server defaults it to an observedGeneration of 0 until the operator writes
	// it, so that kstatus (Flux, Argo CD) reads an object no reconcile has seen yet as
	// InProgress, not as Current.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status ConnectionStatus `json:"status,omitempty"`
}

// GetConditions returns the conditions of the connection.
func (c *FtrackConnection) GetConditions() []metav1.Condition { return c.Status.Conditions }

// SetConditions replaces the conditions of the connection.
func (c *FtrackConnection) SetConditions(conditions []metav1.Condition) {
	c.Status.Conditions = conditions
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

// EventHubEnabled reports whether the event hub is to be connected (default true).
func (s *ConnectionSettings) EventHubEnabled() bool {
	return s.EventHub.Enabled == nil || *s.EventHub.Enabled
}

// EventHubSubscription returns the subscription expression, defaulted.
func (s *ConnectionSettings) EventHubSubscription() string {
	if s.EventHub.Subscription == "" {
		return DefaultEventHubSubscription
	}
	return s.EventHub.Subscription
}

// ResyncPeriod returns the resync interval, defaulted; never below one minute.
func (s *ConnectionSettings) ResyncPeriod() time.Duration {
	if s.ResyncInterval == nil || s.ResyncInterval.Duration <= 0 {
		return DefaultResyncInterval
	}
	return max(s.ResyncInterval.Duration, time.Minute)
}

// RequestTimeout returns the request timeout, defaulted.
func (s *ConnectionSettings) RequestTimeout() time.Duration {
	if s.Timeout == nil || s.Timeout.Duration <= 0 {
		return DefaultRequestTimeout
	}
	return s.Timeout.Duration
}

// RequestBudget returns the requests per second and the burst, defaulted.
func (s *ConnectionSettings) RequestBudget() (perSecond float64, burst int) {
	perSecond, burst = DefaultRequestsPerSecond, DefaultBurst
	if s.RateLimit.RequestsPerSecond > 0 {
		perSecond = float64(s.RateLimit.RequestsPerSecond)
	}
	if s.RateLimit.Burst > 0 {
		burst = int(s.RateLimit.Burst)
	}
	return perSecond, burst
}

// APIKey returns the key of the API key in the Secret, defaulted.
func (k SecretKeys) APIKey() string {
	if k.APIKeyKey == "" {
		return DefaultAPIKeyKey
	}
	return k.APIKeyKey
}

// APIUser returns the key of the API user in the Secret, defaulted.
func (k SecretKeys) APIUser() string {
	if k.APIUserKey == "" {
		return DefaultAPIUserKey
	}
	return k.APIUserKey
}

// BundleKey returns the key of the PEM bundle, defaulted.
func (r *CABundleReference) BundleKey() string {
	if r.Key == "" {
		return DefaultCABundleKey
	}
	return r.Key
}
