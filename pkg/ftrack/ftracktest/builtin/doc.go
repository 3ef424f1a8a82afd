// Package builtin holds the ftrack emulator's own server content: the
// query_schemas answer for the entity types a studio pipeline uses (Schemas,
// SchemaSet) and the entities of a fresh ftrack site (Seed) — built-in
// locations, object types, states, statuses, task types, priorities and a
// default project schema wired to them — all with fixed, documented ids.
//
// The schema is written here type by type with a small builder (see
// types.go); its facts (primary keys, required, immutable and computed lists,
// defaults, projections, alias_for names and classifiers, references) follow
// the recorded answer of a real server, and a test compares every type with
// that recording.
package builtin
