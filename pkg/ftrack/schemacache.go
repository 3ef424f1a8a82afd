package ftrack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// SchemaCacheFileName is the schema cache's file name, as the Python
// client's.
const SchemaCacheFileName = "ftrack_api_schema_cache.json"

// SchemaCachePath returns the schema cache file path, or "" when the cache
// is disabled.
func (s *Session) SchemaCachePath() string {
	if s.cfg.schemaCacheOff {
		return ""
	}
	dir := s.cfg.schemaCacheDir
	if !s.cfg.schemaCacheSet {
		dir = os.Getenv("FTRACK_API_SCHEMA_CACHE_PATH")
	}
	if dir == "" {
		dir = os.TempDir()
	}
	return filepath.Join(dir, SchemaCacheFileName)
}

// loadSchemas reads the schemas from the cache file when its hash equals
// the server's schema_hash, else asks the server and rewrites the file.
func (s *Session) loadSchemas(ctx context.Context) error {
	path := s.SchemaCachePath()
	serverHash, _ := s.serverInfo["schema_hash"].(string)
	var set *schema.Set
	if path != "" && serverHash != "" {
		set = s.readSchemaCache(path, serverHash)
	}
	if set == nil {
		raw, err := s.querySchemas(ctx)
		if err != nil {
			return err
		}
		set, err = schema.Parse(raw)
		if err != nil {
			return fmt.Errorf("ftrack: query_schemas: %w", err)
		}
		if path != "" {
			s.writeSchemaCache(path, raw)
		}
	}
	s.schemas = set
	s.types = make(map[string]*entityType, set.Len())
	for _, sc := range set.Types() {
		s.types[sc.ID] = newEntityType(sc)
	}
	return nil
}

func (s *Session) readSchemaCache(path, serverHash string) *schema.Set {
	raw, err := os.ReadFile(path) //nolint:gosec // G304: the schema cache directory is the caller's configuration
	if err != nil {
		if !os.IsNotExist(err) {
			s.logger.Warn("ftrack: cannot read schema cache", "path", path, "error", err)
		}
		return nil
	}
	hash, err := schema.HashJSON(raw)
	if err != nil {
		s.logger.Warn("ftrack: schema cache is not valid JSON", "path", path, "error", err)
		return nil
	}
	if hash != serverHash {
		s.logger.Debug("ftrack: schema cache is stale", "path", path)
		return nil
	}
	set, err := schema.Parse(raw)
	if err != nil {
		s.logger.Warn("ftrack: cannot parse schema cache", "path", path, "error", err)
		return nil
	}
	s.logger.Debug("ftrack: using schema cache", "path", path)
	return set
}

func (s *Session) writeSchemaCache(path string, raw json.RawMessage) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "    "); err != nil {
		return
	}
	out := buf.Bytes()
	tmp, err := os.CreateTemp(filepath.Dir(path), SchemaCacheFileName+".tmp*")
	if err == nil {
		_, err = tmp.Write(out)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}
	if err != nil {
		s.logger.Warn("ftrack: cannot write schema cache", "path", path, "error", err)
	}
}

// querySchemas asks the server for its schemas and returns the raw array.
func (s *Session) querySchemas(ctx context.Context) (json.RawMessage, error) {
	data, _, err := s.post(ctx, []map[string]any{{"action": "query_schemas"}})
	if err != nil {
		return nil, err
	}
	var res []json.RawMessage
	if err := json.Unmarshal(data, &res); err != nil || len(res) != 1 {
		return nil, &TransportError{Op: "query_schemas", Err: fmt.Errorf("want an array of one result: %w", err)}
	}
	return res[0], nil
}
