package plan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/ftrackref"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// TestValidationFollowsTheSchema checks the attribute and required-attribute rules against
// both the emulator's schema and the real server's recorded one: the rules come from the
// schema, not from attribute names.
func TestValidationFollowsTheSchema(t *testing.T) {
	t.Parallel()
	sets := map[string]func(*testing.T) *schema.Set{
		"Emulator":  func(*testing.T) *schema.Set { return builtin.SchemaSet() },
		"Reference": func(t *testing.T) *schema.Set { return ftrackref.SchemaSet(t) },
	}
	tests := map[string]struct {
		reason     string
		typ        string
		attrs      map[string]any
		refs       []string
		adopt      bool
		wantReason string // "" means valid
		wantIn     string
	}{
		"ConfigurationObjectType": {
			reason: "object_type_id is an ordinary attribute of a custom attribute configuration",
			typ:    "CustomAttributeConfiguration", attrs: map[string]any{"key": "k", "label": "K", "entity_type": "task", "object_type_id": builtin.ShotObjectTypeID, "config": "{}"},
			refs: []string{"type"},
		},
		"ShotObjectType": {
			reason: "a shot's object type is its entity type's classifier",
			typ:    "Shot", attrs: map[string]any{"name": "sh010", "object_type_id": builtin.ShotObjectTypeID}, refs: []string{"parent"},
			wantReason: v1alpha1.ReasonInvalidAttribute, wantIn: "set by the server",
		},
		"ShotObjectTypeReference": {
			reason: "nor can the relation behind the classifier be set",
			typ:    "Shot", attrs: map[string]any{"name": "sh010"}, refs: []string{"parent", "object_type"},
			wantReason: v1alpha1.ReasonInvalidReference, wantIn: "set by the server",
		},
		"CreatedAt": {
			reason: "created_at is filled by the server",
			typ:    "Project", attrs: map[string]any{"name": "p", "full_name": "P", "created_at": "2025-01-01T00:00:00Z"}, refs: []string{"project_schema"},
			wantReason: v1alpha1.ReasonInvalidAttribute, wantIn: "read-only",
		},
		"ContextType": {
			reason: "context_type follows from the entity type",
			typ:    "Shot", attrs: map[string]any{"name": "sh010", "context_type": "task"}, refs: []string{"parent"},
			wantReason: v1alpha1.ReasonInvalidAttribute, wantIn: "read-only",
		},
		"ShotMinimal": {
			reason: "a shot needs only a name and a parent: the server fills status, type, bid, sort and the project",
			typ:    "Shot", attrs: map[string]any{"name": "sh010"}, refs: []string{"parent"},
		},
		"ProjectWithoutSchema": {
			reason: "a project's schema is required and nobody fills it",
			typ:    "Project", attrs: map[string]any{"name": "p", "full_name": "P"},
			wantReason: v1alpha1.ReasonMissingRequiredAttribute, wantIn: "references.project_schema",
		},
		"ProjectAdopted": {
			reason: "adopting creates nothing, so nothing is required",
			typ:    "Project", attrs: map[string]any{"full_name": "P"}, adopt: true,
		},
		"StatusBooleans": {
			reason: "required booleans are false unless given",
			typ:    "Status", attrs: map[string]any{"name": "Waiting"},
		},
		"LocationWithoutName": {
			reason: "a location's name is required and has no default",
			typ:    "Location", attrs: map[string]any{"label": "Disk"},
			wantReason: v1alpha1.ReasonMissingRequiredAttribute, wantIn: "attributes.name: Location.name",
		},
		"ConfigurationWithoutConfig": {
			reason: "a custom attribute configuration needs its config",
			typ:    "CustomAttributeConfiguration", attrs: map[string]any{"key": "k", "label": "K", "entity_type": "show"}, refs: []string{"type"},
			wantReason: v1alpha1.ReasonMissingRequiredAttribute, wantIn: "CustomAttributeConfiguration.config",
		},
	}
	for setName, load := range sets {
		t.Run(setName, func(t *testing.T) {
			t.Parallel()
			set := load(t)
			for name, tc := range tests {
				t.Run(name, func(t *testing.T) {
					es, err := LookupType(set, tc.typ)
					if err != nil {
						t.Fatalf("LookupType(%s): %v", tc.typ, err)
					}
					spec := &v1alpha1.FtrackEntitySpec{EntityType: tc.typ, Attributes: map[string]apiextensionsv1.JSON{}, References: map[string]v1alpha1.EntityReference{}}
					for k, v := range tc.attrs {
						spec.Attributes[k] = js(v)
					}
					for _, r := range tc.refs {
						spec.References[r] = v1alpha1.EntityReference{ID: "00000000-0000-4000-8000-000000000001"}
					}
					if tc.adopt {
						spec.Adopt = &v1alpha1.AdoptSpec{ID: "00000000-0000-4000-8000-000000000002"}
					}
					attrs, err := validateStatic(es, spec)
					if err == nil {
						err = validateRequired(es, spec, attrs)
					}
					var gotReason string
					var se *SpecError
					if errors.As(err, &se) {
						gotReason = se.Reason
					} else if err != nil {
						t.Fatalf("%s: error %v is not a SpecError", tc.reason, err)
					}
					if diff := cmp.Diff(tc.wantReason, gotReason); diff != "" {
						t.Errorf("%s: reason (-want +got):\n%s\nerror: %v", tc.reason, diff, err)
					}
					if tc.wantIn != "" && (err == nil || !strings.Contains(err.Error(), tc.wantIn)) {
						t.Errorf("%s: error = %v, want one containing %q", tc.reason, err, tc.wantIn)
					}
				})
			}
		})
	}
}

// js turns a Go value into a spec JSON value.
func js(v any) apiextensionsv1.JSON {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return apiextensionsv1.JSON{Raw: data}
}
