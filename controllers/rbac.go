package controllers

// The permissions the manager needs, as controller-gen markers; `make manifests` turns them into
// config/rbac/role.yaml.
//
// +kubebuilder:rbac:groups=ftrack-operator.dev,resources=ftrackconnections;clusterftrackconnections;ftrackentities,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=ftrack-operator.dev,resources=ftrackconnections/status;clusterftrackconnections/status;ftrackentities/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=ftrack-operator.dev,resources=ftrackconnections/finalizers;clusterftrackconnections/finalizers;ftrackentities/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets;configmaps,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
