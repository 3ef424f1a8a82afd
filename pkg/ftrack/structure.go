package ftrack

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Structure makes the resource identifier under which a location stores a component: the
// Python client's structure plugins.
type Structure interface {
	// ResourceIdentifier returns where component goes; source is its resource identifier
	// in the location it is added from ("" when unknown).
	ResourceIdentifier(ctx context.Context, component *Entity, source string) (string, error)
}

// ErrStructure: a structure cannot place the component (not attached to a committed
// version, an unsupported component type).
var ErrStructure = errors.New("ftrack: structure error")

// OriginStructure passes the source's resource identifier through: the origin and
// unmanaged locations, where a component stays where it is.
type OriginStructure struct{}

// ResourceIdentifier returns source; without one it is an error.
func (OriginStructure) ResourceIdentifier(_ context.Context, component *Entity, source string) (string, error) {
	if source == "" {
		return "", fmt.Errorf("%w: no source resource identifier for %s", ErrStructure, component)
	}
	return source, nil
}

// EntityIDStructure uses the component's id: the ftrack.server location.
type EntityIDStructure struct{}

// ResourceIdentifier returns the component's id.
func (EntityIDStructure) ResourceIdentifier(_ context.Context, component *Entity, _ string) (string, error) {
	return component.ID(), nil
}

// IDStructure places a component by its id, split into four one-character directories
// under Prefix (/prefix/1/2/3/4/56789.exr), members of a container inside it, and members of
// a sequence as file.<index><file type>.
type IDStructure struct {
	Prefix string
}

// ResourceIdentifier implements Structure.
func (st IDStructure) ResourceIdentifier(ctx context.Context, c *Entity, _ string) (string, error) {
	id := c.ID()
	if len(id) < 5 {
		return "", fmt.Errorf("%w: component id %q is too short", ErrStructure, id)
	}
	split := func(rest ...string) string {
		parts := append([]string{st.Prefix}, strings.Split(id[:4], "")...)
		return strings.Trim(path.Join(append(parts, rest...)...), "/")
	}
	switch c.EntityType() {
	case "FileComponent":
		container, p, err := containerPath(ctx, st, c)
		if err != nil {
			return "", err
		}
		if container != nil {
			if container.EntityType() == "SequenceComponent" {
				return path.Join(path.Dir(p), "file."+stringAttr(c, "name")+stringAttr(c, "file_type")), nil
			}
			return path.Join(p, id+stringAttr(c, "file_type")), nil
		}
		return split(id[4:] + stringAttr(c, "file_type")), nil
	case "SequenceComponent":
		return split(id[4:], "file."+sequenceExpression(c)+stringAttr(c, "file_type")), nil
	case "ContainerComponent":
		return split(id[4:]), nil
	}
	return "", fmt.Errorf("%w: IDStructure cannot place a %s", ErrStructure, c.EntityType())
}

// StandardStructure places a component by its project's structure:
// <project>/<parents…>/<asset>/v<version>/<name><file type>, a sequence as
// <name>.%04d<file type> with its members <name>.<index><file type>, the members of another
// container inside a directory named after it. Every part is lower-cased, and characters
// other than letters, digits, '_', '.' and '-' (accents first reduced to their letter,
// other non-ASCII dropped) are replaced with IllegalCharacterSubstitute — ftrack's own
// rules. NewStandardStructure has the Python client's defaults.
type StandardStructure struct {
	// ProjectVersionsPrefix is a directory for versions published directly under the
	// project (<project>/<prefix>/<asset>/v001/…).
	ProjectVersionsPrefix string
	// IllegalCharacterSubstitute replaces each illegal character.
	IllegalCharacterSubstitute string
	// KeepIllegalCharacters turns the substitution (and the lower-casing) off.
	KeepIllegalCharacters bool
}

// NewStandardStructure returns the standard structure with "_" for illegal characters.
func NewStandardStructure() *StandardStructure {
	return &StandardStructure{IllegalCharacterSubstitute: "_"}
}

var illegalCharacter = regexp.MustCompile(`[^\w.-]`)

// Sanitise returns value as the structure writes it in a path.
func (st *StandardStructure) Sanitise(value string) string {
	if st.KeepIllegalCharacters {
		return value
	}
	var b strings.Builder
	for _, r := range norm.NFKD.String(value) {
		if r < unicode.MaxASCII {
			b.WriteRune(r)
		}
	}
	out := illegalCharacter.ReplaceAllLiteralString(b.String(), st.IllegalCharacterSubstitute)
	return strings.ToLower(strings.TrimSpace(out))
}

// ResourceIdentifier implements Structure.
func (st *StandardStructure) ResourceIdentifier(ctx context.Context, c *Entity, _ string) (string, error) {
	switch c.EntityType() {
	case "FileComponent":
		container, p, err := containerPath(ctx, st, c)
		if err != nil {
			return "", err
		}
		if container != nil {
			if container.EntityType() == "SequenceComponent" {
				name := stringAttr(container, "name") + "." + stringAttr(c, "name") + stringAttr(c, "file_type")
				return path.Join(path.Dir(p), st.Sanitise(name)), nil
			}
			return path.Join(p, st.Sanitise(stringAttr(c, "name")+stringAttr(c, "file_type"))), nil
		}
		parts, err := st.parts(ctx, c)
		if err != nil {
			return "", err
		}
		return path.Join(append(parts, st.Sanitise(stringAttr(c, "name")+stringAttr(c, "file_type")))...), nil
	case "SequenceComponent":
		parts, err := st.parts(ctx, c)
		if err != nil {
			return "", err
		}
		name := st.Sanitise(stringAttr(c, "name")) + "." + sequenceExpression(c) + st.Sanitise(stringAttr(c, "file_type"))
		return path.Join(append(parts, name)...), nil
	case "ContainerComponent":
		parts, err := st.parts(ctx, c)
		if err != nil {
			return "", err
		}
		return path.Join(append(parts, st.Sanitise(stringAttr(c, "name")))...), nil
	}
	return "", fmt.Errorf("%w: StandardStructure cannot place a %s", ErrStructure, c.EntityType())
}

// parts are the directories of c's version: project, parents, asset, v<version>.
func (st *StandardStructure) parts(ctx context.Context, c *Entity) ([]string, error) {
	s := c.Session()
	notAttached := fmt.Errorf("%w: component %s must be attached to a committed version and a committed asset with a parent context", ErrStructure, c.ID())
	v, err := c.GetContext(ctx, "version")
	if err != nil {
		return nil, err
	}
	version, _ := v.(*Entity)
	if version == nil {
		if vid, _ := c.MustGet("version_id").(string); vid != "" {
			if version, err = s.Get(ctx, "AssetVersion", vid); err != nil {
				return nil, err
			}
		}
	}
	if version == nil || version.State() == StateCreated {
		return nil, notAttached
	}
	l, err := version.GetContext(ctx, "link")
	if err != nil {
		return nil, err
	}
	link, _ := l.([]any)
	if len(link) == 0 {
		return nil, notAttached
	}
	item := func(i int, key string) string {
		m, _ := link[i].(map[string]any)
		str, _ := m[key].(string)
		return str
	}
	project, err := s.Get(ctx, "Project", item(0, "id"))
	if err != nil {
		return nil, err
	}
	if project == nil {
		return nil, notAttached
	}
	parts := []string{stringAttr(project, "name")}
	// The contexts between the project and the version; an entry for the asset itself
	// (whether ftrack's link has one is not recorded) is left out: the asset comes next.
	for i := 1; i < len(link)-1; i++ {
		if t := item(i, "type"); t != "Asset" && t != "AssetVersion" {
			parts = append(parts, item(i, "name"))
		}
	}
	if len(parts) == 1 && st.ProjectVersionsPrefix != "" {
		parts = append(parts, st.ProjectVersionsPrefix)
	}
	a, err := version.GetContext(ctx, "asset")
	if err != nil {
		return nil, err
	}
	asset, _ := a.(*Entity)
	if asset == nil {
		return nil, notAttached
	}
	n, err := version.GetContext(ctx, "version")
	if err != nil {
		return nil, err
	}
	num, _ := toFloat(n)
	parts = append(parts, stringAttr(asset, "name"), fmt.Sprintf("v%03d", int(num)))
	for i, p := range parts {
		parts[i] = st.Sanitise(p)
	}
	return parts, nil
}

// containerPath returns c's container component and its resource identifier in st, or nil
// and "" when c is in no container.
func containerPath(ctx context.Context, st Structure, c *Entity) (*Entity, string, error) {
	container, err := componentContainer(ctx, c)
	if err != nil || container == nil {
		return nil, "", err
	}
	p, err := st.ResourceIdentifier(ctx, container, "")
	if err != nil {
		return nil, "", err
	}
	return container, p, nil
}

// componentContainer returns c's container component, or nil.
func componentContainer(ctx context.Context, c *Entity) (*Entity, error) {
	if !c.HasAttribute("container") {
		return nil, nil
	}
	v, err := c.GetContext(ctx, "container")
	if err != nil {
		return nil, err
	}
	e, _ := v.(*Entity)
	return e, nil
}

// sequenceExpression is the index expression of sequence component c: %0<padding>d, or %d.
func sequenceExpression(c *Entity) string {
	p, _ := toFloat(c.MustGet("padding"))
	if p > 0 {
		return fmt.Sprintf("%%0%dd", int(p))
	}
	return "%d"
}

// stringAttr is c's attribute name as a string ("" when unset or not a string).
func stringAttr(c *Entity, name string) string {
	if !c.HasAttribute(name) {
		return ""
	}
	v, _ := c.MustGet(name).(string)
	return v
}
