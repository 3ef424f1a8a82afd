// Package plugin loads ftrack event plugins written in Go source: every *.go file of the
// session's plugin paths is interpreted with yaegi, each in its own interpreter, and its
// package-level Register is called, as the Python client calls register(session, **kwargs).
//
// Import it for its effect, in the programs that load plugin files:
//
//	import _ "github.com/ftrack-operator/ftrack-operator/pkg/ftrack/plugin"
//
// Programs that do not (the operator's manager among them) do not link the interpreter;
// compiled-in plugins (ftrack.WithPlugin) need no loader.
package plugin

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"strings"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
)

func init() { ftrack.RegisterPluginLoader(Load) }

// symbols exposes the client's API to interpreted plugins.
var symbols = interp.Exports{
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftrack": {
		"Session":                  reflect.ValueOf((*ftrack.Session)(nil)),
		"Entity":                   reflect.ValueOf((*ftrack.Entity)(nil)),
		"Collection":               reflect.ValueOf((*ftrack.Collection)(nil)),
		"Identity":                 reflect.ValueOf((*ftrack.Identity)(nil)),
		"KeyValue":                 reflect.ValueOf((*ftrack.KeyValue)(nil)),
		"Date":                     reflect.ValueOf((*ftrack.Date)(nil)),
		"Operation":                reflect.ValueOf((*ftrack.Operation)(nil)),
		"LocalHandler":             reflect.ValueOf((*ftrack.LocalHandler)(nil)),
		"TopicSessionReady":        reflect.ValueOf(ftrack.TopicSessionReady),
		"TopicSessionReset":        reflect.ValueOf(ftrack.TopicSessionReset),
		"TopicConstructEntityType": reflect.ValueOf(ftrack.TopicConstructEntityType),
		"TopicConfigureLocation":   reflect.ValueOf(ftrack.TopicConfigureLocation),
		// Locations, for configure-location handlers.
		"Location":                          reflect.ValueOf((*ftrack.Location)(nil)),
		"LocationKind":                      reflect.ValueOf((*ftrack.LocationKind)(nil)),
		"ManagedLocation":                   reflect.ValueOf(ftrack.ManagedLocation),
		"UnmanagedLocation":                 reflect.ValueOf(ftrack.UnmanagedLocation),
		"OriginLocation":                    reflect.ValueOf(ftrack.OriginLocation),
		"DiskAccessor":                      reflect.ValueOf((*ftrack.DiskAccessor)(nil)),
		"NewDiskAccessor":                   reflect.ValueOf(ftrack.NewDiskAccessor),
		"StandardStructure":                 reflect.ValueOf((*ftrack.StandardStructure)(nil)),
		"NewStandardStructure":              reflect.ValueOf(ftrack.NewStandardStructure),
		"IDStructure":                       reflect.ValueOf((*ftrack.IDStructure)(nil)),
		"EntityIDStructure":                 reflect.ValueOf((*ftrack.EntityIDStructure)(nil)),
		"OriginStructure":                   reflect.ValueOf((*ftrack.OriginStructure)(nil)),
		"ComponentOptions":                  reflect.ValueOf((*ftrack.ComponentOptions)(nil)),
		"FileSequence":                      reflect.ValueOf((*ftrack.FileSequence)(nil)),
		"ParseFileSequence":                 reflect.ValueOf(ftrack.ParseFileSequence),
		"OriginLocationID":                  reflect.ValueOf(ftrack.OriginLocationID),
		"UnmanagedLocationID":               reflect.ValueOf(ftrack.UnmanagedLocationID),
		"ReviewLocationID":                  reflect.ValueOf(ftrack.ReviewLocationID),
		"ServerLocationID":                  reflect.ValueOf(ftrack.ServerLocationID),
		"TopicComponentAddedToLocation":     reflect.ValueOf(ftrack.TopicComponentAddedToLocation),
		"TopicComponentRemovedFromLocation": reflect.ValueOf(ftrack.TopicComponentRemovedFromLocation),
	},
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event/event": {
		"Event":    reflect.ValueOf((*event.Event)(nil)),
		"NewEvent": reflect.ValueOf(event.NewEvent),
	},
}

// errRegister marks an error returned by a plugin's Register.
type errRegister struct{ err error }

func (e errRegister) Error() string { return e.err.Error() }

// Load interprets one plugin file and calls its Register (it is the ftrack.PluginLoader
// this package installs). Load failures are logged to the session's logger; only an error
// returned by Register is returned.
func Load(s *ftrack.Session, path string, args map[string]any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.Logger().Warn(fmt.Sprintf("Failed to load plugin from %q: %v", path, r))
			err = nil
		}
		var re errRegister
		if errors.As(err, &re) {
			err = fmt.Errorf("ftrack: plugin %s: %w", path, re.err)
		}
	}()
	src, err := os.ReadFile(path) //nolint:gosec // G304: plugin paths are the caller's configuration
	if err != nil {
		s.Logger().Warn(fmt.Sprintf("Failed to load plugin from %q: %v", path, err))
		return nil
	}
	f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.PackageClauseOnly)
	if err != nil {
		s.Logger().Warn(fmt.Sprintf("Failed to load plugin from %q: %v", path, err))
		return nil
	}
	i := interp.New(interp.Options{})
	if err := i.Use(stdlib.Symbols); err != nil {
		return fmt.Errorf("ftrack: plugin interpreter: %w", err)
	}
	if err := i.Use(symbols); err != nil {
		return fmt.Errorf("ftrack: plugin interpreter: %w", err)
	}
	if _, err := i.Eval(string(src)); err != nil {
		s.Logger().Warn(fmt.Sprintf("Failed to load plugin from %q: %v", path, err))
		return nil
	}
	fn, err := i.Eval(f.Name.Name + ".Register")
	if err != nil || fn.Kind() != reflect.Func {
		s.Logger().Warn(fmt.Sprintf("Failed to load plugin that did not define a \"Register\" function at the package level: %s", path))
		return nil
	}
	in, culled, err := registerArguments(s, fn.Type(), args)
	if err != nil {
		s.Logger().Warn(fmt.Sprintf("Failed to load plugin from %q: %v", path, err))
		return nil
	}
	if culled {
		s.Logger().Warn(ftrack.CullingWarning, "plugin", path)
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
func registerArguments(s *ftrack.Session, t reflect.Type, args map[string]any) ([]reflect.Value, bool, error) {
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
