package controllers

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/plan"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// TestEntityWaitsForCustomAttributeConfiguration applies a shot that uses a custom
// attribute before the FtrackEntity that declares its configuration, as one GitOps sync
// may: the shot waits without writing, and the configuration becoming Ready wakes it well
// before its own requeue would.
func TestEntityWaitsForCustomAttributeConfiguration(t *testing.T) {
	t.Parallel()
	f := newEntityFixture(t, newEmulator(t, showSeed()))
	const parentID = "00000000-0000-4000-8000-0000000000cb"
	if err := f.server.Seed(ftracktest.Record{Type: "Project", Data: map[string]any{"id": parentID, "name": "seeded", "full_name": "Seeded", "project_schema_id": builtin.DefaultProjectSchemaID}}); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	f.server.ResetRequests()
	f.create(f.entity("sh010", "Shot", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = attrs(map[string]any{"name": "sh010"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: parentID}}
		e.Spec.CustomAttributes = attrs(map[string]any{"cut_out": 1100, "fstart": 1001})
	}))
	e := f.waitCondition(30*time.Second, "sh010", v1alpha1.ConditionReconciling, metav1.ConditionTrue, v1alpha1.ReasonCustomAttributeNotFound)
	c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady)
	for _, want := range []string{`"cut_out"`, "applies to Shot", "fstart"} {
		if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, want) {
			t.Errorf("Ready = %+v, want False with a message containing %q", c, want)
		}
	}
	if meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionStalled) != nil {
		t.Errorf("a missing custom attribute is a wait, not terminal; conditions:\n%s", conditionsText(e.Status.Conditions))
	}
	if diff := cmp.Diff(0, writeCount(f.server)); diff != "" {
		t.Errorf("writes sent to ftrack while waiting for a custom attribute (-want +got):\n%s", diff)
	}

	// A non-hierarchical configuration restricted to shots: object_type_id is writable on
	// configurations.
	f.create(f.entity("cut-out", "CustomAttributeConfiguration", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = attrs(map[string]any{
			"key": "cut_out", "label": "Cut out", "entity_type": "task", "object_type_id": builtin.ShotObjectTypeID,
			"is_hierarchical": false, "config": `{"isdecimal": false}`, "default": 1100,
		})
		e.Spec.References = map[string]v1alpha1.EntityReference{"type": {ID: builtin.NumberCustomAttributeTypeID}}
	}))
	f.waitReady(30*time.Second, "cut-out")
	// Shorter than the shot's requeue (customAttributeWaitMin): only the wake-up can make it.
	f.waitReady(customAttributeWaitMin-5*time.Second, "sh010")
	cfg, ok := f.server.Get("CustomAttributeConfiguration", mustStatusID(t, f, "cut-out"))
	if !ok || cfg["object_type_id"] != builtin.ShotObjectTypeID {
		t.Errorf("configuration in ftrack = %v, want one restricted to the Shot object type", cfg)
	}
	// kubectl's FTRACK-NAME column: a configuration is named by its key, a shot by its name.
	for name, want := range map[string]string{"cut-out": "cut_out", "sh010": "sh010"} {
		if e, err := f.get(name); err != nil || e.Status.DisplayName != want {
			t.Errorf("%s: status.displayName = %q (%v), want %q", name, e.Status.DisplayName, err, want)
		}
	}
	if diff := cmp.Diff(map[string]int{"Shot": 1, "CustomAttributeConfiguration": 3},
		map[string]int{"Shot": f.server.Count("Shot"), "CustomAttributeConfiguration": f.server.Count("CustomAttributeConfiguration")}); diff != "" {
		t.Errorf("entities in ftrack (-want +got):\n%s", diff)
	}
}

func mustStatusID(t *testing.T, f *entityFixture, name string) string {
	t.Helper()
	e, err := f.get(name)
	if err != nil || e.Status.ID == "" {
		t.Fatalf("reading the id of %s: %v (status.id %q)", name, err, e.Status.ID)
	}
	return e.Status.ID
}

func TestCloseKey(t *testing.T) {
	t.Parallel()
	keys := []string{"fstart", "fend", "cut_in", "handles_head", "Brief"}
	tests := map[string]struct {
		reason string
		key    string
		want   string
	}{
		"Case":          {reason: "a key that differs only by case is a typing error", key: "brief", want: "Brief"},
		"OneEdit":       {reason: "one edit in a key of four or more characters", key: "fstrt", want: "fstart"},
		"TwoEditsLong":  {reason: "two edits in a long key", key: "handle_hed", want: "handles_head"},
		"TwoEditsShort": {reason: "two edits in a short key may be a new attribute", key: "cut_up", want: ""},
		"ShortKey":      {reason: "a three-letter key is too short to guess at", key: "fen", want: ""},
		"New":           {reason: "an unrelated key waits for its configuration", key: "cut_out", want: ""},
		"Exact":         {reason: "a key is not a typing error of itself", key: "fend", want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, plan.CloseKey(tc.key, keys)); diff != "" {
				t.Errorf("%s: plan.CloseKey(%q) (-want +got):\n%s", tc.reason, tc.key, diff)
			}
		})
	}
}

func TestCustomAttributeBackoffGrows(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	waiting := func(since time.Duration, reason string) *v1alpha1.FtrackEntity {
		e := &v1alpha1.FtrackEntity{}
		e.Status.Conditions = []metav1.Condition{{
			Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: reason,
			LastTransitionTime: metav1.NewTime(now.Add(-since)),
		}}
		return e
	}
	tests := map[string]struct {
		reason string
		obj    *v1alpha1.FtrackEntity
		want   time.Duration
	}{
		"First":    {reason: "the first wait is the shortest", obj: &v1alpha1.FtrackEntity{}, want: customAttributeWaitMin},
		"Other":    {reason: "a wait for something else starts afresh", obj: waiting(time.Hour, v1alpha1.ReasonReferenceNotReady), want: customAttributeWaitMin},
		"Grows":    {reason: "the wait grows with the time waited", obj: waiting(3*time.Minute, v1alpha1.ReasonCustomAttributeNotFound), want: 3 * time.Minute},
		"Bounded":  {reason: "the wait is bounded", obj: waiting(5*time.Hour, v1alpha1.ReasonCustomAttributeNotFound), want: customAttributeWaitMax},
		"TooEarly": {reason: "never shorter than the minimum", obj: waiting(time.Second, v1alpha1.ReasonCustomAttributeNotFound), want: customAttributeWaitMin},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, customAttributeBackoff(tc.obj, now)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}
