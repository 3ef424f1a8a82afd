package ftrack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

func TestParseFileSequence(t *testing.T) {
	seq, err := ftrack.ParseFileSequence("/show/plate.%04d.exr [1001-1003, 1005, 1003]")
	if err != nil {
		t.Fatal(err)
	}
	if seq.Head != "/show/plate." || seq.Tail != ".exr" || seq.Padding != 4 || !slices.Equal(seq.Indexes, []int{1001, 1002, 1003, 1005}) {
		t.Errorf("parsed %+v", seq)
	}
	if got := seq.Path(7); got != "/show/plate.0007.exr" {
		t.Errorf("Path(7) = %s", got)
	}
	if got := seq.String(); got != "/show/plate.%04d.exr [1001-1003, 1005]" {
		t.Errorf("String() = %s", got)
	}
	if seq, err := ftrack.ParseFileSequence("/a/b.%d.dpx [9-11]"); err != nil || seq.Padding != 0 || seq.Path(9) != "/a/b.9.dpx" || seq.Expression() != "/a/b.%d.dpx" {
		t.Errorf("unpadded: %+v, %v", seq, err)
	}
	if _, err := ftrack.ParseFileSequence("/a/plate.0001.exr"); !errors.Is(err, ftrack.ErrNotASequence) {
		t.Errorf("a single file: %v, want ErrNotASequence", err)
	}
	for _, bad := range []string{"/a/b.%04d.exr [5-1]", "/a/b.%04d.exr [x]", "/a/b.%04d.exr []", "/a/b.%04d.exr [1-100000000]"} {
		if _, err := ftrack.ParseFileSequence(bad); err == nil || errors.Is(err, ftrack.ErrNotASequence) {
			t.Errorf("%s: %v, want an error naming the ranges", bad, err)
		}
	}
}

func TestStandardStructureSanitise(t *testing.T) {
	st := ftrack.NewStandardStructure()
	for in, want := range map[string]string{
		"Shot 010":        "shot_010",
		"Crème Brûlée":    "creme_brulee",
		"plate.v2-final":  "plate.v2-final",
		"a/b\\c:d":        "a_b_c_d",
		"日本 name":         "_name",
		"  Padded Name  ": "__padded_name__",
	} {
		if got := st.Sanitise(in); got != want {
			t.Errorf("Sanitise(%q) = %q, want %q", in, got, want)
		}
	}
	keep := &ftrack.StandardStructure{KeepIllegalCharacters: true}
	if got := keep.Sanitise("Shot 010"); got != "Shot 010" {
		t.Errorf("KeepIllegalCharacters: %q", got)
	}
}

// publishSetup makes a project, a shot, an asset and a committed version on the emulator,
// and a sequence of three files on disk.
func publishSetup(t *testing.T, s *ftrack.Session) (version *ftrack.Entity, pattern string, files map[string][]byte) {
	t.Helper()
	ctx := t.Context()
	project := newProject(t, s, "Gull Wing")
	seq := s.MustCreate("Sequence", map[string]any{"name": "SQ 010", "parent": project})
	shot := s.MustCreate("Shot", map[string]any{"name": "sh010", "parent": seq})
	assetType := s.MustCreate("AssetType", map[string]any{"name": "Plate", "short": "plate"})
	asset := s.MustCreate("Asset", map[string]any{"name": "BG Plate", "parent": shot, "type": assetType})
	version = s.MustCreate("AssetVersion", map[string]any{"asset": asset, "version": 3})
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files = map[string][]byte{}
	for _, f := range []string{"plate.1001.exr", "plate.1002.exr", "plate.1003.exr"} {
		data := []byte("pixels of " + f)
		files[f] = data
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return version, filepath.Join(dir, "plate.%04d.exr [1001-1003]"), files
}

// TestPublishSequenceToServerLocation: a sequence component created from a pattern and
// added to ftrack.server uploads each member's file; the server has it all, ftrack.origin
// none of it (not recorded in ftrack), and the data reads back.
func TestPublishSequenceToServerLocation(t *testing.T) {
	srv := newServer(t)
	s := newSession(t, srv)
	ctx := t.Context()
	version, pattern, files := publishSetup(t, s)
	server := s.Location(ftrack.ServerLocationID)
	if server == nil || server.Name != "ftrack.server" {
		t.Fatalf("the server location is not configured: %+v", server)
	}
	seq, err := s.CreateComponent(ctx, pattern, ftrack.ComponentOptions{Data: map[string]any{"name": "main", "version": version}, Location: server})
	if err != nil {
		t.Fatal(err)
	}
	if seq.EntityType() != "SequenceComponent" || seq.MustGet("padding") != 4 && seq.MustGet("padding") != int64(4) || seq.MustGet("file_type") != ".exr" {
		t.Errorf("the container: %v padding %v file_type %v", seq.EntityType(), seq.MustGet("padding"), seq.MustGet("file_type"))
	}
	avail, err := s.GetComponentAvailability(ctx, seq, nil)
	if err != nil {
		t.Fatal(err)
	}
	if avail[ftrack.ServerLocationID] != 100 || avail[ftrack.UnmanagedLocationID] != 0 || avail[ftrack.OriginLocationID] != 0 {
		t.Errorf("availability %v, want 100 in ftrack.server alone", avail)
	}
	members, err := s.Query(`select name, size, component_locations.resource_identifier from FileComponent where container_id is "` + seq.ID() + `"`)
	if err != nil {
		t.Fatal(err)
	}
	all, err := members.All(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("members: %d, %v", len(all), err)
	}
	for _, m := range all {
		name := "plate." + m.MustGet("name").(string) + ".exr"
		want, ok := files[name]
		if !ok {
			t.Errorf("member %v has no file %s", m.MustGet("name"), name)
			continue
		}
		if got, _ := srv.ComponentData(m.ID()); !bytes.Equal(got, want) {
			t.Errorf("the server holds %q for %s, want %q", got, name, want)
		}
		r, err := server.Open(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r)
		_ = r.Close()
		if !bytes.Equal(got, want) {
			t.Errorf("reading %s back gives %q", name, got)
		}
	}
	url, err := server.URL(ctx, all[0])
	if err != nil || !strings.Contains(url, "/component/get?") {
		t.Errorf("URL = %q, %v", url, err)
	}
	if loc, err := s.PickLocations(ctx, []*ftrack.Entity{seq}); err != nil || loc[0] != server {
		t.Errorf("PickLocations = %v, %v; want ftrack.server", loc, err)
	}

	// Added twice: refused, nothing changes.
	if err := server.AddComponent(ctx, seq, s.Location(ftrack.OriginLocationID)); !errors.Is(err, ftrack.ErrComponentInLocation) {
		t.Errorf("adding again: %v, want ErrComponentInLocation", err)
	}

	// Removed: the data and the registration go.
	if err := server.RemoveComponent(ctx, seq); err != nil {
		t.Fatal(err)
	}
	if got, ok := srv.ComponentData(all[0].ID()); ok {
		t.Errorf("the server still holds %q", got)
	}
	if a, err := server.GetComponentAvailability(ctx, seq); err != nil || a != 0 {
		t.Errorf("after removal: %v, %v", a, err)
	}
}

// TestDiskLocationWithStandardStructure: a location a configure-location handler sets up
// (a disk accessor, the standard structure) copies a file component to the path the
// project's structure gives, and is picked first for its priority.
func TestDiskLocationWithStandardStructure(t *testing.T) {
	srv := newServer(t)
	root := t.TempDir()
	configured := make(chan error, 1)
	s := newSession(t, srv, ftrack.WithPlugin(func(s *ftrack.Session, _ map[string]any) error {
		s.SubscribeLocal(ftrack.TopicConfigureLocation, func(ev event.Event) any {
			ctx, _ := ev.Data["context"].(context.Context)
			if ctx == nil {
				ctx = context.Background()
			}
			disk, err := ftrack.NewDiskAccessor(root)
			if err == nil {
				_, err = s.ConfigureLocation(ctx, &ftrack.Location{Name: "studio.disk", Accessor: disk, Priority: 1})
			}
			select {
			case configured <- err:
			default:
			}
			return nil
		})
		return nil
	}))
	if err := <-configured; err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	studio := s.Location("studio.disk")
	if studio == nil || studio.ID == "" || s.PickLocation() != studio {
		t.Fatalf("studio.disk is not configured first: %+v, picked %+v", studio, s.PickLocation())
	}
	version, _, _ := publishSetup(t, s)
	src := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(src, []byte("shot notes"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateComponent(ctx, src, ftrack.ComponentOptions{Data: map[string]any{"name": "Notes File", "version": version}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := studio.FilesystemPath(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, "gull_wing", "sq_010", "sh010", "bg_plate", "v003", "notes_file.txt")
	if p != want {
		t.Errorf("the file went to %s, want %s", p, want)
	}
	if data, err := os.ReadFile(p); err != nil || string(data) != "shot notes" {
		t.Errorf("the copy holds %q (%v)", data, err)
	}
	if a, err := studio.GetComponentAvailability(ctx, c); err != nil || a != 100 {
		t.Errorf("availability in studio.disk: %v, %v", a, err)
	}

	// The same target again is refused rather than overwritten.
	again, err := s.CreateComponent(ctx, src, ftrack.ComponentOptions{Data: map[string]any{"name": "Notes File", "version": version}})
	if !errors.Is(err, ftrack.ErrLocation) {
		t.Errorf("a second component at the same path: %v, %v; want ErrLocation", again, err)
	}
	if data, _ := os.ReadFile(p); string(data) != "shot notes" {
		t.Errorf("the first file was overwritten: %q", data)
	}

	if err := studio.RemoveComponent(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the file is still there after RemoveComponent: %v", err)
	}
}

// TestUnmanagedLocationByDefault: without a location of one's own, CreateComponent
// registers the file where it is, in ftrack.unmanaged (priority 90), as the Python client.
func TestUnmanagedLocationByDefault(t *testing.T) {
	srv := newServer(t)
	s := newSession(t, srv)
	ctx := t.Context()
	if got := s.PickLocation(); got == nil || got.ID != ftrack.UnmanagedLocationID {
		t.Fatalf("PickLocation = %+v, want ftrack.unmanaged", got)
	}
	path := filepath.Join(t.TempDir(), "ref.jpg")
	if err := os.WriteFile(path, []byte("jpeg"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateComponent(ctx, path, ftrack.ComponentOptions{Data: map[string]any{"name": "ref"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.MustGet("size") != int64(4) && c.MustGet("size") != 4 {
		t.Errorf("size %v, want 4", c.MustGet("size"))
	}
	unmanaged := s.Location(ftrack.UnmanagedLocationID)
	if got, err := unmanaged.FilesystemPath(ctx, c); err != nil || got != path {
		t.Errorf("FilesystemPath = %q, %v; want %s", got, err, path)
	}
	if _, err := s.Location(ftrack.ServerLocationID).ResourceIdentifier(ctx, c); !errors.Is(err, ftrack.ErrComponentNotInLocation) {
		t.Errorf("the server location: %v, want ErrComponentNotInLocation", err)
	}
	if _, err := s.Location(ftrack.ServerLocationID).FilesystemPath(ctx, c); err == nil {
		t.Error("the server location gave a filesystem path")
	}
	if _, err := s.CreateComponent(ctx, "/no/such/file.%04d.exr [1-2", ftrack.ComponentOptions{NoLocation: true}); err != nil {
		t.Errorf("an unclosed pattern is a file path: %v", err)
	}
	if _, err := s.CreateComponent(ctx, "/no/such/file.%04d.exr [2-1]", ftrack.ComponentOptions{NoLocation: true}); err == nil {
		t.Error("a pattern with a bad range created a component")
	}
}

// TestServerLocationUploadKeepsTheKeyOffTheStorage: the signed upload goes to the storage
// without the session's API key headers.
func TestServerLocationUploadKeepsTheKeyOffTheStorage(t *testing.T) {
	var sawKey bool
	srv := newServer(t)
	wrap := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPut && r.Header.Get(ftrack.HeaderAPIKey) != "" {
			sawKey = true
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	s := newSession(t, srv, ftrack.WithHTTPClient(wrap))
	version, pattern, _ := publishSetup(t, s)
	if _, err := s.CreateComponent(t.Context(), pattern, ftrack.ComponentOptions{Data: map[string]any{"name": "main", "version": version}, Location: s.Location(ftrack.ServerLocationID)}); err != nil {
		t.Fatal(err)
	}
	if sawKey {
		t.Error("an upload to the signed URL carried the ftrack API key")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestEncodeMediaFile uploads a file to ftrack.server and asks for its encoding: the Job
// names the new component, which the server holds; the original is not kept.
func TestEncodeMediaFile(t *testing.T) {
	srv := newServer(t)
	s := newSession(t, srv)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "review.mov")
	if err := os.WriteFile(path, []byte("moov"), 0o600); err != nil {
		t.Fatal(err)
	}
	job, err := s.EncodeMediaFile(ctx, path, ftrack.EncodeMediaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := job.MustGet("data").(string)
	if job.EntityType() != "Job" || !strings.Contains(data, `"keep_original": false`) && !strings.Contains(data, `"keep_original":false`) {
		t.Errorf("EncodeMediaFile returned %s with data %s", job.EntityType(), data)
	}
	var jd struct {
		Source string `json:"source_component_id"`
	}
	if err := json.Unmarshal([]byte(data), &jd); err != nil || jd.Source == "" {
		t.Fatalf("the job's data %s names no source component (%v)", data, err)
	}
	c, err := s.Get(ctx, "FileComponent", jd.Source)
	if err != nil || c == nil {
		t.Fatalf("the source component %s: %v", jd.Source, err)
	}
	if c.MustGet("file_type") != ".mov" {
		t.Errorf("the source component's file type is %v", c.MustGet("file_type"))
	}
	if got, ok := srv.ComponentData(c.ID()); !ok || string(got) != "moov" {
		t.Errorf("the server holds %q (%v) for the uploaded file", got, ok)
	}
	if _, err := s.EncodeMediaFile(ctx, "/a/b.%04d.mov [1-2]", ftrack.EncodeMediaOptions{}); err == nil {
		t.Error("EncodeMediaFile took a sequence")
	}
}

// TestLocationEventsAndErrorsKeepTheKey: adding and removing publish
// ftrack.location.component-added and -removed on the event hub; a failed server request
// does not show the API key, though the URL it used carries it.
func TestLocationEventsAndErrorsKeepTheKey(t *testing.T) {
	srv := newServer(t)
	s := newSession(t, srv, ftrack.WithAutoConnectEventHub(true))
	ctx := t.Context()
	got := make(chan event.Event, 8)
	for _, topic := range []string{ftrack.TopicComponentAddedToLocation, ftrack.TopicComponentRemovedFromLocation} {
		if _, err := s.EventHub().Subscribe("topic="+topic, func(_ context.Context, d *event.Delivery) (any, error) { got <- d.Event; return nil, nil }); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "still.jpg")
	if err := os.WriteFile(path, []byte("jpeg"), 0o600); err != nil {
		t.Fatal(err)
	}
	server := s.Location(ftrack.ServerLocationID)
	c, err := s.CreateComponent(ctx, path, ftrack.ComponentOptions{Location: server})
	if err != nil {
		t.Fatal(err)
	}
	wait := func(topic string) {
		t.Helper()
		select {
		case ev := <-got:
			if ev.Topic != topic || ev.Data["component_id"] != c.ID() || ev.Data["location_id"] != ftrack.ServerLocationID {
				t.Errorf("event %s %v, want %s for the component in ftrack.server", ev.Topic, ev.Data, topic)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s event within 10 s", topic)
		}
	}
	wait(ftrack.TopicComponentAddedToLocation)
	thumb, err := server.ThumbnailURL(ctx, c, 300)
	if err != nil || !strings.Contains(thumb, "/component/thumbnail?") || !strings.HasSuffix(thumb, "&size=300") {
		t.Errorf("ThumbnailURL = %q, %v", thumb, err)
	}
	if err := server.RemoveComponent(ctx, c); err != nil {
		t.Fatal(err)
	}
	wait(ftrack.TopicComponentRemovedFromLocation)

	_ = srv.Close()
	_, err = server.Accessor.Open(ctx, c.ID())
	if err == nil {
		t.Fatal("reading from a stopped server succeeded")
	}
	if strings.Contains(err.Error(), ftracktest.DefaultAPIKey) {
		t.Errorf("the error shows the API key: %v", err)
	}
}

// TestStructuresPlaceSequences: the standard structure writes a sequence's members as
// <name>.<index><file type> beside the sequence's %04d path, and a version published under
// the project itself under ProjectVersionsPrefix; IDStructure splits the id.
func TestStructuresPlaceSequences(t *testing.T) {
	srv := newServer(t)
	s := newSession(t, srv)
	ctx := t.Context()
	version, pattern, files := publishSetup(t, s)
	root := t.TempDir()
	disk, err := ftrack.NewDiskAccessor(root)
	if err != nil {
		t.Fatal(err)
	}
	studio, err := s.ConfigureLocation(ctx, &ftrack.Location{Name: "studio.disk", Accessor: disk})
	if err != nil {
		t.Fatal(err)
	}
	if studio.Priority != 95 {
		t.Errorf("default priority %d, want 95", studio.Priority)
	}
	seq, err := s.CreateComponent(ctx, pattern, ftrack.ComponentOptions{Data: map[string]any{"name": "Main Plate", "version": version}, Location: studio})
	if err != nil {
		t.Fatal(err)
	}
	rid, err := studio.ResourceIdentifier(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	if want := "gull_wing/sq_010/sh010/bg_plate/v003/main_plate.%04d.exr"; rid != want {
		t.Errorf("the sequence's resource identifier %s, want %s", rid, want)
	}
	for name, data := range files {
		index := strings.TrimSuffix(strings.TrimPrefix(name, "plate."), ".exr")
		p := filepath.Join(root, "gull_wing", "sq_010", "sh010", "bg_plate", "v003", "main_plate."+index+".exr")
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: %q, %v", p, got, err)
		}
	}
	if a, err := studio.GetComponentAvailability(ctx, seq); err != nil || a != 100 {
		t.Errorf("availability %v, %v", a, err)
	}

	// A version directly under the project.
	project, err := s.Get(ctx, "Project", version.MustGet("asset").(*ftrack.Entity).MustGet("parent").(*ftrack.Entity).MustGet("project_id").(string))
	if err != nil {
		t.Fatal(err)
	}
	assetType := s.MustCreate("AssetType", map[string]any{"name": "Edit", "short": "edit"})
	asset := s.MustCreate("Asset", map[string]any{"name": "cut", "parent": project, "type": assetType})
	top := s.MustCreate("AssetVersion", map[string]any{"asset": asset, "version": 12})
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateComponent(ctx, filepath.Join(t.TempDir(), "cut.edl"), ftrack.ComponentOptions{Data: map[string]any{"name": "cut", "version": top}, NoLocation: true})
	if err != nil {
		t.Fatal(err)
	}
	st := &ftrack.StandardStructure{ProjectVersionsPrefix: "published", IllegalCharacterSubstitute: "_"}
	if got, err := st.ResourceIdentifier(ctx, c, ""); err != nil || got != "gull_wing/published/cut/v012/cut.edl" {
		t.Errorf("under the project: %q, %v", got, err)
	}
	loose, err := s.CreateComponent(ctx, filepath.Join(t.TempDir(), "loose.txt"), ftrack.ComponentOptions{NoLocation: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ResourceIdentifier(ctx, loose, ""); !errors.Is(err, ftrack.ErrStructure) {
		t.Errorf("a component without a version: %v, want ErrStructure", err)
	}

	id := ftrack.IDStructure{Prefix: "store"}
	got, err := id.ResourceIdentifier(ctx, c, "")
	cid := c.ID()
	if want := "store/" + cid[0:1] + "/" + cid[1:2] + "/" + cid[2:3] + "/" + cid[3:4] + "/" + cid[4:] + ".edl"; err != nil || got != want {
		t.Errorf("IDStructure: %q, %v; want %s", got, err, want)
	}
	members, err := s.Query(`FileComponent where container_id is "` + seq.ID() + `" and name is "1002"`)
	if err != nil {
		t.Fatal(err)
	}
	m, err := members.One(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sid := seq.ID()
	if got, err := id.ResourceIdentifier(ctx, m, ""); err != nil || got != "store/"+sid[0:1]+"/"+sid[1:2]+"/"+sid[2:3]+"/"+sid[3:4]+"/"+sid[4:]+"/file.1002.exr" {
		t.Errorf("IDStructure of a sequence member: %q, %v", got, err)
	}
}

// TestLargeSequenceTakesFewRequests: publishing a 500-frame sequence to a disk location
// sends a constant number of /api requests (the existence check is one query, the
// registration one commit), not one per frame.
func TestLargeSequenceTakesFewRequests(t *testing.T) {
	srv := newServer(t)
	s := newSession(t, srv)
	ctx := t.Context()
	version, _, _ := publishSetup(t, s)
	dir := t.TempDir()
	for i := 1; i <= 500; i++ {
		if err := os.WriteFile(filepath.Join(dir, "f."+strconv.Itoa(i)+".dpx"), []byte{byte(i)}, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	disk, err := ftrack.NewDiskAccessor(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	studio, err := s.ConfigureLocation(ctx, &ftrack.Location{Name: "studio.disk", Accessor: disk})
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	seq, err := s.CreateComponent(ctx, filepath.Join(dir, "f.%d.dpx [1-500]"), ftrack.ComponentOptions{Data: map[string]any{"name": "scan", "version": version}, Location: studio})
	if err != nil {
		t.Fatal(err)
	}
	n := len(srv.Requests())
	if n > 8 {
		t.Errorf("publishing 500 frames took %d /api requests, want at most 8", n)
	}
	t.Logf("publishing 500 frames: %d /api requests", n)
	if size, _ := seq.MustGet("size").(int64); size != 500 {
		t.Errorf("the sequence's size %v, want 500", seq.MustGet("size"))
	}
	if a, err := studio.GetComponentAvailability(ctx, seq); err != nil || a != 100 {
		t.Errorf("availability %v, %v", a, err)
	}
}

// TestServerAccessorWritesFromAnyReader: a file is streamed (read twice: checksum, then
// upload); a reader that cannot seek is buffered. Both arrive whole.
func TestServerAccessorWritesFromAnyReader(t *testing.T) {
	srv := newServer(t)
	s := newSession(t, srv)
	ctx := t.Context()
	acc := s.Location(ftrack.ServerLocationID).Accessor
	path := filepath.Join(t.TempDir(), "big.bin")
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	file := s.MustCreate("FileComponent", map[string]any{"name": "big", "file_type": ".bin"})
	if err := acc.Write(ctx, file.ID(), file, f); err != nil {
		t.Fatal(err)
	}
	piped := s.MustCreate("FileComponent", map[string]any{"name": "piped", "file_type": ".bin"})
	if err := acc.Write(ctx, piped.ID(), piped, io.MultiReader(bytes.NewReader(data[:100]), bytes.NewReader(data[100:200]))); err != nil {
		t.Fatal(err)
	}
	if got, _ := srv.ComponentData(file.ID()); !bytes.Equal(got, data) {
		t.Errorf("the streamed upload holds %d bytes, want %d", len(got), len(data))
	}
	if got, _ := srv.ComponentData(piped.ID()); !bytes.Equal(got, data[:200]) {
		t.Errorf("the buffered upload holds %q", got)
	}
	s.Rollback()
}

// TestServerAccessorUploadsLargeFilesInParts: a file of more than two 8 MiB parts goes up as
// a multipart upload (get_upload_metadata with parts, one PUT per part, then
// complete_multipart_upload with the parts' ETags), and arrives whole.
func TestServerAccessorUploadsLargeFilesInParts(t *testing.T) {
	srv := newServer(t)
	s := newSession(t, srv)
	ctx := t.Context()
	data := make([]byte, 20<<20+12345) // three parts: 8 MiB, 8 MiB, the rest
	for i := range data {
		data[i] = byte(i * 7 % 251)
	}
	path := filepath.Join(t.TempDir(), "review.mov")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateComponent(ctx, path, ftrack.ComponentOptions{Location: s.Location(ftrack.ServerLocationID)})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := srv.ComponentData(c.ID()); !bytes.Equal(got, data) {
		t.Errorf("the server holds %d bytes, want the %d of the file", len(got), len(data))
	}
	if n := srv.RequestCount("complete_multipart_upload"); n != 1 {
		t.Errorf("%d complete_multipart_upload calls, want 1", n)
	}
	// A part the storage did not get with that ETag is refused.
	up, err := s.GetMultipartUploadMetadata(ctx, "00000000-0000-4000-8000-00000000aa01", "x.bin", 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteMultipartUpload(ctx, "00000000-0000-4000-8000-00000000aa01", up.UploadID, []ftrack.UploadedPart{{Number: 1, ETag: "0123"}}); err == nil {
		t.Error("completing with a part never uploaded succeeded")
	}
}

// TestUnconfiguredLocationIsAnError: a Location literal that was never passed to
// ConfigureLocation gives an error, not a panic.
func TestUnconfiguredLocationIsAnError(t *testing.T) {
	srv := newServer(t)
	s := newSession(t, srv)
	c := s.MustCreate("FileComponent", map[string]any{"name": "x"})
	l := &ftrack.Location{Name: "loose", Accessor: &ftrack.DiskAccessor{Prefix: t.TempDir()}, Structure: ftrack.NewStandardStructure()}
	if err := l.AddComponent(t.Context(), c, s.Location(ftrack.OriginLocationID)); !errors.Is(err, ftrack.ErrLocation) {
		t.Errorf("AddComponent: %v, want ErrLocation", err)
	}
	if _, err := l.GetComponentAvailability(t.Context(), c); !errors.Is(err, ftrack.ErrLocation) {
		t.Errorf("GetComponentAvailability: %v, want ErrLocation", err)
	}
	s.Rollback()
}
