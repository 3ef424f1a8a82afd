package ftrack

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// PluginFunc is a compiled-in plugin: called during NewSession with the
// session and the plugin arguments (WithPluginArguments). An error aborts
// NewSession.
type PluginFunc func(s *Session, args map[string]any) error

// CullingWarning is logged when plugin arguments are dropped to match a
// Register function's signature, as the Python client warns.
const CullingWarning = "Culling passed arguments to match register function signature."

// PluginLoader loads one plugin file found in the plugin paths and calls its
// Register with the session and the plugin arguments. It logs a file it
// cannot load to the session's logger and returns nil; only an error
// returned by Register is returned, which aborts NewSession.
type PluginLoader func(s *Session, path string, args map[string]any) error

var (
	loaderMu     sync.RWMutex
	pluginLoader PluginLoader
)

// RegisterPluginLoader installs the loader of plugin files. Importing
// github.com/ftrack-operator/ftrack-operator/pkg/ftrack/plugin installs the
// Go interpreter (yaegi), so that only programs that load plugin files link
// it; without a loader, plugin files are reported and skipped.
func RegisterPluginLoader(l PluginLoader) {
	loaderMu.Lock()
	defer loaderMu.Unlock()
	pluginLoader = l
}

func currentPluginLoader() PluginLoader {
	loaderMu.RLock()
	defer loaderMu.RUnlock()
	return pluginLoader
}

// discoverPlugins runs the compiled-in plugins, then the plugin files.
func (s *Session) discoverPlugins() error {
	args := s.cfg.pluginArguments
	if args == nil {
		args = map[string]any{}
	}
	for _, p := range s.cfg.plugins {
		if err := p(s, args); err != nil {
			return fmt.Errorf("ftrack: plugin: %w", err)
		}
	}
	load := currentPluginLoader()
	for _, root := range s.cfg.pluginPaths {
		root = strings.TrimSpace(root)
		if root == "" {
			continue
		}
		var files []string
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				s.logger.Warn("ftrack: cannot read plugin path", "path", path, "error", err)
				return nil
			}
			if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
				files = append(files, path)
			}
			return nil
		})
		sort.Strings(files)
		if len(files) > 0 && load == nil {
			s.logger.Warn("ftrack: plugin files are skipped: no plugin loader is linked (import github.com/ftrack-operator/ftrack-operator/pkg/ftrack/plugin)", "path", root, "files", len(files))
			continue
		}
		for _, f := range files {
			if err := load(s, f, args); err != nil {
				return err
			}
		}
	}
	return nil
}
