package plan

import (
	"fmt"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
)

// Ownership rule. An ftrack entity has at most one owner, an FtrackEntity object:
//
//  1. The object whose UID the entity's managed-by mark names owns it while that object
//     exists and uses the same ftrack server. A UID is given by the API server and cannot be
//     chosen, and only the operator writes the mark, so no one who can only write
//     FtrackEntity objects can forge it.
//  2. Without a mark (types without metadata, a mark removed in ftrack, or an entity not
//     created yet), the objects that point at the entity (their id annotation, status.id
//     or spec.adopt.id) are ranked: the object whose UID the entity's id derives from (the
//     operator chose that id for it), then an object whose status records that it holds
//     the entity, then the oldest object, then the smallest UID. The first one owns it.
//  3. A mark naming an object that no longer exists is replaced: the object that points at
//     the entity now takes it over (a restore from backup gives objects new UIDs).
//
// Every other object that points at the entity stalls with OwnershipConflict and writes
// nothing to ftrack.

// claim is one FtrackEntity object's claim on an entity id.
type claim struct {
	obj *v1alpha1.FtrackEntity
}

// derived reports whether id is the one the operator chose for the object.
func (c claim) derived(id string) bool { return EntityIDFor(c.obj.UID) == id }

// holds reports whether the object's status says it created or adopted id.
func (c claim) holds(id string) bool {
	return c.obj.Status.ID == id && (c.obj.Status.Ownership == v1alpha1.OwnershipCreated || c.obj.Status.Ownership == v1alpha1.OwnershipAdopted)
}

// outranks reports whether c's claim on id goes before o's (rule 2).
func (c claim) outranks(o claim, id string) bool {
	if cd, od := c.derived(id), o.derived(id); cd != od {
		return cd
	}
	if ch, oh := c.holds(id), o.holds(id); ch != oh {
		return ch
	}
	ct, ot := c.obj.CreationTimestamp.Time, o.obj.CreationTimestamp.Time
	if !ct.Equal(ot) {
		return ct.Before(ot)
	}
	return c.obj.UID < o.obj.UID
}

// Leader returns the object among rivals whose claim on id outranks obj's (rule 2), or nil
// when obj goes first.
func Leader(obj *v1alpha1.FtrackEntity, id string, rivals []*v1alpha1.FtrackEntity) *v1alpha1.FtrackEntity {
	var best *v1alpha1.FtrackEntity
	for _, r := range rivals {
		if !(claim{r}).outranks(claim{obj}, id) {
			continue
		}
		if best == nil || (claim{r}).outranks(claim{best}, id) {
			best = r
		}
	}
	return best
}

// ClaimsID reports whether obj points at id: through its annotation, status or adopt.id.
func ClaimsID(obj *v1alpha1.FtrackEntity, id string) bool {
	if id == "" {
		return false
	}
	if obj.Annotations[v1alpha1.AnnotationEntityID] == id || obj.Status.ID == id {
		return true
	}
	return obj.Spec.Adopt != nil && obj.Spec.Adopt.ID == id
}

// ObjectRef names an object for messages: namespace/name.
func ObjectRef(o *v1alpha1.FtrackEntity) string { return o.Namespace + "/" + o.Name }

// ownershipConflict is the spec error of an object whose entity belongs to other.
func ownershipConflict(typ, id string, other *v1alpha1.FtrackEntity, how string) *SpecError {
	return Errorf(v1alpha1.ReasonOwnershipConflict,
		"%s %s belongs to FtrackEntity %s (%s); this object writes nothing to it. Point this object at another entity, or delete %s first",
		typ, id, ObjectRef(other), how, ObjectRef(other))
}

// DeleteDecision is what DecideDelete chose for an object being deleted.
type DeleteDecision struct {
	// Delete says that the entity is deleted in ftrack.
	Delete bool
	// Leave, when Delete is false and Blockers is empty, says why the entity is left in
	// ftrack ("" when the policy is Orphan or nothing was created).
	Leave string
	// Blockers are the other objects that keep descendants ftrack would delete with the
	// entity: the deletion waits for them.
	Blockers []*v1alpha1.FtrackEntity
}

// DecideDelete chooses what deleting obj does to its entity id in ftrack. observed is nil
// when the entity is gone; markOwner and rivals are as in Input; blockers are the objects
// that keep descendants of the entity (see the Descendants of the caller's ftrack client).
func DecideDelete(obj *v1alpha1.FtrackEntity, id string, observed *Observed, markOwner *v1alpha1.FtrackEntity, rivals, blockers []*v1alpha1.FtrackEntity) (DeleteDecision, error) {
	owned := obj.Status.Ownership == v1alpha1.OwnershipCreated || obj.Status.Ownership == v1alpha1.OwnershipAdopted
	switch {
	case obj.Spec.DeletionPolicy != v1alpha1.DeletionPolicyDelete || id == "":
		return DeleteDecision{}, nil
	case !owned:
		return DeleteDecision{Leave: fmt.Sprintf("%s %s was not created or adopted by this object; it is left in ftrack", obj.Spec.EntityType, id)}, nil
	case observed == nil:
		return DeleteDecision{}, nil
	}
	if mark := observed.Metadata[v1alpha1.MetadataManagedBy]; mark != "" && mark != string(obj.UID) && markOwner != nil {
		return DeleteDecision{Leave: fmt.Sprintf("%s %s is left in ftrack: it belongs to FtrackEntity %s (its managed-by mark names that object)", obj.Spec.EntityType, id, ObjectRef(markOwner))}, nil
	}
	if mark := observed.Metadata[v1alpha1.MetadataManagedBy]; mark != string(obj.UID) {
		if leader := Leader(obj, id, rivals); leader != nil {
			return DeleteDecision{Leave: fmt.Sprintf("%s %s is left in ftrack: it belongs to FtrackEntity %s (that object pointed at it first)", obj.Spec.EntityType, id, ObjectRef(leader))}, nil
		}
	}
	if len(blockers) > 0 {
		return DeleteDecision{Blockers: blockers}, nil
	}
	return DeleteDecision{Delete: true}, nil
}

// DeleteBlockedMessage is the condition message of a deletion that waits for blockers.
func DeleteBlockedMessage(typ, id string, blockers []*v1alpha1.FtrackEntity) string {
	names := make([]string, len(blockers))
	for i, b := range blockers {
		names[i] = ObjectRef(b)
	}
	return fmt.Sprintf("deleting %s %s would make ftrack delete entities that other FtrackEntity objects keep: %s; delete them or set their deletionPolicy to Delete first",
		typ, id, ListOrNone(names))
}
