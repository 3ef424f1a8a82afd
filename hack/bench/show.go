package main

import (
	"encoding/json"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// The shape of a show: every sequence holds shotsPerSequence shots, every shot
// tasksPerShot tasks. One project holds them all.
const (
	shotsPerSequence = 40
	tasksPerShot     = 4
	connectionName   = "studio"
)

// taskTypes are the task types of a shot, one task each.
var taskTypes = [tasksPerShot]struct{ name, typeID string }{
	{"layout", builtin.LayoutTypeID},
	{"anim", builtin.AnimationTypeID},
	{"lighting", builtin.LightingTypeID},
	{"comp", builtin.CompositingTypeID},
}

// showObjects returns n FtrackEntity objects of namespace ns shaped like a show: a project,
// its sequences, their shots and the shots' tasks, parents before children. References to
// other objects are by name; task types and statuses by literal ftrack id.
func showObjects(ns, project string, n int) []*v1alpha1.FtrackEntity {
	out := make([]*v1alpha1.FtrackEntity, 0, n)
	add := func(name, typ string, attrs map[string]any, refs map[string]v1alpha1.EntityReference) bool {
		if len(out) >= n {
			return false
		}
		out = append(out, &v1alpha1.FtrackEntity{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: v1alpha1.FtrackEntitySpec{
				ConnectionRef: v1alpha1.ConnectionReference{Kind: "FtrackConnection", Name: connectionName},
				EntityType:    typ,
				Attributes:    specAttributes(attrs),
				References:    refs,
			},
		})
		return true
	}
	add(project, "Project", map[string]any{"name": project, "full_name": "Show " + project},
		map[string]v1alpha1.EntityReference{"project_schema": {ID: builtin.DefaultProjectSchemaID}})
	for s := 1; len(out) < n; s++ {
		seq := fmt.Sprintf("sq%03d", s*10)
		if !add(seq, "Sequence", map[string]any{"name": seq, "description": "sequence " + seq},
			map[string]v1alpha1.EntityReference{"parent": {Name: project}}) {
			break
		}
		for h := 1; h <= shotsPerSequence; h++ {
			shot := fmt.Sprintf("%s-sh%04d", seq, h*10)
			if !add(shot, "Shot", map[string]any{"name": fmt.Sprintf("sh%04d", h*10), "description": "shot " + shot},
				map[string]v1alpha1.EntityReference{"parent": {Name: seq}}) {
				return out
			}
			for _, tt := range taskTypes {
				if !add(shot+"-"+tt.name, "Task", map[string]any{"name": tt.name}, map[string]v1alpha1.EntityReference{
					"parent": {Name: shot},
					"type":   {ID: tt.typeID},
					"status": {ID: builtin.InProgressStatusID},
				}) {
					return out
				}
			}
		}
	}
	return out
}

// shotDescription is the description the spec of shot object name gives.
func shotDescription(name string) string { return "shot " + name }

func specAttributes(m map[string]any) map[string]apiextensionsv1.JSON {
	out := make(map[string]apiextensionsv1.JSON, len(m))
	for k, v := range m {
		raw, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		out[k] = apiextensionsv1.JSON{Raw: raw}
	}
	return out
}

// isReady reports whether an object is Ready for its current generation, as kstatus reads it.
func isReady(e *v1alpha1.FtrackEntity) bool {
	for _, c := range e.Status.Conditions {
		if c.Type == v1alpha1.ConditionReady {
			return c.Status == metav1.ConditionTrue && c.ObservedGeneration == e.Generation && e.Status.ID != ""
		}
	}
	return false
}
