package ftracktest

import "github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"

// builtinSchemas returns the built-in query_schemas answer.
func builtinSchemas() []byte { return builtin.Schemas() }

// builtinSeed returns the entities of a fresh site.
func builtinSeed() []Record {
	var out []Record
	for _, r := range builtin.Seed().Records {
		out = append(out, Record{Type: r.Type, Data: r.Data})
	}
	return out
}
