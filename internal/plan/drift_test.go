package plan

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

func TestEqualValues(t *testing.T) {
	t.Parallel()
	utc := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		reason string
		a, b   any
		want   bool
	}{
		"DatetimeZones":    {reason: "the same instant in two zones", a: time.Date(2026, 1, 5, 9, 0, 0, 0, time.FixedZone("CET", 3600)), b: utc, want: true},
		"DatetimeFraction": {reason: "the server keeps whole seconds", a: utc.Add(400 * time.Millisecond), b: utc, want: true},
		"DatetimeDiffers":  {reason: "another second", a: utc.Add(time.Second), b: utc},
		"DateAndMidnight":  {reason: "a date is midnight UTC", a: ftrack.Date{Year: 2026, Month: 1, Day: 5}, b: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), want: true},
		"IntAndFloat":      {reason: "1001 and 1001.0 are one number", a: int64(1001), b: float64(1001), want: true},
		"JSONNumber":       {reason: "a decoded number", a: json.Number("2.50"), b: 2.5, want: true},
		"NumberAndString":  {reason: "types differ", a: 1.0, b: "1"},
		"Strings":          {reason: "different text", a: "a", b: "b"},
		"NilAndEmpty":      {reason: "null is not the empty string", a: nil, b: ""},
		"Objects":          {reason: "key order does not matter", a: map[string]any{"a": 1, "b": []any{int64(2)}}, b: map[string]any{"b": []any{2.0}, "a": 1.0}, want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := EqualValues(tc.a, tc.b); got != tc.want {
				t.Errorf("%s: EqualValues(%v, %v) = %v, want %v", tc.reason, tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestDiffEntity(t *testing.T) {
	t.Parallel()
	es, err := LookupType(builtin.SchemaSet(), "Shot")
	if err != nil {
		t.Fatal(err)
	}
	want := &Desired{
		Type:     es,
		Attrs:    map[string]any{"name": "sh010", "start_date": time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		Refs:     map[string]Ref{"parent": {ID: "p1", Type: "Sequence"}},
		Custom:   map[string]Custom{"fstart": {ConfigID: "c1", Value: 1001.0}},
		Metadata: map[string]string{"lens": "35mm", "new": "x"},
	}
	tests := map[string]struct {
		reason string
		have   *Observed
		want   []string
	}{
		"Equal": {
			reason: "equal values after normalisation need nothing",
			have: &Observed{
				Attrs:    map[string]any{"name": "sh010", "start_date": time.Date(2026, 3, 1, 1, 0, 0, 0, time.FixedZone("CET", 3600))},
				Refs:     map[string]string{"parent": "p1"},
				Custom:   map[string]any{"fstart": int64(1001)},
				Metadata: map[string]string{"lens": "35mm", "new": "x", "other": "left alone"},
			},
		},
		"Everything": {
			reason: "every kind of difference is listed",
			have: &Observed{
				Attrs:    map[string]any{"name": "sh020"},
				Refs:     map[string]string{"parent": "p2"},
				Custom:   map[string]any{"fstart": 1002.0},
				Metadata: map[string]string{"lens": "50mm"},
			},
			want: []string{"attributes.name", "attributes.start_date", "references.parent", "customAttributes.fstart", "metadata.lens", "metadata.new"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := ChangeNames(Diff(want, tc.have))
			if len(got) == 0 {
				got = nil
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDriftReport(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	changes := []Change{
		{Kind: ChangeMetadata, Name: "lens", Want: "35mm", Have: "50mm", HaveSet: true},
		{Kind: ChangeAttribute, Name: "bid", Want: 2.0, Have: int64(3), HaveSet: true},
		{Kind: ChangeCustomAttribute, Name: "fstart", Want: 1001.0},
	}
	got := DriftReport(changes, now, false, true)
	want := []v1alpha1.AttributeDrift{
		{Name: "attributes.bid", Expected: "2", Actual: "3"},
		{Name: "customAttributes.fstart", Expected: "1001"},
		{Name: "metadata.lens", Expected: `"35mm"`, Actual: `"50mm"`},
	}
	if diff := cmp.Diff(want, got.Attributes); diff != "" {
		t.Errorf("drift attributes (-want +got):\n%s", diff)
	}
	if !got.Corrected || got.Deleted || !got.Time.Time.Equal(now) {
		t.Errorf("drift report %+v, want corrected at %s", got, now)
	}
}
