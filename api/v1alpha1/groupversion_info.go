package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "ftrack-operator.dev", Version: "v1alpha1"}

	// SchemeBuilder collects the kinds of this package; each kind's file registers itself.
	SchemeBuilder = &schemeBuilder{}

	// AddToScheme adds the kinds of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// schemeBuilder registers the kinds of this package with a runtime.Scheme. It depends on
// apimachinery alone, so that importing the API types does not pull in controller-runtime.
type schemeBuilder struct {
	objects []runtime.Object
}

// Register adds objects (a kind and its list) to the set that AddToScheme installs.
func (b *schemeBuilder) Register(objects ...runtime.Object) {
	b.objects = append(b.objects, objects...)
}

// AddToScheme installs every registered kind, and the meta types of the group version, in s.
func (b *schemeBuilder) AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, b.objects...)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
