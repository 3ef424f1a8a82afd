package builtin

// discriminators are the discriminator values a server sets for entities of
// a concrete type: context_type of contexts, resource_type of resources and
// system_type of components.
var discriminators = map[string]map[string]string{
	"Project":            {"context_type": "show"},
	"Task":               {"context_type": "task"},
	"Shot":               {"context_type": "task"},
	"Sequence":           {"context_type": "task"},
	"Episode":            {"context_type": "task"},
	"Folder":             {"context_type": "task"},
	"AssetBuild":         {"context_type": "task"},
	"Milestone":          {"context_type": "task"},
	"User":               {"resource_type": "user"},
	"Group":              {"resource_type": "group"},
	"Component":          {"system_type": "component"},
	"FileComponent":      {"system_type": "file"},
	"SequenceComponent":  {"system_type": "sequence"},
	"ContainerComponent": {"system_type": "container"},
}

// ImpliedValues returns the attributes whose values follow from the entity
// type alone, which a server sets on every entity of that type whatever a
// client sends: the discriminator (context_type "show" or "task",
// resource_type, system_type "file", "sequence" or "container") and the
// subtype classifiers of the built-in schema (object_type_id of a Shot,
// system_type of a TypedContextList). It returns an empty map for other
// types; the map is the caller's.
func ImpliedValues(typ string) map[string]any {
	out := map[string]any{}
	for k, v := range discriminators[typ] {
		out[k] = v
	}
	if sc, ok := SchemaSet().Get(typ); ok {
		for k, v := range sc.Classifiers() {
			out[k] = v
		}
	}
	return out
}
