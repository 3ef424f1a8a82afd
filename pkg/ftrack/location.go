package ftrack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
)

// The ids of ftrack's built-in locations.
const (
	OriginLocationID    = "ce9b348f-8809-11e3-821c-20c9d081909b"
	UnmanagedLocationID = "cb268ecc-8809-11e3-a7e2-20c9d081909b"
	ReviewLocationID    = "cd41be70-8809-11e3-b98a-20c9d081909b"
	ConnectLocationID   = "07b82a97-8cf9-11e3-9383-20c9d081909b"
	ServerLocationID    = "3a372bde-05bc-11e4-8908-20c9d081909b"
)

// Topics a location publishes on the event hub when it gains or loses a component (data:
// component_id, location_id).
const (
	TopicComponentAddedToLocation     = "ftrack.location.component-added"
	TopicComponentRemovedFromLocation = "ftrack.location.component-removed"
)

// LocationKind says how a location treats the data of its components.
type LocationKind int

const (
	// ManagedLocation copies a component's data to where its Structure says, with its
	// Accessor, and registers it in ftrack (a ComponentLocation).
	ManagedLocation LocationKind = iota
	// UnmanagedLocation registers components where they are and moves no data
	// (ftrack.unmanaged, ftrack.review).
	UnmanagedLocation
	// OriginLocation is ftrack.origin: the files a component is created from, known to
	// this session alone (nothing is registered in ftrack).
	OriginLocation
)

// Location is a configured ftrack location: the Location entity's id and name, with what
// this session uses to reach its data. The Python client configures the built-in
// locations when a session starts, then publishes ftrack.api.session.configure-location for
// plugins to configure their own; Session.ConfigureLocation is the Go form of that.
type Location struct {
	ID, Name string
	Kind     LocationKind
	// Accessor reads and writes the data; nil leaves the location inaccessible.
	Accessor Accessor
	// Structure makes resource identifiers.
	Structure Structure
	// Priority orders the locations: the lowest number is picked first (ftrack.unmanaged
	// 90, ftrack.origin 100, ftrack.review 110, ftrack.server 150; a new location 95).
	Priority int

	s      *Session
	mu     sync.Mutex
	memory map[string]string // origin: component id → resource identifier
}

// locations is the session's registry of configured locations.
type locations struct {
	mu   sync.Mutex
	byID map[string]*Location
}

// builtinLocations configures ftrack.origin, ftrack.unmanaged, ftrack.review and
// ftrack.server, as the Python client does before it publishes configure-location.
func (s *Session) builtinLocations() {
	reg := &locations{byID: map[string]*Location{}}
	disk := &DiskAccessor{}
	for _, l := range []*Location{
		{ID: OriginLocationID, Name: "ftrack.origin", Kind: OriginLocation, Accessor: disk, Structure: OriginStructure{}, Priority: 100},
		{ID: UnmanagedLocationID, Name: "ftrack.unmanaged", Kind: UnmanagedLocation, Accessor: disk, Structure: OriginStructure{}, Priority: 90},
		{ID: ReviewLocationID, Name: "ftrack.review", Kind: UnmanagedLocation, Accessor: disk, Structure: OriginStructure{}, Priority: 110},
		{ID: ServerLocationID, Name: "ftrack.server", Kind: ManagedLocation, Accessor: serverAccessor{s: s}, Structure: EntityIDStructure{}, Priority: 150},
	} {
		l.s = s
		reg.byID[l.ID] = l
	}
	s.locations.Store(reg)
}

// ConfigureLocation makes l one of the session's locations (replacing one with its id), as
// a configure-location handler does in the Python client. l.ID and l.Name name the
// Location entity; with an empty ID the Location named l.Name is ensured (created and
// committed when ftrack has none). Without a Structure a managed location uses
// NewStandardStructure; a zero Priority becomes 95, the Python default.
func (s *Session) ConfigureLocation(ctx context.Context, l *Location) (*Location, error) {
	if l == nil || (l.ID == "" && l.Name == "") {
		return nil, errors.New("ftrack: ConfigureLocation needs a location with an id or a name")
	}
	if l.ID == "" {
		e, err := s.Ensure(ctx, "Location", map[string]any{"name": l.Name}, "name")
		if err != nil {
			return nil, fmt.Errorf("ftrack: ensuring location %s: %w", l.Name, err)
		}
		l.ID = e.ID()
	}
	if l.Structure == nil && l.Kind == ManagedLocation {
		l.Structure = NewStandardStructure()
	}
	if l.Priority == 0 {
		l.Priority = 95
	}
	l.s = s
	reg := s.locations.Load()
	reg.mu.Lock()
	reg.byID[l.ID] = l
	reg.mu.Unlock()
	return l, nil
}

// Location returns the configured location with id or name, or nil.
func (s *Session) Location(idOrName string) *Location {
	reg := s.locations.Load()
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if l, ok := reg.byID[idOrName]; ok {
		return l
	}
	for _, l := range reg.byID {
		if l.Name == idOrName {
			return l
		}
	}
	return nil
}

// Locations returns the configured locations with an accessor, lowest priority number
// first (the Python client's _get_locations).
func (s *Session) Locations() []*Location {
	reg := s.locations.Load()
	reg.mu.Lock()
	var out []*Location
	for _, l := range reg.byID {
		if l.Accessor != nil {
			out = append(out, l)
		}
	}
	reg.mu.Unlock()
	slices.SortStableFunc(out, func(a, b *Location) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// PickLocation returns the accessible location with the lowest priority number, or nil.
func (s *Session) PickLocation() *Location {
	if ls := s.Locations(); len(ls) > 0 {
		return ls[0]
	}
	return nil
}

// PickLocations returns, for each component, the accessible location with the lowest
// priority number that has all of it, or nil.
func (s *Session) PickLocations(ctx context.Context, components []*Entity) ([]*Location, error) {
	candidates := s.Locations()
	avail, err := s.GetComponentAvailabilities(ctx, components, candidates)
	if err != nil {
		return nil, err
	}
	out := make([]*Location, len(components))
	for i := range components {
		for _, l := range candidates {
			if avail[i][l.ID] > 0 {
				out[i] = l
				break
			}
		}
	}
	return out, nil
}

// GetComponentAvailability returns how much of component each location has, in percent,
// by location id (locations: every configured one when nil).
func (s *Session) GetComponentAvailability(ctx context.Context, component *Entity, locs []*Location) (map[string]float64, error) {
	out, err := s.GetComponentAvailabilities(ctx, []*Entity{component}, locs)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// GetComponentAvailabilities returns GetComponentAvailability for each component: 100 for
// a location that has a file component, and for a container the share of its members
// there. Only what ftrack records counts (the origin location's files do not).
func (s *Session) GetComponentAvailabilities(ctx context.Context, components []*Entity, locs []*Location) ([]map[string]float64, error) {
	if locs == nil {
		locs = s.Locations()
	}
	if err := s.populateComponents(ctx, components); err != nil {
		return nil, err
	}
	out := make([]map[string]float64, len(components))
	for i, c := range components {
		a := make(map[string]float64, len(locs))
		for _, l := range locs {
			a[l.ID] = 0
		}
		members, err := componentMembers(ctx, c)
		if err != nil {
			return nil, err
		}
		if len(members) > 0 {
			sub, err := s.GetComponentAvailabilities(ctx, members, locs)
			if err != nil {
				return nil, err
			}
			for _, m := range sub {
				for id, pct := range m {
					a[id] += pct / float64(len(members))
				}
			}
		} else {
			v, err := c.GetContext(ctx, "component_locations")
			if err != nil {
				return nil, err
			}
			if col, ok := v.(*Collection); ok {
				for _, cl := range col.Entities() {
					if id, _ := cl.MustGet("location_id").(string); id != "" {
						if _, want := a[id]; want {
							a[id] = 100
						}
					}
				}
			}
		}
		for id, pct := range a {
			a[id] = min(100, max(0, float64(int64(pct*1e9+0.5))/1e9))
		}
		out[i] = a
	}
	return out, nil
}

// populateComponents loads the component locations (and a container's members) of
// components, one query per entity type.
func (s *Session) populateComponents(ctx context.Context, components []*Entity) error {
	byType := map[string][]*Entity{}
	var order []string
	for _, c := range components {
		t := c.EntityType()
		if _, ok := byType[t]; !ok {
			order = append(order, t)
		}
		byType[t] = append(byType[t], c)
	}
	for _, t := range order {
		proj := "component_locations.location_id"
		if byType[t][0].HasAttribute("members") {
			proj = "members, " + proj
		}
		if err := s.Populate(ctx, byType[t], proj); err != nil {
			return err
		}
	}
	return nil
}

// componentMembers returns the members of container component c (nil for a file); for a
// container not committed yet, the components created in this session inside it.
func componentMembers(ctx context.Context, c *Entity) ([]*Entity, error) {
	if !c.HasAttribute("members") {
		return nil, nil
	}
	if c.State() == StateCreated {
		var out []*Entity
		for _, e := range c.Session().Created() {
			if e.HasAttribute("container") {
				if ct, _ := e.MustGet("container").(*Entity); ct == c {
					out = append(out, e)
				}
			}
		}
		return out, nil
	}
	v, err := c.GetContext(ctx, "members")
	if err != nil {
		return nil, err
	}
	if col, ok := v.(*Collection); ok {
		return col.Entities(), nil
	}
	return nil, nil
}

// ComponentError is the error of a location operation that names components: which ones,
// and in which location. It matches ErrComponentInLocation or ErrComponentNotInLocation.
type ComponentError struct {
	Kind       error
	Location   string
	Components []string
}

func (e *ComponentError) Error() string {
	return fmt.Sprintf("%v: %s in %s", e.Kind, strings.Join(e.Components, ", "), e.Location)
}

func (e *ComponentError) Unwrap() error { return e.Kind }

// configured reports a Location that no session knows: one made with a literal and not
// passed to Session.ConfigureLocation.
func (l *Location) configured() error {
	if l == nil || l.s == nil {
		return fmt.Errorf("%w: the location is not configured in a session (Session.ConfigureLocation)", ErrLocation)
	}
	return nil
}

// ResourceIdentifier returns where l has component; ErrComponentNotInLocation when it does
// not have it.
func (l *Location) ResourceIdentifier(ctx context.Context, component *Entity) (string, error) {
	ids, err := l.ResourceIdentifiers(ctx, []*Entity{component})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// ResourceIdentifiers returns ResourceIdentifier for each component, in one query; the
// error names every component l does not have.
func (l *Location) ResourceIdentifiers(ctx context.Context, components []*Entity) ([]string, error) {
	if err := l.configured(); err != nil {
		return nil, err
	}
	found := map[string]string{}
	if l.Kind == OriginLocation {
		l.mu.Lock()
		for _, c := range components {
			if rid, ok := l.memory[c.ID()]; ok {
				found[c.ID()] = rid
			}
		}
		l.mu.Unlock()
	} else if len(components) > 0 {
		ids := make([]string, len(components))
		for i, c := range components {
			ids[i] = quoteValue(c.ID())
		}
		r, err := l.s.Query(fmt.Sprintf("select component_id, resource_identifier from ComponentLocation where location_id is %s and component_id in (%s)", quoteValue(l.ID), strings.Join(ids, ", ")))
		if err != nil {
			return nil, err
		}
		cls, err := r.All(ctx)
		if err != nil {
			return nil, err
		}
		for _, cl := range cls {
			cid, _ := cl.MustGet("component_id").(string)
			rid, _ := cl.MustGet("resource_identifier").(string)
			found[cid] = rid
		}
	}
	out := make([]string, len(components))
	var missing []string
	for i, c := range components {
		rid, ok := found[c.ID()]
		if !ok {
			missing = append(missing, c.ID())
		}
		out[i] = rid
	}
	if len(missing) > 0 {
		return nil, &ComponentError{Kind: ErrComponentNotInLocation, Location: l.Name, Components: missing}
	}
	return out, nil
}

// FilesystemPath returns the local path of component in l.
func (l *Location) FilesystemPath(ctx context.Context, component *Entity) (string, error) {
	rid, err := l.ResourceIdentifier(ctx, component)
	if err != nil {
		return "", err
	}
	if l.Accessor == nil {
		return "", fmt.Errorf("%w: %s has no accessor", ErrLocation, l.Name)
	}
	return l.Accessor.FilesystemPath(rid)
}

// URL returns a URL that reads component's data in l (for ftrack.server it carries the
// session's API key, as the Python client's: treat it as a secret).
func (l *Location) URL(ctx context.Context, component *Entity) (string, error) {
	rid, err := l.ResourceIdentifier(ctx, component)
	if err != nil {
		return "", err
	}
	if l.Accessor == nil {
		return "", fmt.Errorf("%w: %s has no accessor", ErrLocation, l.Name)
	}
	return l.Accessor.URL(rid)
}

// ThumbnailURL returns the ftrack.server location's thumbnail URL of component (size×size
// pixels at most when size is above zero); other locations have none.
func (l *Location) ThumbnailURL(ctx context.Context, component *Entity, size int) (string, error) {
	sa, ok := l.Accessor.(serverAccessor)
	if !ok {
		return "", fmt.Errorf("%w: thumbnails are served by ftrack.server, not %s", ErrAccessorUnsupported, l.Name)
	}
	rid, err := l.ResourceIdentifier(ctx, component)
	if err != nil {
		return "", err
	}
	return sa.ThumbnailURL(rid, size), nil
}

// Open reads component's data in l.
func (l *Location) Open(ctx context.Context, component *Entity) (io.ReadCloser, error) {
	rid, err := l.ResourceIdentifier(ctx, component)
	if err != nil {
		return nil, err
	}
	if l.Accessor == nil {
		return nil, fmt.Errorf("%w: %s has no accessor", ErrLocation, l.Name)
	}
	return l.Accessor.Open(ctx, rid)
}

// GetComponentAvailability returns how much of component l has, in percent.
func (l *Location) GetComponentAvailability(ctx context.Context, component *Entity) (float64, error) {
	if err := l.configured(); err != nil {
		return 0, err
	}
	a, err := l.s.GetComponentAvailability(ctx, component, []*Location{l})
	if err != nil {
		return 0, err
	}
	return a[l.ID], nil
}

// AddComponent adds component to l from source (a container's members first): a managed
// location copies the data from source's accessor to where its structure says and
// registers the component in ftrack, which commits the session's pending operations, as in
// the Python client. A component l already has is ErrComponentInLocation, and data already
// at the target is an ErrLocation: nothing is overwritten.
func (l *Location) AddComponent(ctx context.Context, component *Entity, source *Location) error {
	return l.AddComponents(ctx, []*Entity{component}, source, true)
}

// AddComponents adds components from source; recursive adds a container's members too.
func (l *Location) AddComponents(ctx context.Context, components []*Entity, source *Location, recursive bool) error {
	if l.Structure == nil {
		return fmt.Errorf("%w: %s has no structure", ErrLocation, l.Name)
	}
	if len(components) == 0 {
		return nil
	}
	if _, err := l.ResourceIdentifiers(ctx, components); err == nil {
		ids := make([]string, len(components))
		for i, c := range components {
			ids[i] = c.ID()
		}
		return &ComponentError{Kind: ErrComponentInLocation, Location: l.Name, Components: ids}
	} else if ce := (*ComponentError)(nil); !errors.As(err, &ce) {
		return err
	} else if len(ce.Components) < len(components) {
		var have []string
		for _, c := range components {
			if !slices.Contains(ce.Components, c.ID()) {
				have = append(have, c.ID())
			}
		}
		return &ComponentError{Kind: ErrComponentInLocation, Location: l.Name, Components: have}
	}
	// The resource identifiers of the components whose data is in place, in order: what
	// register records, and what an error names for cleaning up.
	var transferred []string
	for _, c := range components {
		members, err := componentMembers(ctx, c)
		if err != nil {
			return err
		}
		if len(members) > 0 && recursive {
			if err := l.AddComponents(ctx, members, source, recursive); err != nil {
				return err
			}
		}
		src := ""
		if source != nil {
			if rid, err := source.ResourceIdentifier(ctx, c); err == nil {
				src = rid
			}
		}
		rid, err := l.Structure.ResourceIdentifier(ctx, c, src)
		if err != nil {
			return l.transferError(c, err, transferred)
		}
		if err := l.addData(ctx, c, rid, source, c.HasAttribute("members")); err != nil {
			return l.transferError(c, err, transferred)
		}
		transferred = append(transferred, rid)
	}
	if err := l.register(ctx, components, transferred); err != nil {
		return fmt.Errorf("%w: registering components in %s: %w (data transferred that may need cleaning up: %s)", ErrLocation, l.Name, err, strings.Join(transferred, ", "))
	}
	for _, c := range components {
		l.s.publishHub(ctx, TopicComponentAddedToLocation, map[string]any{"component_id": c.ID(), "location_id": l.ID})
	}
	return nil
}

func (l *Location) transferError(c *Entity, err error, transferred []string) error {
	msg := fmt.Sprintf("transferring component %s to %s: %v", c.ID(), l.Name, err)
	if len(transferred) > 0 {
		msg += " (data transferred that may need cleaning up: " + strings.Join(transferred, ", ") + ")"
	}
	return fmt.Errorf("%w: %s", ErrLocation, msg)
}

// addData copies c's data from source to rid (managed locations only).
func (l *Location) addData(ctx context.Context, c *Entity, rid string, source *Location, container bool) error {
	if l.Kind != ManagedLocation {
		return nil
	}
	if l.Accessor == nil {
		return fmt.Errorf("%w: %s has no accessor", ErrLocation, l.Name)
	}
	if container {
		if c.EntityType() != "SequenceComponent" {
			return l.Accessor.MakeContainer(ctx, rid)
		}
		return nil
	}
	if source == nil || source.Accessor == nil {
		return fmt.Errorf("%w: the source location has no accessor", ErrLocation)
	}
	if dir, ok, err := l.Accessor.Container(rid); err != nil {
		return err
	} else if ok && dir != "" {
		if err := l.Accessor.MakeContainer(ctx, dir); err != nil {
			return err
		}
	}
	if exists, err := l.Accessor.Exists(ctx, rid); err != nil {
		return err
	} else if exists {
		return fmt.Errorf("%w: data already exists at %s and overwriting it could lose data", ErrLocation, rid)
	}
	srcRID, err := source.ResourceIdentifier(ctx, c)
	if err != nil {
		return err
	}
	in, err := source.Accessor.Open(ctx, srcRID)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	return l.Accessor.Write(ctx, rid, c, in)
}

// register records components at rids: in memory for the origin location, as
// ComponentLocations (committed with whatever else is pending) elsewhere.
func (l *Location) register(ctx context.Context, components []*Entity, rids []string) error {
	if l.Kind == OriginLocation {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.memory == nil {
			l.memory = map[string]string{}
		}
		for i, c := range components {
			l.memory[c.ID()] = rids[i]
		}
		return nil
	}
	for i, c := range components {
		if _, err := l.s.Create("ComponentLocation", map[string]any{"component_id": c.ID(), "location_id": l.ID, "resource_identifier": rids[i]}); err != nil {
			return err
		}
	}
	return l.s.Commit(ctx)
}

// RemoveComponent removes component (and a container's members) from l: its data, for a
// managed location, and its registration, committed at once.
func (l *Location) RemoveComponent(ctx context.Context, component *Entity) error {
	return l.RemoveComponents(ctx, []*Entity{component}, true)
}

// RemoveComponents removes components from l; recursive removes a container's members too.
func (l *Location) RemoveComponents(ctx context.Context, components []*Entity, recursive bool) error {
	for _, c := range components {
		rid, err := l.ResourceIdentifier(ctx, c)
		if err != nil {
			return err
		}
		members, err := componentMembers(ctx, c)
		if err != nil {
			return err
		}
		if len(members) > 0 && recursive {
			if err := l.RemoveComponents(ctx, members, recursive); err != nil {
				return err
			}
		}
		if l.Kind == ManagedLocation {
			if l.Accessor == nil {
				return fmt.Errorf("%w: %s has no accessor", ErrLocation, l.Name)
			}
			if err := l.Accessor.Remove(ctx, rid); err != nil && (!errors.Is(err, ErrResourceNotFound) || c.EntityType() != "SequenceComponent") {
				return err
			}
		}
		if l.Kind == OriginLocation {
			l.mu.Lock()
			delete(l.memory, c.ID())
			l.mu.Unlock()
		} else {
			r, err := l.s.Query(fmt.Sprintf("ComponentLocation where component_id is %s and location_id is %s", quoteValue(c.ID()), quoteValue(l.ID)))
			if err != nil {
				return err
			}
			cl, err := r.First(ctx)
			if err != nil {
				return err
			}
			if cl != nil {
				if err := l.s.Delete(cl); err != nil {
					return err
				}
				if err := l.s.Commit(ctx); err != nil {
					return err
				}
			}
		}
		l.s.publishHub(ctx, TopicComponentRemovedFromLocation, map[string]any{"component_id": c.ID(), "location_id": l.ID})
	}
	return nil
}

// ComponentOptions are CreateComponent's options.
type ComponentOptions struct {
	// Data is more data of the component (name, version, …), as Create takes it.
	Data map[string]any
	// Location is where the component is added; nil picks one (ftrack.review for the
	// ftrackreview-* names, else PickLocation), unless NoLocation.
	Location *Location
	// NoLocation adds the component to no location (but ftrack.origin).
	NoLocation bool
}

// CreateComponent creates a component from path, a file or a sequence pattern
// ("/path/plate.%04d.exr [1001-1100]", see ParseFileSequence; a SequenceComponent with a
// FileComponent per member), registers its files in ftrack.origin, and adds it to a
// location (which commits). Sizes are read from the files (0 for a missing one); a
// sequence given a size shares it among its members.
func (s *Session) CreateComponent(ctx context.Context, path string, opts ComponentOptions) (*Entity, error) {
	data := map[string]any{}
	for k, v := range opts.Data {
		data[k] = v
	}
	loc := opts.Location
	if loc == nil && !opts.NoLocation {
		switch data["name"] {
		case "ftrackreview-mp4", "ftrackreview-webm", "ftrackreview-image":
			loc = s.Location(ReviewLocationID)
		default:
			loc = s.PickLocation()
		}
	}
	origin := s.Location(OriginLocationID)
	seq, err := ParseFileSequence(path)
	if errors.Is(err, ErrNotASequence) {
		if _, ok := data["size"]; !ok {
			data["size"] = fileSize(path)
		}
		if _, ok := data["file_type"]; !ok {
			data["file_type"] = filepath.Ext(path)
		}
		c, err := s.Create("FileComponent", data)
		if err != nil {
			return nil, err
		}
		if err := origin.register(ctx, []*Entity{c}, []string{path}); err != nil {
			return nil, err
		}
		if loc != nil {
			if err := loc.AddComponents(ctx, []*Entity{c}, origin, false); err != nil {
				return nil, err
			}
		}
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	sizes := make([]int64, len(seq.Indexes))
	if v, ok := data["size"]; ok {
		total, _ := toFloat(v)
		for i := range sizes {
			sizes[i] = int64(total/float64(len(sizes)) + 0.5)
		}
	} else {
		var total int64
		for i, idx := range seq.Indexes {
			sizes[i] = fileSize(seq.Path(idx))
			total += sizes[i]
		}
		data["size"] = total
	}
	fileType := filepath.Ext(seq.Expression())
	if _, ok := data["padding"]; !ok {
		data["padding"] = seq.Padding
	}
	if _, ok := data["file_type"]; !ok {
		data["file_type"] = fileType
	}
	container, err := s.Create("SequenceComponent", data)
	if err != nil {
		return nil, err
	}
	members := make([]*Entity, len(seq.Indexes))
	paths := make([]string, len(seq.Indexes))
	for i, idx := range seq.Indexes {
		m, err := s.Create("FileComponent", map[string]any{"name": seq.Index(idx), "container": container, "size": sizes[i], "file_type": fileType})
		if err != nil {
			return nil, err
		}
		members[i], paths[i] = m, seq.Path(idx)
	}
	if err := origin.register(ctx, append([]*Entity{container}, members...), append([]string{seq.Expression()}, paths...)); err != nil {
		return nil, err
	}
	if loc != nil {
		if err := loc.AddComponents(ctx, []*Entity{container}, origin, true); err != nil {
			return nil, err
		}
	}
	return container, nil
}

// publishHub publishes an event on the event hub when it is connected, as the Python
// client's on_error="ignore": a location's notices never fail the operation.
func (s *Session) publishHub(ctx context.Context, topic string, data map[string]any) {
	h := s.EventHub()
	if h == nil || !h.Connected() {
		return
	}
	if err := h.Publish(ctx, event.NewEvent(topic, data)); err != nil {
		s.logger.Debug("ftrack: publishing a location event", "topic", topic, "error", err)
	}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
