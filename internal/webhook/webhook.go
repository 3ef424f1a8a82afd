// Package webhook holds the admission webhooks of FtrackEntity: the mutating webhook gives a
// new object its ftrack id in the create itself, and the validating webhook refuses a spec
// that can never work, with the message the reconciler's Stalled condition would carry
// (both call internal/plan), and warns about what may work later.
//
// Both help and never block: they are registered with failurePolicy Ignore, and the
// reconciler stays correct without them.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/uuid"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/internal/plan"
)

// Paths the webhooks serve (controller-runtime's convention for the kind).
const (
	MutatePath   = "/mutate-ftrack-operator-dev-v1alpha1-ftrackentity"
	ValidatePath = "/validate-ftrack-operator-dev-v1alpha1-ftrackentity"
)

// +kubebuilder:webhook:path=/mutate-ftrack-operator-dev-v1alpha1-ftrackentity,mutating=true,failurePolicy=ignore,sideEffects=None,groups=ftrack-operator.dev,resources=ftrackentities,verbs=create,versions=v1alpha1,name=mftrackentity.ftrack-operator.dev,admissionReviewVersions=v1,timeoutSeconds=5,reinvocationPolicy=Never
// +kubebuilder:webhook:path=/validate-ftrack-operator-dev-v1alpha1-ftrackentity,mutating=false,failurePolicy=ignore,sideEffects=None,groups=ftrack-operator.dev,resources=ftrackentities,verbs=create;update,versions=v1alpha1,name=vftrackentity.ftrack-operator.dev,admissionReviewVersions=v1,timeoutSeconds=5

// Setup registers both webhooks of FtrackEntity with mgr's webhook server. The validating
// webhook reaches the ftrack servers through pool (the leader's connections) or through
// connections of its own.
func Setup(mgr ctrl.Manager, pool *connection.Pool) error {
	sources := &Sources{Reader: mgr.GetClient(), Pool: pool, Log: mgr.GetLogger().WithName("admission")}
	if err := mgr.Add(sources); err != nil {
		return err
	}
	return ctrl.NewWebhookManagedBy(mgr, &v1alpha1.FtrackEntity{}).
		WithDefaulter(Defaulter{}).
		WithValidator(&Validator{Sources: sources, Reader: mgr.GetClient()}).
		Complete()
}

// Defaulter is the mutating webhook: on create it sets the ftrack-operator.dev/entity-id
// annotation (spec.adopt.id when given, else a new random UUID), so that the create stores
// the id and the reconciler writes nothing before it creates the entity. An object that
// already has the annotation keeps it.
type Defaulter struct{}

var _ admission.Defaulter[*v1alpha1.FtrackEntity] = Defaulter{}

// Default implements admission.Defaulter.
func (Defaulter) Default(_ context.Context, obj *v1alpha1.FtrackEntity) error {
	if obj.Annotations[v1alpha1.AnnotationEntityID] != "" {
		return nil
	}
	id := uuid.NewString()
	if a := obj.Spec.Adopt; a != nil && a.ID != "" {
		id = a.ID
	}
	if obj.Annotations == nil {
		obj.Annotations = map[string]string{}
	}
	obj.Annotations[v1alpha1.AnnotationEntityID] = id
	return nil
}

// Validator is the validating webhook: it checks a new or changed spec against the live
// schema of its connection, as the reconciler does before any write (plan.Validate), and
// refuses what can never work with the same reason and message. What may become true later
// in the same sync — a referenced FtrackEntity not created yet, a connection not Ready —
// is allowed with a warning.
type Validator struct {
	Sources *Sources
	Reader  client.Reader
}

var _ admission.Validator[*v1alpha1.FtrackEntity] = &Validator{}

// ValidateCreate implements admission.Validator.
func (v *Validator) ValidateCreate(ctx context.Context, obj *v1alpha1.FtrackEntity) (admission.Warnings, error) {
	return v.validate(ctx, obj)
}

// ValidateUpdate implements admission.Validator.
func (v *Validator) ValidateUpdate(ctx context.Context, old, obj *v1alpha1.FtrackEntity) (admission.Warnings, error) {
	if hasID(old) {
		var errs field.ErrorList
		if old.Spec.EntityType != obj.Spec.EntityType {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "entityType"),
				fmt.Sprintf("the object manages %s %s; create another FtrackEntity for a %s", old.Spec.EntityType, entityID(old), obj.Spec.EntityType)))
		}
		if connection.KeyFor(old.Namespace, old.Spec.ConnectionRef) != connection.KeyFor(obj.Namespace, obj.Spec.ConnectionRef) {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "connectionRef"),
				fmt.Sprintf("the object manages %s %s on the server of %s; create another FtrackEntity for another connection", old.Spec.EntityType, entityID(old), connection.KeyFor(old.Namespace, old.Spec.ConnectionRef))))
		}
		if len(errs) > 0 {
			return nil, apierrors.NewInvalid(groupKind, obj.Name, errs)
		}
	}
	warnings, err := v.validate(ctx, obj)
	if err != nil || !hasID(old) {
		return warnings, err
	}
	// An immutable attribute that the object already set cannot change.
	conn, serr := v.Sources.Get(ctx, obj.Namespace, obj.Spec.ConnectionRef)
	if serr != nil {
		return warnings, nil
	}
	s, ok := conn.Schemas().Get(obj.Spec.EntityType)
	if !ok {
		return warnings, nil
	}
	for _, name := range slices.Sorted(maps.Keys(obj.Spec.Attributes)) {
		before, had := old.Spec.Attributes[name]
		if !had || !s.IsImmutable(name) || jsonEqual(before.Raw, obj.Spec.Attributes[name].Raw) {
			continue
		}
		return warnings, apierrors.NewInvalid(groupKind, obj.Name, field.ErrorList{field.Forbidden(field.NewPath("spec", "attributes").Key(name),
			fmt.Sprintf("%s.%s cannot be changed after creation (it was %s); create a new FtrackEntity instead", obj.Spec.EntityType, name, before.Raw))})
	}
	return warnings, nil
}

// ValidateDelete implements admission.Validator: deleting is always allowed.
func (v *Validator) ValidateDelete(context.Context, *v1alpha1.FtrackEntity) (admission.Warnings, error) {
	return nil, nil
}

var groupKind = schema.GroupKind{Group: v1alpha1.GroupVersion.Group, Kind: "FtrackEntity"}

// validate checks obj's spec against its connection's server: the schema (plan.Validate),
// the types of the references, what the queries of references find, and the custom
// attributes' keys and types. What may become true later is a warning.
func (v *Validator) validate(ctx context.Context, obj *v1alpha1.FtrackEntity) (admission.Warnings, error) {
	var warnings admission.Warnings
	conn, err := v.Sources.Get(ctx, obj.Namespace, obj.Spec.ConnectionRef)
	if err != nil {
		var u *errUnchecked
		if !errors.As(err, &u) {
			return nil, err
		}
		return admission.Warnings{"the spec was not checked against the ftrack server: " + u.msg + "; the operator checks it once the connection is Ready"}, nil
	}
	want, err := plan.Validate(conn.Schemas(), &obj.Spec)
	if err != nil {
		return nil, refuse(obj, err)
	}
	// References by name: the referenced object's type; one not created yet is waited for.
	byName := map[string]v1alpha1.EntityReference{}
	for _, rel := range slices.Sorted(maps.Keys(obj.Spec.References)) {
		ref := obj.Spec.References[rel]
		if ref.Name == "" {
			byName[rel] = ref
			continue
		}
		var target v1alpha1.FtrackEntity
		switch err := v.Reader.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: ref.Name}, &target); {
		case apierrors.IsNotFound(err):
			warnings = append(warnings, fmt.Sprintf("references.%s: FtrackEntity %q does not exist yet; this object waits for it", rel, ref.Name))
		case err == nil:
			if err := want.Type.CheckReferenceType(rel, target.Spec.EntityType, fmt.Sprintf("FtrackEntity %q", ref.Name)); err != nil {
				return nil, refuse(obj, err)
			}
		}
	}
	// References by id or query, and custom attributes, as the reconciler resolves them.
	ec := conn.Entities()
	if err := later(obj, ec.ResolveReferences(ctx, want, byName), &warnings); err != nil {
		return nil, err
	}
	err = ec.ResolveCustomAttributes(ctx, want, obj.Spec.CustomAttributes, func() (map[string]string, error) {
		return connection.DeclaredConfigurations(ctx, v.Reader, obj.Namespace, obj.Spec.ConnectionRef)
	})
	if err := later(obj, err, &warnings); err != nil {
		return nil, err
	}
	return warnings, nil
}

// later sorts the error of a check that asked ftrack: a *plan.SpecError refuses the object;
// a *plan.Wait (something that may exist later) and a failure to ask ftrack now allow it
// with a warning.
func later(obj *v1alpha1.FtrackEntity, err error, warnings *admission.Warnings) error {
	var w *plan.Wait
	var se *plan.SpecError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &w):
		*warnings = append(*warnings, w.Message+"; the object waits for it")
	case errors.As(err, &se):
		return refusal(obj, se)
	default:
		*warnings = append(*warnings, "the spec was not fully checked: ftrack could not be asked now; the operator checks it later")
	}
	return nil
}

// refuse turns the error of plan.Validate (a *plan.SpecError) into the API server's
// Invalid answer.
func refuse(obj *v1alpha1.FtrackEntity, err error) error {
	var se *plan.SpecError
	if !errors.As(err, &se) {
		return err
	}
	return refusal(obj, se)
}

// refusal turns a spec error into the API server's Invalid answer, on the field its message
// names.
func refusal(obj *v1alpha1.FtrackEntity, se *plan.SpecError) error {
	path := field.NewPath("spec")
	if prefix, _, ok := strings.Cut(se.Message, ": "); ok && !strings.ContainsAny(prefix, " \"") {
		for _, part := range strings.Split(prefix, ".") {
			path = path.Child(part)
		}
	} else if se.Reason == v1alpha1.ReasonUnknownEntityType {
		path = path.Child("entityType")
	}
	return apierrors.NewInvalid(groupKind, obj.Name, field.ErrorList{field.Invalid(path, field.OmitValueType{}, se.Reason+": "+se.Message)})
}

// hasID reports whether the object already manages an entity in ftrack.
func hasID(o *v1alpha1.FtrackEntity) bool { return o.Status.ID != "" }

func entityID(o *v1alpha1.FtrackEntity) string {
	if o.Status.ID != "" {
		return o.Status.ID
	}
	return o.Annotations[v1alpha1.AnnotationEntityID]
}

// jsonEqual reports whether two JSON documents hold the same value.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
