package ftrack

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
)

// PluginFunc is a compiled-in plugin: called during NewSession with the
// session and the plugin arguments (WithPluginArguments). An error aborts
// NewSession.
type PluginFunc func(s *Session, args map[string]any) error

// CullingWarning is logged when plugin arguments are dropped to match a
// Register function's signature, as the Python client warns.
const CullingWarning = "Culling passed arguments to match register function signature."

// pluginSymbols exposes this package's API to interpreted plugins.
var pluginSymbols = interp.Exports{
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftrack": {
		"Session":                  reflect.ValueOf((*Session)(nil)),
		"Entity":                   reflect.ValueOf((*Entity)(nil)),
		"Collection":               reflect.ValueOf((*Collection)(nil)),
		"Identity":                 reflect.ValueOf((*Identity)(nil)),
		"KeyValue":                 reflect.ValueOf((*KeyValue)(nil)),
		"Date":                     reflect.ValueOf((*Date)(nil)),
		"Operation":                reflect.ValueOf((*Operation)(nil)),
		"LocalHandler":             reflect.ValueOf((*LocalHandler)(nil)),
		"TopicSessionReady":        reflect.ValueOf(TopicSessionReady),
		"TopicSessionReset":        reflect.ValueOf(TopicSessionReset),
		"TopicConstructEntityType": reflect.ValueOf(TopicConstructEntityType),
		"TopicConfigureLocation":   reflect.ValueOf(TopicConfigureLocation),
	},
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event/event": {
		"Event":    reflect.ValueOf((*event.Event)(nil)),
		"NewEvent": reflect.ValueOf(event.NewEvent),
	},
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
		for _, f := range files {
			if err := s.loadPluginFile(f, args); err != nil {
				return err
			}
		}
	}
	return nil
}

// errRegister marks an error returned by a plugin's Register.
type errRegister struct{ err error }

func (e errRegister) Error() string { return e.err.Error() }

// loadPluginFile interprets one file and calls its Register. Load failures
// are logged; only an error returned by Register is returned.
func (s *Session) loadPluginFile(path string, args map[string]any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.Warn(fmt.Sprintf("Failed to load plugin from %q: %v", path, r))
			err = nil
		}
		var re errRegister
		if errors.As(err, &re) {
			err = fmt.Errorf("ftrack: plugin %s: %w", path, re.err)
		}
	}()
	src, err := os.ReadFile(path) //nolint:gosec // G304: plugin paths are the caller's configuration
	if err != nil {
		s.logger.Warn(fmt.Sprintf("Failed to load plugin from %q: %v", path, err))
		return nil
	}
	f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.PackageClauseOnly)
	if err != nil {
		s.logger.Warn(fmt.Sprintf("Failed to load plugin from %q: %v", path, err))
		return nil
	}
	i := interp.New(interp.Options{})
	if err := i.Use(stdlib.Symbols); err != nil {
		return fmt.Errorf("ftrack: plugin interpreter: %w", err)
	}
	if err := i.Use(pluginSymbols); err != nil {
		return fmt.Errorf("ftrack: plugin interpreter: %w", err)
	}
	if _, err := i.Eval(string(src)); err != nil {
		s.logger.Warn(fmt.Sprintf("Failed to load plugin from %q: %v", path, err))
		return nil
	}
	fn, err := i.Eval(f.Name.Name + ".Register")
	if err != nil || fn.Kind() != reflect.Func {
		s.logger.Warn(fmt.Sprintf("Failed to load plugin that did not define a \"Register\" function at the package level: %s", path))
		return nil
	}
	in, culled, err := s.registerArguments(fn.Type(), args)
	if err != nil {
		s.logger.Warn(fmt.Sprintf("Failed to load plugin from %q: %v", path, err))
		return nil
	}
	if culled {
		s.logger.Warn(CullingWarning, "plugin", path)
	}
	out := fn.Call(in)
	for _, o := range out {
		if o.Type().Implements(reflect.TypeFor[error]()) && !o.IsNil() {
			return errRegister{o.Interface().(error)}
		}
	}
	return nil
}

// registerArguments builds the call of a Register function: the session
// and the arguments that fit its signature, reporting whether any were
// culled.
func (s *Session) registerArguments(t reflect.Type, args map[string]any) ([]reflect.Value, bool, error) {
	if t.IsVariadic() {
		return nil, false, errors.New("variadic Register is not supported")
	}
	switch t.NumIn() {
	case 0:
		return nil, true, nil
	case 1, 2:
	default:
		return nil, false, fmt.Errorf("the plugin function Register takes %d parameters, want at most 2", t.NumIn())
	}
	sv := reflect.ValueOf(s)
	if !sv.Type().AssignableTo(t.In(0)) {
		return nil, false, fmt.Errorf("the first parameter of the plugin function Register is %s, want *ftrack.Session or any", t.In(0))
	}
	in := []reflect.Value{sv}
	if t.NumIn() == 1 {
		return in, len(args) > 0, nil
	}
	pt := t.In(1)
	switch {
	case pt.Kind() == reflect.Map && pt.Key().Kind() == reflect.String:
		m := reflect.MakeMapWithSize(pt, len(args))
		culled := false
		for k, v := range args {
			rv := reflect.ValueOf(v)
			if !rv.IsValid() {
				rv = reflect.Zero(pt.Elem())
			}
			if !rv.Type().AssignableTo(pt.Elem()) {
				culled = true
				continue
			}
			m.SetMapIndex(reflect.ValueOf(k).Convert(pt.Key()), rv)
		}
		return append(in, m), culled, nil
	case pt.Kind() == reflect.Struct:
		sv := reflect.New(pt).Elem()
		culled := false
		for k, v := range args {
			fi := structField(pt, k)
			if fi < 0 {
				culled = true
				continue
			}
			rv := reflect.ValueOf(v)
			fv := sv.Field(fi)
			switch {
			case !rv.IsValid():
			case rv.Type().AssignableTo(fv.Type()):
				fv.Set(rv)
			case rv.Type().ConvertibleTo(fv.Type()) && rv.Kind() != reflect.String && fv.Kind() != reflect.String:
				fv.Set(rv.Convert(fv.Type()))
			default:
				culled = true
			}
		}
		return append(in, sv), culled, nil
	}
	return nil, false, fmt.Errorf("the second parameter of the plugin function Register is %s, want map[string]any or a struct", pt)
}

func structField(t reflect.Type, key string) int {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if tag := f.Tag.Get("ftrack"); tag != "" {
			if tag == key {
				return i
			}
			continue
		}
		if strings.EqualFold(f.Name, key) || strings.EqualFold(f.Name, strings.ReplaceAll(key, "_", "")) {
			return i
		}
	}
	return -1
}
