package schema

import "slices"

// polymorphicRoots names the base types whose subtypes the schema does not
// mark with alias_for classifiers, with the discriminator attribute the server
// always returns for them: the concrete type of a Context, Component or
// Resource row is told by context_type, system_type or resource_type.
var polymorphicRoots = map[string]string{
	"Context":   "context_type",
	"Component": "system_type",
	"Resource":  "resource_type",
}

// suffixFamilies are base types whose subtypes the schema shows only by name: every other
// type whose id ends with the base's id, with the same primary key and at least all the
// base's properties (ContextCustomAttributeValue, UserCustomAttributeValue, … are
// CustomAttributeValues: a query on the base returns their rows).
var suffixFamilies = []string{"CustomAttributeValue"}

// extraSubtypes are subtype relations of ftrack's model that the schema does not show: a
// SequenceComponent is a ContainerComponent (it has members), although its schema lacks the
// container's metadata.
var extraSubtypes = map[string][]string{"ContainerComponent": {"SequenceComponent"}}

// concreteBases are base types whose own rows exist besides their subtypes': ftrack creates
// a plain Component or ContainerComponent, and a CustomAttributeValue written through the
// base type.
var concreteBases = map[string]bool{"Component": true, "ContainerComponent": true, "CustomAttributeValue": true}

// deriveSubtypes computes the relation documented on Set.Subtypes.
func deriveSubtypes(types []*Schema, byID map[string]*Schema) map[string][]string {
	direct := make(map[string]map[string]bool)
	add := func(base, sub string) {
		if base == sub {
			return
		}
		if direct[base] == nil {
			direct[base] = make(map[string]bool)
		}
		direct[base][sub] = true
	}
	table := func(s *Schema) string {
		if s.AliasFor != nil && s.AliasFor.Classifiers == nil {
			return s.AliasFor.ID
		}
		return s.ID
	}
	for _, t := range types {
		if t.AliasFor == nil || t.AliasFor.Classifiers == nil {
			continue
		}
		for _, b := range types {
			if b.AliasFor != nil && b.AliasFor.Classifiers != nil {
				continue
			}
			if table(b) == t.AliasFor.ID {
				add(b.ID, t.ID)
			}
		}
	}
	for rootName, disc := range polymorphicRoots {
		root, ok := byID[rootName]
		if !ok {
			continue
		}
		rootCol := discriminatorColumn(root, disc)
		for _, t := range types {
			if t == root || !slices.Equal(t.PrimaryKey, root.PrimaryKey) {
				continue
			}
			if !slices.Contains(t.SystemProjections, discriminatorColumn(t, disc)) ||
				!slices.Contains(root.SystemProjections, rootCol) {
				continue
			}
			if hasAllProperties(t, root) {
				add(root.ID, t.ID)
			}
		}
	}
	for _, baseName := range suffixFamilies {
		base, ok := byID[baseName]
		if !ok {
			continue
		}
		for _, t := range types {
			if t != base && len(t.ID) > len(baseName) && t.ID[len(t.ID)-len(baseName):] == baseName &&
				slices.Equal(t.PrimaryKey, base.PrimaryKey) && hasAllProperties(t, base) {
				add(base.ID, t.ID)
			}
		}
	}
	for baseName, subs := range extraSubtypes {
		if _, ok := byID[baseName]; !ok {
			continue
		}
		for _, sub := range subs {
			if _, ok := byID[sub]; ok {
				add(baseName, sub)
			}
		}
	}
	out := make(map[string][]string, len(direct))
	for base := range direct {
		seen := map[string]bool{base: true}
		stack := []string{base}
		for len(stack) > 0 {
			cur := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for sub := range direct[cur] {
				if !seen[sub] {
					seen[sub] = true
					stack = append(stack, sub)
				}
			}
		}
		for _, t := range types {
			if t.ID != base && seen[t.ID] {
				out[base] = append(out[base], t.ID)
			}
		}
	}
	return out
}

// discriminatorColumn returns the server column of the API attribute name.
func discriminatorColumn(s *Schema, name string) string {
	if p, ok := s.Properties[name]; ok && p.AliasFor != "" {
		return p.AliasFor
	}
	return name
}

func hasAllProperties(t, root *Schema) bool {
	for name := range root.Properties {
		if _, ok := t.Properties[name]; !ok {
			return false
		}
	}
	return true
}

// Subtypes returns every direct and indirect subtype of the type id, in
// server order; nil when it has none. Subtypes are derived from the schema
// by two rules:
//
//  1. Classified subtypes. A type T whose alias_for is an object
//     {"id": X, "classifiers": {...}} is a subtype of every other type B
//     without classifiers whose table is X, where B's table is its plain
//     alias_for name or, without alias_for, its own id. Thus Task, Shot,
//     Sequence, Episode, Folder, AssetBuild and Milestone (alias_for.id "Task",
//     classifier object_typeid) are subtypes of TypedContext (alias_for
//     "Task"), and TypedContextList and AssetVersionList (alias_for.id "List",
//     classifier entity) are subtypes of List.
//  2. Discriminated subtypes. Context, Component and Resource are the roots
//     whose rows are told apart by a discriminator attribute (context_type,
//     system_type, resource_type) rather than by classifiers. For each root
//     present in the set, every other type that returns the same
//     discriminator column among its system_projections, has the same
//     primary key and has at least all the root's properties is a subtype: Context → Project, TypedContext and the
//     TypedContext subtypes; Component → FileComponent, SequenceComponent,
//     ContainerComponent; Resource → User, Group.
//  3. Named subtypes: the *CustomAttributeValue types of CustomAttributeValue (see
//     suffixFamilies), and SequenceComponent of ContainerComponent (see extraSubtypes).
//
// The relation is then closed transitively.
func (s *Set) Subtypes(id string) []string {
	return slices.Clone(s.subtypes[id])
}

// IsAbstract reports whether id is a polymorphic base type: a type that has
// subtypes, whose rows are always returned as one of its concrete subtypes. Component,
// ContainerComponent and CustomAttributeValue have subtypes and rows of their own: they are
// not abstract.
func (s *Set) IsAbstract(id string) bool {
	return len(s.subtypes[id]) > 0 && !concreteBases[id]
}

// ConcreteTypes returns the entity types a query on id can return in
// __entity_type__: id itself when it has no subtypes, otherwise its subtypes
// that have none of their own, in server order. It returns nil for an unknown
// type.
func (s *Set) ConcreteTypes(id string) []string {
	if _, ok := s.byID[id]; !ok {
		return nil
	}
	subs := s.subtypes[id]
	if len(subs) == 0 {
		return []string{id}
	}
	var out []string
	if !s.IsAbstract(id) {
		out = append(out, id)
	}
	for _, sub := range subs {
		if !s.IsAbstract(sub) {
			out = append(out, sub)
		}
	}
	return out
}

// IsA reports whether typ is base or one of its subtypes, e.g. whether a
// Shot may be stored in a reference to Context.
func (s *Set) IsA(typ, base string) bool {
	return typ == base || slices.Contains(s.subtypes[base], typ)
}
