package plan

import (
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
)

// Action is what a plan does to the entity in ftrack.
type Action string

// Actions of a plan.
const (
	// ActionNone: ftrack holds the spec; nothing is written.
	ActionNone Action = "none"
	// ActionCreate: the entity does not exist and is created with Plan.ID.
	ActionCreate Action = "create"
	// ActionRecreate: the entity this object owned was deleted in ftrack and is created again.
	ActionRecreate Action = "recreate"
	// ActionUpdate: the entity exists and Plan.Changes are written.
	ActionUpdate Action = "update"
	// ActionObserve: management Observe; the entity is read, never written.
	ActionObserve Action = "observe"
	// ActionReportDrift: ftrack was changed outside the operator and driftPolicy Report
	// leaves it; Plan.Changes are what differs.
	ActionReportDrift Action = "report-drift"
	// ActionReportDeleted: the entity this object owned was deleted in ftrack and driftPolicy
	// Report leaves it deleted.
	ActionReportDeleted Action = "report-deleted"
)

// Input is everything Decide needs: the object, its spec resolved against the schema, what
// ftrack holds, and what is known of the other objects that point at the same entity.
type Input struct {
	// Object is the FtrackEntity: its spec, UID, generation and status.
	Object *v1alpha1.FtrackEntity
	// Desired is the spec checked and resolved (Validate, references, custom attributes),
	// with the id the entity has or gets (see Identity).
	Desired *Desired
	// Observed is what ftrack holds; nil when the entity does not exist (or was not read:
	// an id chosen now cannot exist yet).
	Observed *Observed
	// MarkOwner is the object the entity's managed-by mark names, when that is not Object,
	// it exists and it uses the same ftrack server; nil otherwise.
	MarkOwner *v1alpha1.FtrackEntity
	// Rivals are the other objects of the same ftrack server that point at Desired.ID.
	Rivals []*v1alpha1.FtrackEntity
	// SyncedBefore says that ftrack held this generation's spec before: a difference now
	// was made in ftrack, not by a change of the spec.
	SyncedBefore bool
	// Owned says that Object created or adopted the entity (its status, or what the caller
	// remembers of its own writes).
	Owned bool
}

// Plan is what Decide chose.
type Plan struct {
	// Action is what happens to the entity.
	Action Action
	// ID is the entity's id.
	ID string
	// Changes are the differences to write (ActionUpdate) or to report
	// (ActionReportDrift, ActionObserve).
	Changes []Change
	// Drift says that Changes were made in ftrack outside the operator (or, for
	// ActionRecreate, that the entity was deleted there).
	Drift bool
	// Adopted says that this plan takes an existing entity over through spec.adopt.
	Adopted bool
	// ReplacedOwner is the UID of an owner that no longer exists, whose entity this plan
	// takes over.
	ReplacedOwner string
	// Ownership is the object's status.ownership once the plan is carried out.
	Ownership v1alpha1.Ownership
	// Path is the entity's path once the plan is carried out, "" when unknown.
	Path string
	// DisplayName is the entity's name (see EntityType.DisplayAttribute) once the plan is
	// carried out, "" when unknown.
	DisplayName string
}

// Decide chooses what to do with an entity: create it, update what differs, report drift,
// or nothing. It returns a *SpecError when the object cannot own the entity or the change
// is not allowed, and a *Wait when the entity must first exist. It does not look anything
// up: the caller gathers Input.
func Decide(in Input) (*Plan, error) {
	obj, want, have := in.Object, in.Desired, in.Observed
	observe := obj.Spec.Management == v1alpha1.ManagementObserve
	p := &Plan{ID: want.ID, Ownership: obj.Status.Ownership}
	replaced, err := checkOwnership(in)
	if err != nil {
		return nil, err
	}
	if have == nil {
		switch {
		case observe:
			return nil, &Wait{Reason: v1alpha1.ReasonNotFoundInFtrack, Message: fmt.Sprintf("no %s has id %q", want.Type.Name(), want.ID)}
		case obj.Spec.Adopt != nil && obj.Spec.Adopt.ID != "" && want.ID == obj.Spec.Adopt.ID:
			return nil, &Wait{Reason: v1alpha1.ReasonAdoptionFailed, Message: fmt.Sprintf("adopt.id: no %s has id %q", want.Type.Name(), want.ID)}
		case in.Owned && obj.Spec.DriftPolicy == v1alpha1.DriftPolicyReport:
			p.Action, p.Drift = ActionReportDeleted, true
			return p, nil
		case in.Owned:
			p.Action, p.Drift = ActionRecreate, true
		default:
			p.Action = ActionCreate
		}
		p.Ownership = v1alpha1.OwnershipCreated
		if name, ok := want.Attrs["name"].(string); ok {
			p.Path = EntityPath(want.ParentPath, name)
		}
		p.DisplayName, _ = want.Attrs[want.Type.DisplayAttribute()].(string)
		return p, nil
	}
	if have.Type != "" && !want.Type.set.IsA(have.Type, want.Type.Name()) {
		return nil, Errorf(v1alpha1.ReasonInvalidSpec, "the entity with id %s is a %s, not a %s", want.ID, have.Type, want.Type.Name())
	}
	mark := have.Metadata[v1alpha1.MetadataManagedBy]
	switch {
	case observe:
		p.Ownership = v1alpha1.OwnershipObserved
	case replaced != "":
		p.Ownership, p.ReplacedOwner = v1alpha1.OwnershipAdopted, replaced
	case mark == string(obj.UID) || want.ID == EntityIDFor(obj.UID):
		// The operator created it for this object (its status may have been lost), or
		// adopted it for this object earlier.
		if !in.Owned {
			p.Ownership = v1alpha1.OwnershipCreated
			if obj.Spec.Adopt != nil && want.ID != EntityIDFor(obj.UID) {
				p.Ownership = v1alpha1.OwnershipAdopted
			}
		}
	case in.Owned:
		// This object created or adopted it and its mark is missing (removed in ftrack, or
		// a type without metadata); the update puts the mark back.
	case obj.Spec.Adopt != nil:
		p.Ownership, p.Adopted = v1alpha1.OwnershipAdopted, true
	default:
		return nil, Errorf(v1alpha1.ReasonOwnershipConflict,
			"%s %s exists in ftrack but was not created by the operator for this object; to take it over set spec.adopt.id, or remove the %s annotation to create a new entity",
			want.Type.Name(), want.ID, v1alpha1.AnnotationEntityID)
	}
	switch name, named := have.Attrs["name"].(string); {
	case have.Path != "":
		p.Path = have.Path
	case named:
		p.Path = EntityPath(want.ParentPath, name)
	}
	display := want.Type.DisplayAttribute()
	p.DisplayName, _ = have.Attrs[display].(string)
	if name, ok := want.Attrs[display].(string); ok && !observe {
		p.DisplayName = name // the update writes it
	}
	p.Changes = Diff(want, have)
	if observe {
		p.Action = ActionObserve
		return p, nil
	}
	if err := checkImmutable(want, have, p.Changes); err != nil {
		return nil, err
	}
	if len(p.Changes) == 0 {
		p.Action = ActionNone
		return p, nil
	}
	// A difference while the spec has not changed since the last sync was made in ftrack.
	p.Drift = in.SyncedBefore && in.Owned
	if p.Drift && obj.Spec.DriftPolicy == v1alpha1.DriftPolicyReport {
		p.Action = ActionReportDrift
		return p, nil
	}
	p.Action = ActionUpdate
	if np := pathAfterUpdate(want, have, p.Changes); np != "" {
		p.Path = np
	}
	return p, nil
}

// checkOwnership applies the ownership rule (see ownership.go) to the object and its
// entity. It returns a SpecError when another object owns the entity, and the UID of a
// previous owner that no longer exists when the object takes its place. Observe-only
// objects own nothing and are not checked.
func checkOwnership(in Input) (replaced string, err error) {
	obj, want := in.Object, in.Desired
	if obj.Spec.Management == v1alpha1.ManagementObserve {
		return "", nil
	}
	if in.Observed != nil {
		switch mark := in.Observed.Metadata[v1alpha1.MetadataManagedBy]; {
		case mark == string(obj.UID):
			return "", nil
		case mark != "":
			if in.MarkOwner != nil {
				return "", ownershipConflict(want.Type.Name(), want.ID, in.MarkOwner, "its managed-by mark in ftrack names that object")
			}
			replaced = mark
		}
	}
	if leader := Leader(obj, want.ID, in.Rivals); leader != nil {
		return "", ownershipConflict(want.Type.Name(), want.ID, leader, "that object pointed at it first")
	}
	return replaced, nil
}

// checkImmutable refuses changes of immutable attributes that already have a value.
func checkImmutable(want *Desired, have *Observed, changes []Change) error {
	for _, c := range changes {
		name := c.Name
		switch c.Kind {
		case ChangeAttribute:
		case ChangeReference:
			if fk := want.Type.ForeignKey(name); fk != "" && want.Type.s.IsImmutable(fk) {
				name = fk
			}
		default:
			continue
		}
		if want.Type.s.IsImmutable(name) && c.HaveSet && c.Have != nil && c.Have != "" {
			return Errorf(v1alpha1.ReasonInvalidAttribute, "%s: %s.%s cannot be changed after creation (ftrack holds %s, the spec says %s); create a new FtrackEntity instead",
				c.Path(), want.Type.Name(), c.Name, Canonical(c.Have), Canonical(c.Want))
		}
	}
	return nil
}

// entityIDNamespace is the UUID namespace of the ids the operator chooses: an entity's id is
// the UUIDv5 of its FtrackEntity's UID in it.
var entityIDNamespace = uuid.MustParse("4c1d6a39-57f2-4f0e-9b7e-2d0a3c5b8e61")

// EntityIDFor returns the ftrack id the operator gives the entity of the FtrackEntity with
// uid: the same for every attempt, so that a repeated create finds the entity.
func EntityIDFor[U ~string](uid U) string {
	return uuid.NewSHA1(entityIDNamespace, []byte(uid)).String()
}

// ManagedByMarker returns the metadata the operator sets on the entities an object owns.
func ManagedByMarker[U ~string](uid U) map[string]string {
	return map[string]string{v1alpha1.MetadataManagedBy: string(uid)}
}

// OnlyOwnershipMark reports whether the only change is the operator's own ownership
// metadata, which is not worth an Updated Event.
func OnlyOwnershipMark(changes []Change) bool {
	return len(changes) == 1 && changes[0].Kind == ChangeMetadata && changes[0].Name == v1alpha1.MetadataManagedBy
}

// EntityPath returns parentPath / name for status.path, or name when the parent's path is
// not known. An existing entity's path comes from its link instead.
func EntityPath(parentPath, name string) string {
	if parentPath == "" {
		return name
	}
	return parentPath + " / " + name
}

// pathAfterUpdate returns the entity's path once changes are made: the path ftrack showed
// before a rename or a move is one step behind. "" when neither the name nor the parent
// changes, or the new path is not known.
func pathAfterUpdate(want *Desired, have *Observed, changes []Change) string {
	renamed, moved := false, false
	for _, c := range changes {
		renamed = renamed || (c.Kind == ChangeAttribute && c.Name == "name")
		moved = moved || (c.Kind == ChangeReference && c.Name == "parent")
	}
	if !renamed && !moved {
		return ""
	}
	name, _ := have.Attrs["name"].(string)
	if n, ok := want.Attrs["name"].(string); ok {
		name = n
	}
	if name == "" {
		return ""
	}
	parent := want.ParentPath
	if !moved && have.Path != "" {
		parent = ""
		if i := strings.LastIndex(have.Path, " / "); i >= 0 {
			parent = have.Path[:i]
		}
	}
	return EntityPath(parent, name)
}
