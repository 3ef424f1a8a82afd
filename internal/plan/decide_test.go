package plan

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

const (
	testUID   = types.UID("7d0b8a52-0000-4000-8000-000000000001")
	otherUID  = types.UID("7d0b8a52-0000-4000-8000-000000000002")
	adoptedID = "00000000-0000-4000-8000-00000000a001"
)

// testObject is a shot object created at t0 with uid, changed by mutate.
func testObject(uid types.UID, t0 time.Time, mutate ...func(*v1alpha1.FtrackEntity)) *v1alpha1.FtrackEntity {
	o := &v1alpha1.FtrackEntity{
		ObjectMeta: metav1.ObjectMeta{Namespace: "studio", Name: "sh010-" + string(uid[len(uid)-1:]), UID: uid, Generation: 1, CreationTimestamp: metav1.NewTime(t0)},
		Spec: v1alpha1.FtrackEntitySpec{
			EntityType:     "Shot",
			DeletionPolicy: v1alpha1.DeletionPolicyOrphan,
			DriftPolicy:    v1alpha1.DriftPolicyCorrect,
			Management:     v1alpha1.ManagementManage,
			Attributes:     map[string]apiextensionsv1.JSON{"name": js("sh010"), "description": js("spec")},
			References:     map[string]v1alpha1.EntityReference{"parent": {ID: "seq"}},
		},
	}
	for _, m := range mutate {
		m(o)
	}
	return o
}

// desired validates obj's spec against the emulator's schema, with id and its parent.
func desired(t *testing.T, obj *v1alpha1.FtrackEntity, id string) *Desired {
	t.Helper()
	d, err := Validate(builtin.SchemaSet(), &obj.Spec)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	d.ID = id
	d.Refs["parent"] = Ref{ID: "seq", Type: "Sequence", Path: "show / sq010"}
	d.ParentPath = "show / sq010"
	if obj.Spec.Management != v1alpha1.ManagementObserve {
		d.Metadata[v1alpha1.MetadataManagedBy] = string(obj.UID)
	}
	return d
}

// observed is what ftrack holds: the spec's values, changed by mutate.
func observed(mark string, mutate ...func(*Observed)) *Observed {
	o := &Observed{
		Type:     "Shot",
		Attrs:    map[string]any{"name": "sh010", "description": "spec"},
		Refs:     map[string]string{"parent": "seq"},
		Custom:   map[string]any{},
		Metadata: map[string]string{},
		Path:     "show / sq010 / sh010",
	}
	if mark != "" {
		o.Metadata[v1alpha1.MetadataManagedBy] = mark
	}
	for _, m := range mutate {
		m(o)
	}
	return o
}

func TestDecide(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	own := EntityIDFor(testUID)
	adopt := func(o *v1alpha1.FtrackEntity) { o.Spec.Adopt = &v1alpha1.AdoptSpec{ID: adoptedID} }
	report := func(o *v1alpha1.FtrackEntity) { o.Spec.DriftPolicy = v1alpha1.DriftPolicyReport }
	observeOnly := func(o *v1alpha1.FtrackEntity) {
		o.Spec.Management = v1alpha1.ManagementObserve
		adopt(o)
	}
	owned := func(o *v1alpha1.FtrackEntity) {
		o.Status.ID, o.Status.Ownership = own, v1alpha1.OwnershipCreated
	}
	changedInFtrack := func(o *Observed) { o.Attrs["description"] = "by hand" }
	rival := testObject(otherUID, t0.Add(-time.Hour))
	rival.Annotations = map[string]string{v1alpha1.AnnotationEntityID: adoptedID}

	type want struct {
		action    Action
		changes   []string
		drift     bool
		adopted   bool
		replaced  string
		ownership v1alpha1.Ownership
		path      string
		reason    string // of a *SpecError or *Wait
	}
	tests := map[string]struct {
		reason    string
		obj       *v1alpha1.FtrackEntity
		id        string
		have      *Observed
		markOwner *v1alpha1.FtrackEntity
		rivals    []*v1alpha1.FtrackEntity
		synced    bool
		want      want
	}{
		"Create": {
			reason: "an entity that does not exist is created under its parent's path",
			obj:    testObject(testUID, t0), id: own,
			want: want{action: ActionCreate, ownership: v1alpha1.OwnershipCreated, path: "show / sq010 / sh010"},
		},
		"NothingToDo": {
			reason: "ftrack holds the spec and the mark",
			obj:    testObject(testUID, t0, owned), id: own, have: observed(string(testUID)),
			want: want{action: ActionNone, ownership: v1alpha1.OwnershipCreated, path: "show / sq010 / sh010"},
		},
		"SpecChanged": {
			reason: "a changed spec is an update, not drift",
			obj:    testObject(testUID, t0, owned), id: own, have: observed(string(testUID), changedInFtrack),
			want: want{action: ActionUpdate, changes: []string{"attributes.description"}, ownership: v1alpha1.OwnershipCreated, path: "show / sq010 / sh010"},
		},
		"DriftCorrected": {
			reason: "a difference after this generation was synced was made in ftrack",
			obj:    testObject(testUID, t0, owned), id: own, have: observed(string(testUID), changedInFtrack), synced: true,
			want: want{action: ActionUpdate, changes: []string{"attributes.description"}, drift: true, ownership: v1alpha1.OwnershipCreated, path: "show / sq010 / sh010"},
		},
		"DriftReported": {
			reason: "driftPolicy Report leaves the change",
			obj:    testObject(testUID, t0, owned, report), id: own, have: observed(string(testUID), changedInFtrack), synced: true,
			want: want{action: ActionReportDrift, changes: []string{"attributes.description"}, drift: true, ownership: v1alpha1.OwnershipCreated, path: "show / sq010 / sh010"},
		},
		"Recreate": {
			reason: "an owned entity deleted in ftrack is created again",
			obj:    testObject(testUID, t0, owned), id: own,
			want: want{action: ActionRecreate, drift: true, ownership: v1alpha1.OwnershipCreated, path: "show / sq010 / sh010"},
		},
		"ReportDeleted": {
			reason: "under Report an owned entity deleted in ftrack stays deleted",
			obj:    testObject(testUID, t0, owned, report), id: own,
			want: want{action: ActionReportDeleted, drift: true, ownership: v1alpha1.OwnershipCreated},
		},
		"Adopt": {
			reason: "an existing entity named by adopt.id is taken over and marked",
			obj:    testObject(testUID, t0, adopt), id: adoptedID, have: observed(""),
			want: want{action: ActionUpdate, changes: []string{"metadata." + v1alpha1.MetadataManagedBy}, adopted: true, ownership: v1alpha1.OwnershipAdopted, path: "show / sq010 / sh010"},
		},
		"AdoptMissing": {
			reason: "an entity to adopt that does not exist is waited for",
			obj:    testObject(testUID, t0, adopt), id: adoptedID,
			want: want{reason: v1alpha1.ReasonAdoptionFailed},
		},
		"Observe": {
			reason: "observe-only reads and reports differences",
			obj:    testObject(testUID, t0, observeOnly), id: adoptedID, have: observed("", changedInFtrack),
			want: want{action: ActionObserve, changes: []string{"attributes.description"}, ownership: v1alpha1.OwnershipObserved, path: "show / sq010 / sh010"},
		},
		"ObserveMissing": {
			reason: "observe-only of a missing entity waits",
			obj:    testObject(testUID, t0, observeOnly), id: adoptedID,
			want: want{reason: v1alpha1.ReasonNotFoundInFtrack},
		},
		"NotOurs": {
			reason: "an existing entity named only by the annotation is not taken",
			obj:    testObject(testUID, t0), id: adoptedID, have: observed(""),
			want: want{reason: v1alpha1.ReasonOwnershipConflict},
		},
		"MarkOfAnother": {
			reason: "the mark names a live object: conflict, whatever adopt says",
			obj:    testObject(testUID, t0, adopt), id: adoptedID, have: observed(string(otherUID)), markOwner: rival,
			want: want{reason: v1alpha1.ReasonOwnershipConflict},
		},
		"OwnerGone": {
			reason: "the mark names an object that no longer exists: taken over",
			obj:    testObject(testUID, t0), id: adoptedID, have: observed(string(otherUID)),
			want: want{action: ActionUpdate, changes: []string{"metadata." + v1alpha1.MetadataManagedBy}, replaced: string(otherUID), ownership: v1alpha1.OwnershipAdopted, path: "show / sq010 / sh010"},
		},
		"OlderRival": {
			reason: "without a mark the older object's claim goes first",
			obj:    testObject(testUID, t0, adopt), id: adoptedID, have: observed(""), rivals: []*v1alpha1.FtrackEntity{rival},
			want: want{reason: v1alpha1.ReasonOwnershipConflict},
		},
		"MarkBeatsAge": {
			reason: "the mark beats an older rival",
			obj:    testObject(testUID, t0, adopt), id: adoptedID, have: observed(string(testUID)), rivals: []*v1alpha1.FtrackEntity{rival},
			want: want{action: ActionNone, ownership: v1alpha1.OwnershipAdopted, path: "show / sq010 / sh010"},
		},
		"Rename": {
			reason: "the path after a rename is the new one",
			obj: testObject(testUID, t0, owned, func(o *v1alpha1.FtrackEntity) {
				o.Spec.Attributes = map[string]apiextensionsv1.JSON{"name": js("sh011"), "description": js("spec")}
			}), id: own, have: observed(string(testUID)),
			want: want{action: ActionUpdate, changes: []string{"attributes.name"}, ownership: v1alpha1.OwnershipCreated, path: "show / sq010 / sh011"},
		},
		"WrongType": {
			reason: "an id that names an entity of another type is refused",
			obj:    testObject(testUID, t0, owned), id: own, have: observed(string(testUID), func(o *Observed) { o.Type = "Task" }),
			want: want{reason: v1alpha1.ReasonInvalidSpec},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := Input{
				Object: tc.obj, Desired: desired(t, tc.obj, tc.id), Observed: tc.have,
				MarkOwner: tc.markOwner, Rivals: tc.rivals, SyncedBefore: tc.synced,
				Owned: tc.obj.Status.Ownership == v1alpha1.OwnershipCreated || tc.obj.Status.Ownership == v1alpha1.OwnershipAdopted,
			}
			p, err := Decide(in)
			var got want
			var se *SpecError
			var w *Wait
			switch {
			case errors.As(err, &se):
				got.reason = se.Reason
			case errors.As(err, &w):
				got.reason = w.Reason
			case err != nil:
				t.Fatalf("%s: Decide: %v", tc.reason, err)
			default:
				got = want{action: p.Action, changes: ChangeNames(p.Changes), drift: p.Drift, adopted: p.Adopted, replaced: p.ReplacedOwner, ownership: p.Ownership, path: p.Path}
				if len(got.changes) == 0 {
					got.changes = nil
				}
				if p.ID != tc.id {
					t.Errorf("%s: plan id %s, want %s", tc.reason, p.ID, tc.id)
				}
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDecideDelete(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	own := EntityIDFor(testUID)
	del := func(o *v1alpha1.FtrackEntity) {
		o.Spec.DeletionPolicy = v1alpha1.DeletionPolicyDelete
		o.Status.ID, o.Status.Ownership = own, v1alpha1.OwnershipCreated
	}
	other := testObject(otherUID, t0)
	tests := map[string]struct {
		reason    string
		obj       *v1alpha1.FtrackEntity
		have      *Observed
		markOwner *v1alpha1.FtrackEntity
		blockers  []*v1alpha1.FtrackEntity
		want      string // "delete", "leave", "blocked" or "nothing"
	}{
		"Orphan":      {reason: "Orphan leaves the entity", obj: testObject(testUID, t0), have: observed(string(testUID)), want: "nothing"},
		"Delete":      {reason: "Delete deletes what the object owns", obj: testObject(testUID, t0, del), have: observed(string(testUID)), want: "delete"},
		"Gone":        {reason: "an entity already gone needs nothing", obj: testObject(testUID, t0, del), want: "nothing"},
		"NotOwned":    {reason: "an entity the object never owned is left", obj: testObject(testUID, t0, func(o *v1alpha1.FtrackEntity) { del(o); o.Status.Ownership = "" }), have: observed(""), want: "leave"},
		"MarkOfOther": {reason: "an entity another object owns is left", obj: testObject(testUID, t0, del), have: observed(string(otherUID)), markOwner: other, want: "leave"},
		"Blocked":     {reason: "descendants kept by others block the delete", obj: testObject(testUID, t0, del), have: observed(string(testUID)), blockers: []*v1alpha1.FtrackEntity{other}, want: "blocked"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d, err := DecideDelete(tc.obj, tc.obj.Status.ID, tc.have, tc.markOwner, nil, tc.blockers)
			if err != nil {
				t.Fatal(err)
			}
			got := "nothing"
			switch {
			case len(d.Blockers) > 0:
				got = "blocked"
			case d.Delete:
				got = "delete"
			case d.Leave != "":
				got = "leave"
			}
			if got != tc.want {
				t.Errorf("%s: %s (%+v), want %s", tc.reason, got, d, tc.want)
			}
		})
	}
}
