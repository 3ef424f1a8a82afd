package controllers

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
)

func TestOwnWritesBehind(t *testing.T) {
	t.Parallel()
	obj := func(uid, rv string) *v1alpha1.FtrackEntity {
		return &v1alpha1.FtrackEntity{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shot", UID: types.UID(uid), ResourceVersion: rv}}
	}
	t0 := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		reason string
		cached *v1alpha1.FtrackEntity
		at     time.Time
		want   bool
		// thenForgotten: the write is dropped, so that the same question asked again is false.
		thenForgotten bool
	}{
		"StartVersion":   {"the cache shows the version the reconcile began from", obj("u1", "10"), t0, true, false},
		"Intermediate":   {"the cache shows the annotation patch but not the status patch", obj("u1", "11"), t0, true, false},
		"Caught":         {"the cache shows the version the status patch made", obj("u1", "12"), t0, false, true},
		"OtherObject":    {"an object of the same name but another UID is not behind", obj("u2", "10"), t0, false, true},
		"WaitedTooLong":  {"past the limit, the cache is taken as it is", obj("u1", "10"), t0.Add(cacheLagLimit + time.Second), false, true},
		"WithinTheLimit": {"just within the limit, the cache is still waited for", obj("u1", "10"), t0.Add(cacheLagLimit), true, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var w ownWrites
			w.record(obj("u1", "12"), []string{"10", "11"}, t0)
			if got := w.behind(tc.cached, tc.at); got != tc.want {
				t.Fatalf("%s: behind = %v, want %v", tc.reason, got, tc.want)
			}
			if tc.thenForgotten && w.len() != 0 {
				t.Errorf("%s: the write is still remembered", tc.reason)
			}
			if !tc.thenForgotten && w.len() != 1 {
				t.Errorf("%s: the write was forgotten", tc.reason)
			}
		})
	}
	t.Run("NothingWrittenOver", func(t *testing.T) {
		t.Parallel()
		var w ownWrites
		w.record(obj("u1", "12"), nil, t0)
		if w.len() != 0 {
			t.Errorf("a reconcile that wrote nothing over is remembered")
		}
	})
	t.Run("ExpiredEntriesAreSwept", func(t *testing.T) {
		t.Parallel()
		var w ownWrites
		for i := range 100 {
			o := obj("u1", "12")
			o.Name = fmt.Sprintf("shot%d", i)
			w.record(o, []string{"10"}, t0)
		}
		// Objects not reconciled again keep their entries until a later write sweeps them.
		w.record(obj("u1", "12"), []string{"11"}, t0.Add(cacheLagLimit+time.Second))
		if got := w.len(); got != 1 {
			t.Errorf("entries after the sweep = %d, want 1", got)
		}
	})
	t.Run("Forget", func(t *testing.T) {
		t.Parallel()
		var w ownWrites
		w.record(obj("u1", "12"), []string{"10"}, t0)
		w.forget(types.NamespacedName{Namespace: "ns", Name: "shot"})
		if w.behind(obj("u1", "10"), t0) {
			t.Errorf("a forgotten write still holds the reconcile back")
		}
	})
}

func TestQuietWait(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	waiting := []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonReferenceNotReady}}
	tests := map[string]struct {
		reason       string
		now          time.Time
		own          []metav1.Condition
		wantQuiet    bool
		wantAfterMax time.Duration
	}{
		"NewChild":      {"a new child waits without writing status", created.Add(2 * time.Second), nil, true, waitGrace - 2*time.Second},
		"GraceOver":     {"past the grace, the wait is written down", created.Add(waitGrace), nil, false, 0},
		"StatusWritten": {"an object that has a status keeps it up to date", created.Add(time.Second), waiting, false, 0},
		"ClockBehind":   {"a clock behind the creation time waits at most the grace", created.Add(-time.Minute), nil, true, waitGrace},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := &EntityReconciler{Now: func() time.Time { return tc.now }}
			obj := &v1alpha1.FtrackEntity{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(created)}}
			obj.Status.Conditions = tc.own
			after, quiet := r.quietWait(obj)
			if quiet != tc.wantQuiet {
				t.Fatalf("%s: quiet = %v, want %v", tc.reason, quiet, tc.wantQuiet)
			}
			if quiet && (after <= 0 || after > tc.wantAfterMax) {
				t.Errorf("%s: looks again after %s, want within (0, %s]", tc.reason, after, tc.wantAfterMax)
			}
		})
	}
}
