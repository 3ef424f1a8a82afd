package controllers

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

func TestEntityInvalidSpecsAreTerminalWithoutWrites(t *testing.T) {
	t.Parallel()
	f := newEntityFixture(t, newEmulator(t, showSeed()))
	project := func(a map[string]any) func(*v1alpha1.FtrackEntity) {
		return func(e *v1alpha1.FtrackEntity) {
			base := map[string]any{"name": "p", "full_name": "P"}
			for k, v := range a {
				base[k] = v
			}
			e.Spec.Attributes = attrs(base)
			e.Spec.References = map[string]v1alpha1.EntityReference{"project_schema": {ID: builtin.DefaultProjectSchemaID}}
		}
	}
	const parentID = "00000000-0000-4000-8000-0000000000aa"
	if err := f.server.Seed(ftracktest.Record{Type: "Project", Data: map[string]any{"id": parentID, "name": "seeded", "full_name": "Seeded", "project_schema_id": builtin.DefaultProjectSchemaID}}); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	f.server.ResetRequests()
	shot := func(mutate func(*v1alpha1.FtrackEntity)) func(*v1alpha1.FtrackEntity) {
		return func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "sh010"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: parentID}}
			mutate(e)
		}
	}
	task := func(refs map[string]v1alpha1.EntityReference) func(*v1alpha1.FtrackEntity) {
		return func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = attrs(map[string]any{"name": "comp"})
			e.Spec.References = refs
		}
	}
	tests := map[string]struct {
		reason      string
		typ         string
		mutate      func(*v1alpha1.FtrackEntity)
		wantReason  string
		wantMessage string
	}{
		"UnknownType": {
			reason: "a type the schema lacks", typ: "shot", mutate: func(*v1alpha1.FtrackEntity) {},
			wantReason: v1alpha1.ReasonUnknownEntityType, wantMessage: `did you mean "Shot"?`,
		},
		"AbstractType": {
			reason: "a base type cannot be created", typ: "TypedContext", mutate: func(*v1alpha1.FtrackEntity) {},
			wantReason: v1alpha1.ReasonUnknownEntityType, wantMessage: "base type that cannot be created",
		},
		"UnknownAttribute": {
			reason: "a misspelt attribute", typ: "Project", mutate: project(map[string]any{"ful_name": "x"}),
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: `did you mean "full_name"?`,
		},
		"ComputedAttribute": {
			reason: "computed attributes are the server's", typ: "Project", mutate: project(map[string]any{"thumbnail_url": "x"}),
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: "computed by the server",
		},
		"ReadOnlyAttribute": {
			reason: "created_at is set by the server", typ: "Project", mutate: project(map[string]any{"created_at": "2025-01-01T00:00:00Z"}),
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: "read-only",
		},
		"IDAttribute": {
			reason: "the operator chooses the id", typ: "Project", mutate: project(map[string]any{"id": "x"}),
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: "spec.adopt.id",
		},
		"StringGivenNumber": {
			reason: "a number for a string", typ: "Project", mutate: project(map[string]any{"full_name": 42}),
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: "is a string, not the number 42",
		},
		"NumberGivenString": {
			reason: "a string for a number", typ: "Shot", mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.Attributes["bid"] = js("lots") }),
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: `is a number, not the string "lots"`,
		},
		"BooleanGivenString": {
			reason: "a string for a boolean", typ: "Project", mutate: project(map[string]any{"is_private": "yes"}),
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: "is a boolean",
		},
		"BadDatetime": {
			reason: "a datetime that is not RFC 3339", typ: "Project", mutate: project(map[string]any{"start_date": "next tuesday"}),
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: "is not RFC 3339",
		},
		"RelationAsAttribute": {
			reason: "relations go under references", typ: "Shot", mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.Attributes["status"] = js("x") }),
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: "set it under references.status",
		},
		"ForeignKeyAsAttribute": {
			reason: "foreign keys go under references", typ: "Shot", mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.Attributes["type_id"] = js("x") }),
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: "references.type",
		},
		"CollectionAsAttribute": {
			reason: "collections are not managed", typ: "Project", mutate: project(map[string]any{"children": []any{}}),
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: "is a collection",
		},
		"ReferenceToScalar": {
			reason: "a reference needs a relation", typ: "Shot", mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.References["description"] = v1alpha1.EntityReference{ID: "x"} }),
			wantReason: v1alpha1.ReasonInvalidReference, wantMessage: "is not a relation",
		},
		"ReferenceUnknown": {
			reason: "a reference to an attribute the type lacks", typ: "Shot", mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.References["supervisor"] = v1alpha1.EntityReference{ID: "x"} }),
			wantReason: v1alpha1.ReasonInvalidReference, wantMessage: `has no attribute "supervisor"`,
		},
		"ReferenceWrongTypeByName": {
			reason: "a task's status cannot be a shot", typ: "Task", mutate: task(map[string]v1alpha1.EntityReference{"status": {Name: "a-shot"}}),
			wantReason: v1alpha1.ReasonInvalidReference, wantMessage: "refers to a Shot, but Task.status holds a Status",
		},
		"ReferenceWrongTypeByQuery": {
			reason: "a query that finds a type for a status", typ: "Task", mutate: task(map[string]v1alpha1.EntityReference{"status": {Query: `Type where name is "Compositing"`}}),
			wantReason: v1alpha1.ReasonInvalidReference, wantMessage: "refers to a Type, but Task.status holds a Status",
		},
		"UnknownCustomAttribute": {
			reason: "a custom attribute that does not apply", typ: "Shot", mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.CustomAttributes = attrs(map[string]any{"fstrt": 1}) }),
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: `did you mean "fstart"?`,
		},
		"CustomAttributeWrongType": {
			reason: "a number custom attribute given text", typ: "Shot", mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.CustomAttributes = attrs(map[string]any{"fstart": "ten"}) }),
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: "of type number and needs a number",
		},
		"ReservedMetadata": {
			reason: "the managed-by key is the operator's", typ: "Project", mutate: func(e *v1alpha1.FtrackEntity) {
				project(nil)(e)
				e.Spec.Metadata = map[string]string{v1alpha1.MetadataManagedBy: "me"}
			},
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: "is reserved",
		},
		"MetadataUnsupported": {
			reason: "statuses have no metadata", typ: "Status", mutate: func(e *v1alpha1.FtrackEntity) {
				e.Spec.Attributes = attrs(map[string]any{"name": "x", "is_active": true})
				e.Spec.Metadata = map[string]string{"a": "b"}
			},
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: "Status entities have no metadata",
		},
		"ObserveWithoutAdopt": {
			reason: "observe-only needs an entity to observe", typ: "Project", mutate: func(e *v1alpha1.FtrackEntity) {
				project(nil)(e)
				e.Spec.Management = v1alpha1.ManagementObserve
			},
			wantReason: v1alpha1.ReasonInvalidSpec, wantMessage: "spec.adopt",
		},
		"AdoptByUnknownAttribute": {
			reason: "adoption keys must be attributes", typ: "Project", mutate: func(e *v1alpha1.FtrackEntity) {
				project(nil)(e)
				e.Spec.Adopt = &v1alpha1.AdoptSpec{Match: map[string]string{"nmae": "x"}} //nolint:misspell // the misspelt key is what the test is about
			},
			wantReason: v1alpha1.ReasonInvalidSpec, wantMessage: `did you mean "name"?`,
		},
		"MissingRequiredAttribute": {
			reason: "a project needs a project schema, which neither the schema nor the server fills", typ: "Project", mutate: func(e *v1alpha1.FtrackEntity) {
				e.Spec.Attributes = attrs(map[string]any{"name": "p", "full_name": "P"})
			},
			wantReason: v1alpha1.ReasonMissingRequiredAttribute, wantMessage: "Project.project_schema is required by ftrack",
		},
		"MissingRequiredScalar": {
			reason: "a location needs a name before it is created", typ: "Location", mutate: func(e *v1alpha1.FtrackEntity) {
				e.Spec.Attributes = attrs(map[string]any{"label": "Studio disk"})
			},
			wantReason: v1alpha1.ReasonMissingRequiredAttribute, wantMessage: "attributes.name: Location.name is required",
		},
		"ClassifierAttribute": {
			reason: "a shot's object type follows from its entity type", typ: "Shot", mutate: shot(func(e *v1alpha1.FtrackEntity) { e.Spec.Attributes["object_type_id"] = js(builtin.ShotObjectTypeID) }),
			wantReason: v1alpha1.ReasonInvalidAttribute, wantMessage: "Shot.object_type_id is set by the server",
		},
		"InvalidQuery": {
			reason: "a query ftrack cannot parse", typ: "Task", mutate: task(map[string]v1alpha1.EntityReference{"status": {Query: `Status whre name is "x"`}}),
			wantReason: v1alpha1.ReasonInvalidReference, wantMessage: "is not valid",
		},
	}
	// The target of ReferenceWrongTypeByName: itself invalid, so that it never writes.
	f.create(f.entity("a-shot", "Shot", shot(func(e *v1alpha1.FtrackEntity) { e.Spec.Attributes["bid"] = js("lots") })))
	var mu sync.Mutex
	names := map[string]string{}
	for name, tc := range tests {
		obj := f.entity(strings.ToLower(name), tc.typ, tc.mutate)
		f.create(obj)
		mu.Lock()
		names[name] = obj.Name
		mu.Unlock()
	}
	t.Logf("%d kinds of invalid spec", len(tests))
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sub := *f
			sub.t = t
			e := sub.waitCondition(30*time.Second, names[name], v1alpha1.ConditionStalled, metav1.ConditionTrue, tc.wantReason)
			c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady)
			if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, tc.wantMessage) {
				t.Errorf("%s: Ready = %+v, want False with a message containing %q", tc.reason, c, tc.wantMessage)
			}
			if got := kstatusOf(t, e); got != status.FailedStatus {
				t.Errorf("%s: kstatus = %s, want Failed", tc.reason, got)
			}
		})
	}
	if diff := cmp.Diff(0, writeCount(f.server)); diff != "" {
		t.Errorf("writes sent to ftrack for invalid specs (-want +got):\n%s", diff)
	}
	got := map[string]int{"Project": f.server.Count("Project"), "Shot": f.server.Count("Shot"), "Task": f.server.Count("Task"), "Metadata": f.server.Count("Metadata")}
	if diff := cmp.Diff(map[string]int{"Project": 1, "Shot": 0, "Task": 0, "Metadata": 0}, got); diff != "" {
		t.Errorf("entities in ftrack (-want +got):\n%s", diff)
	}
}

func TestEntityAdmissionRejectsWhatCELCatches(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	f := &entityFixture{t: t, ns: ns, conn: "studio"}
	tests := map[string]struct {
		reason      string
		mutate      func(*v1alpha1.FtrackEntity)
		wantMessage string
	}{
		"ReferenceNameAndID": {
			reason: "a reference names one entity", wantMessage: "set exactly one of name, id and query",
			mutate: func(e *v1alpha1.FtrackEntity) {
				e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "a", ID: "b"}}
			},
		},
		"ReferenceEmpty": {
			reason: "an empty reference names nothing", wantMessage: "set exactly one of name, id and query",
			mutate: func(e *v1alpha1.FtrackEntity) {
				e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {}}
			},
		},
		"DeletionPolicy": {
			reason: "deletionPolicy is Orphan or Delete", wantMessage: "Unsupported value",
			mutate: func(e *v1alpha1.FtrackEntity) { e.Spec.DeletionPolicy = "Destroy" },
		},
		"DriftPolicy": {
			reason: "driftPolicy is Correct or Report", wantMessage: "Unsupported value",
			mutate: func(e *v1alpha1.FtrackEntity) { e.Spec.DriftPolicy = "Ignore" },
		},
		"AdoptBoth": {
			reason: "adopt by id or by match, not both", wantMessage: "set exactly one of id and match",
			mutate: func(e *v1alpha1.FtrackEntity) {
				e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: "x", Match: map[string]string{"name": "y"}}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := f.entity(strings.ToLower(name), "Project", tc.mutate)
			err := k8sClient.Create(t.Context(), e)
			if err == nil || !strings.Contains(err.Error(), tc.wantMessage) {
				t.Errorf("%s: Create error = %v, want one containing %q", tc.reason, err, tc.wantMessage)
			}
		})
	}
	t.Run("Immutable", func(t *testing.T) {
		t.Parallel()
		e := f.entity("immutable", "Project", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: "x"}
			e.Spec.Suspend = true
		})
		if err := k8sClient.Create(t.Context(), e); err != nil {
			t.Fatalf("Create: %v", err)
		}
		changes := map[string]struct {
			mutate      func(*v1alpha1.FtrackEntity)
			wantMessage string
		}{
			"entityType": {func(e *v1alpha1.FtrackEntity) { e.Spec.EntityType = "Shot" }, "entityType cannot be changed"},
			"adopt":      {func(e *v1alpha1.FtrackEntity) { e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: "y"} }, "adopt cannot be changed once set"},
		}
		for what, c := range changes {
			var err error
			// The reconciler writes status meanwhile: retry on conflicts.
			for attempt := 0; attempt < 10; attempt++ {
				var cur v1alpha1.FtrackEntity
				if err = k8sClient.Get(t.Context(), client.ObjectKeyFromObject(e), &cur); err != nil {
					t.Fatalf("Get: %v", err)
				}
				c.mutate(&cur)
				if err = k8sClient.Update(t.Context(), &cur); !apierrors.IsConflict(err) {
					break
				}
			}
			if err == nil || !strings.Contains(err.Error(), c.wantMessage) {
				t.Errorf("changing %s: Update error = %v, want one containing %q", what, err, c.wantMessage)
			}
		}
		_ = k8sClient.Delete(t.Context(), e)
	})
}
