package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
)

// CustomAttributeConfigurationType is the entity type of custom attribute configurations.
const CustomAttributeConfigurationType = "CustomAttributeConfiguration"

// ApplicableConfigs returns the configurations of all that apply to entities of es, by key.
func ApplicableConfigs(es EntityType, all []CustomAttributeConfig) map[string]CustomAttributeConfig {
	legacy, objectType := legacyEntityType(es)
	isContext := es.set.IsA(es.s.ID, "Context")
	out := map[string]CustomAttributeConfig{}
	for _, cfg := range all {
		switch {
		case cfg.IsHierarchical && isContext:
		case cfg.EntityType == legacy && (legacy != "task" || cfg.ObjectTypeID == objectType):
		default:
			continue
		}
		if _, dup := out[cfg.Key]; !dup || !cfg.IsHierarchical {
			out[cfg.Key] = cfg
		}
	}
	return out
}

// legacyEntityType returns the entity_type value custom attribute configurations use for
// es, and for TypedContext types their object type id.
func legacyEntityType(es EntityType) (string, string) {
	switch {
	case es.s.ID == "Project":
		return "show", ""
	case es.set.IsA(es.s.ID, "TypedContext"):
		return "task", es.s.Classifiers()["object_type_id"]
	case es.s.ID == "AssetVersion":
		return "assetversion", ""
	case es.s.ID == "Asset":
		return "asset", ""
	case es.set.IsA(es.s.ID, "User"):
		return "user", ""
	case es.set.IsA(es.s.ID, "List"):
		return "list", ""
	}
	return strings.ToLower(es.s.ID), ""
}

// ResolveCustomAttributes checks the spec's custom attribute values against the
// configurations that apply to the entity (configs, by key) and sets want.Custom.
//
// A key that no configuration has is a *Wait, not an error: under GitOps the configuration
// and the entities that use it arrive in one sync, in any order. declared are the keys that
// FtrackEntity objects of the same connection declare (key → object name). A key that
// differs only by case or by a small edit from a key that applies or is declared, and that
// is not declared itself, is taken for a typing error: a *SpecError.
func ResolveCustomAttributes(want *Desired, values map[string]apiextensionsv1.JSON, configs map[string]CustomAttributeConfig, declared map[string]string) error {
	want.Custom = map[string]Custom{}
	var missing []string
	for _, key := range slices.Sorted(maps.Keys(values)) {
		cfg, ok := configs[key]
		if !ok {
			missing = append(missing, key)
			continue
		}
		v, err := convertCustomAttribute(key, cfg, values[key])
		if err != nil {
			return err
		}
		want.Custom[key] = Custom{ConfigID: cfg.ID, Value: v}
	}
	if len(missing) == 0 {
		return nil
	}
	key := missing[0]
	known := slices.Sorted(maps.Keys(configs))
	if _, pending := declared[key]; !pending {
		if near := CloseKey(key, append(known, slices.Sorted(maps.Keys(declared))...)); near != "" {
			return Errorf(v1alpha1.ReasonInvalidAttribute, "customAttributes.%s: no custom attribute %q applies to %s entities; did you mean %q?", key, key, want.Type.Name(), near)
		}
	}
	msg := fmt.Sprintf("customAttributes.%s: waiting for a custom attribute configuration with key %q that applies to %s entities", key, key, want.Type.Name())
	if name, pending := declared[key]; pending {
		msg += fmt.Sprintf(" (FtrackEntity %q declares it and is not Ready yet)", name)
	}
	msg += "; configurations that apply: " + ListOrNone(known)
	return &Wait{Reason: v1alpha1.ReasonCustomAttributeNotFound, Message: msg}
}

// CloseKey returns the key of keys that key is most likely a mistyping of: the same but for
// case, one edit away for keys of four or more characters, or two edits away for keys of
// eight or more; "" when none is.
func CloseKey(key string, keys []string) string {
	lower := strings.ToLower(key)
	best, bestD := "", 3
	for _, k := range keys {
		if k == key {
			continue
		}
		d := editDistance(lower, strings.ToLower(k))
		limit := 0
		switch {
		case len(key) >= 8:
			limit = 2
		case len(key) >= 4:
			limit = 1
		}
		if d <= limit && d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// ListOrNone joins names for a message, at most ten of them.
func ListOrNone(names []string) string {
	switch {
	case len(names) == 0:
		return "none"
	case len(names) > 10:
		return strings.Join(names[:10], ", ") + fmt.Sprintf(" and %d more", len(names)-10)
	}
	return strings.Join(names, ", ")
}
