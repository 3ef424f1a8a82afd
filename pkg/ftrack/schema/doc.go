// Package schema models the entity-type schemas of an ftrack server — the
// answer to the query_schemas action — and is shared by the Go client and the
// ftracktest emulator.
//
// Parse reads a query_schemas answer into a Set, keeping the original bytes so
// that the Set can be served or cached exactly as received. Set.Hash computes
// the schema_hash that the server reports in query_server_information, using
// the same canonical form as the Python client (see PythonJSON).
package schema
