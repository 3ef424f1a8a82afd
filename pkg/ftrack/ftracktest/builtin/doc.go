// Package builtin holds the ftrack emulator's own server content: the
// query_schemas answer for the entity types a studio pipeline uses (Schemas,
// SchemaSet), with the fixed ids of well-known entities.
//
// The schema is written here type by type with a small builder (see
// types.go); its facts (primary keys, required, immutable and computed lists,
// defaults, projections, alias_for names and classifiers, references) follow
// the recorded answer of a real server, and a test compares every type with
// that recording.
package builtin
