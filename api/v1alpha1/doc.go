// Package v1alpha1 holds the ftrack-operator.dev/v1alpha1 API: FtrackConnection,
// ClusterFtrackConnection and FtrackEntity, with their condition types, reasons and annotation keys.
//
// +kubebuilder:object:generate=true
// +groupName=ftrack-operator.dev
package v1alpha1
