package ftrack

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // G501: ftrack's upload checksum (Content-MD5) is an MD5 digest
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Errors of accessors and locations; test with errors.Is.
var (
	// ErrAccessorUnsupported: the accessor cannot do this (a server location has no
	// filesystem path).
	ErrAccessorUnsupported = errors.New("ftrack: operation not supported by the location's accessor")
	// ErrResourceNotFound: no data at the resource identifier.
	ErrResourceNotFound = errors.New("ftrack: resource not found")
	// ErrResourceOutsidePrefix: a resource identifier outside a disk accessor's prefix.
	ErrResourceOutsidePrefix = errors.New("ftrack: resource identifier outside the accessor's prefix")
	// ErrComponentInLocation: adding a component a location already has.
	ErrComponentInLocation = errors.New("ftrack: component already in location")
	// ErrComponentNotInLocation: a component the location does not have.
	ErrComponentNotInLocation = errors.New("ftrack: component not in location")
	// ErrLocation: a location that cannot do what was asked (no accessor, no structure,
	// data already at the target).
	ErrLocation = errors.New("ftrack: location error")
)

// Accessor reads and writes the data of a location's components, addressed by resource
// identifiers its Structure makes: the Python client's accessor. DiskAccessor stores them
// under a directory; the ftrack.server location's accessor uploads to ftrack.
type Accessor interface {
	// Exists reports whether there is data at id.
	Exists(ctx context.Context, id string) (bool, error)
	// Open reads the data at id; ErrResourceNotFound when there is none.
	Open(ctx context.Context, id string) (io.ReadCloser, error)
	// Write stores data at id for component (whose name, file type and size it may
	// use), replacing what is there.
	Write(ctx context.Context, id string, component *Entity, data io.Reader) error
	// Remove deletes the data at id (a file, or an empty container).
	Remove(ctx context.Context, id string) error
	// MakeContainer makes the container id and the containers above it.
	MakeContainer(ctx context.Context, id string) error
	// Container returns the container of id, or "" with ok false when it has none.
	Container(id string) (container string, ok bool, err error)
	// FilesystemPath returns the local path of id (ErrAccessorUnsupported without one).
	FilesystemPath(id string) (string, error)
	// URL returns a URL that reads id (ErrAccessorUnsupported without one).
	URL(id string) (string, error)
}

// DiskAccessor stores data as files under Prefix (a local directory); a resource
// identifier is a path relative to it. An empty Prefix takes identifiers as paths of their
// own (the origin and unmanaged locations).
type DiskAccessor struct {
	Prefix string
}

// NewDiskAccessor returns a DiskAccessor for prefix, made absolute (with ~ and environment
// variables expanded, as the Python client does).
func NewDiskAccessor(prefix string) (*DiskAccessor, error) {
	if prefix == "" {
		return &DiskAccessor{}, nil
	}
	prefix = os.ExpandEnv(prefix)
	if rest, ok := strings.CutPrefix(prefix, "~"); ok && (rest == "" || rest[0] == '/' || rest[0] == filepath.Separator) {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, err
		}
		prefix = home + rest
	}
	abs, err := filepath.Abs(prefix)
	if err != nil {
		return nil, err
	}
	return &DiskAccessor{Prefix: abs}, nil
}

// FilesystemPath returns the path of id: joined to Prefix when relative, and refused with
// ErrResourceOutsidePrefix when it leaves Prefix.
func (d *DiskAccessor) FilesystemPath(id string) (string, error) {
	p := id
	if p != "" {
		p = filepath.Clean(filepath.FromSlash(p))
	}
	if d.Prefix == "" {
		return p, nil
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(d.Prefix, p)
	}
	if p != d.Prefix && !strings.HasPrefix(p, d.Prefix+string(filepath.Separator)) {
		return "", fmt.Errorf("%w: %q (prefix %s)", ErrResourceOutsidePrefix, id, d.Prefix)
	}
	return p, nil
}

func diskError(op, id string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s %q: %w", ErrResourceNotFound, op, id, err)
	}
	return fmt.Errorf("ftrack: disk accessor: %s %q: %w", op, id, err)
}

// Exists reports whether a file or directory is at id.
func (d *DiskAccessor) Exists(_ context.Context, id string) (bool, error) {
	p, err := d.FilesystemPath(id)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Open opens the file at id.
func (d *DiskAccessor) Open(_ context.Context, id string) (io.ReadCloser, error) {
	p, err := d.FilesystemPath(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p) //nolint:gosec // G304: reading the location's files is the accessor's purpose
	if err != nil {
		return nil, diskError("open", id, err)
	}
	return f, nil
}

// Write writes data to the file at id, through a temporary file renamed into place so
// that a failed copy leaves no partial file.
func (d *DiskAccessor) Write(_ context.Context, id string, _ *Entity, data io.Reader) (err error) {
	p, err := d.FilesystemPath(id)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".*")
	if err != nil {
		return diskError("write", id, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, data); err != nil {
		return diskError("write", id, err)
	}
	if err := tmp.Close(); err != nil {
		return diskError("write", id, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return diskError("write", id, err)
	}
	return nil
}

// Remove removes the file, or the empty directory, at id.
func (d *DiskAccessor) Remove(_ context.Context, id string) error {
	p, err := d.FilesystemPath(id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		return diskError("remove", id, err)
	}
	return nil
}

// MakeContainer makes the directory id and its parents.
func (d *DiskAccessor) MakeContainer(_ context.Context, id string) error {
	p, err := d.FilesystemPath(id)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p, 0o750); err != nil {
		return diskError("make container", id, err)
	}
	return nil
}

// Container returns the directory of id, relative to Prefix.
func (d *DiskAccessor) Container(id string) (string, bool, error) {
	p, err := d.FilesystemPath(id)
	if err != nil {
		return "", false, err
	}
	dir := filepath.Dir(p)
	if d.Prefix == "" {
		return dir, true, nil
	}
	if dir == d.Prefix {
		return "", true, nil
	}
	rel, err := filepath.Rel(d.Prefix, dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", false, fmt.Errorf("%w: the container of %q", ErrResourceOutsidePrefix, id)
	}
	return filepath.ToSlash(rel), true, nil
}

// URL is not supported by a disk accessor.
func (d *DiskAccessor) URL(id string) (string, error) {
	return "", fmt.Errorf("%w: URL of %q on disk", ErrAccessorUnsupported, id)
}

// serverAccessor is the ftrack.server location's accessor: a component's data is uploaded
// to ftrack (get_upload_metadata, then a PUT to the URL it signs) and read from
// /component/get; the resource identifier is the component's id.
type serverAccessor struct {
	s *Session
}

// componentURL is the server's URL of path (component/get, component/remove,
// component/thumbnail) for id; withKey puts the API user and key into the query, for a URL
// handed to something that cannot send the session's headers.
func (a serverAccessor) componentURL(path, id string, withKey bool) string {
	q := url.Values{"id": {id}}
	if withKey {
		q.Set("username", a.s.apiUser)
		q.Set("apiKey", a.s.apiKey)
	}
	return strings.TrimSuffix(a.s.serverURL, "/") + "/component/" + path + "?" + q.Encode()
}

func (a serverAccessor) Exists(context.Context, string) (bool, error) { return false, nil }

func (a serverAccessor) Open(ctx context.Context, id string) (io.ReadCloser, error) {
	resp, err := a.get(ctx, "get", id)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

func (a serverAccessor) get(ctx context.Context, path, id string) (*http.Response, error) {
	// ftrack reads the credentials of /component/* from the query, as the Python client
	// sends them; an error quoting the URL has the key taken out.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.componentURL(path, id, true), nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ftrack: server location: %s component %s: %w", path, id, redactKey(err, a.s.apiKey))
	}
	if resp.StatusCode == http.StatusNotFound {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("%w: component %s on the server", ErrResourceNotFound, id)
	}
	if resp.StatusCode/100 != 2 {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("ftrack: server location: %s component %s: %s", path, id, resp.Status)
	}
	return resp, nil
}

// Write uploads data as the file of component (id is its id). A file of more than two parts
// (see uploadPartSize) goes up in parts, four at a time, as the JavaScript client uploads;
// a smaller one in one PUT whose size and MD5 checksum are signed first, as the Python
// client does. A seekable source (a file) is streamed; anything else is held in memory.
func (a serverAccessor) Write(ctx context.Context, id string, component *Entity, data io.Reader) error {
	if component == nil {
		return fmt.Errorf("%w: uploading %s needs its component", ErrLocation, id)
	}
	name, _ := component.MustGet("name").(string)
	if ft, _ := component.MustGet("file_type").(string); ft != "" {
		name += "." + strings.TrimPrefix(ft, ".")
	}
	src, size, err := sizedReaderAt(data)
	if err != nil {
		return fmt.Errorf("ftrack: server location: reading the data of component %s: %w", id, err)
	}
	partSize, err := uploadPartSize(size)
	if err != nil {
		return fmt.Errorf("ftrack: server location: component %s: %w", id, err)
	}
	if parts := (size + partSize - 1) / partSize; parts > 2 {
		return a.writeParts(ctx, id, name, src, size, partSize, int(parts))
	}
	sum := md5.New() //nolint:gosec // G401: the checksum ftrack's upload asks for
	if _, err := io.Copy(sum, io.NewSectionReader(src, 0, size)); err != nil {
		return fmt.Errorf("ftrack: server location: reading the data of component %s: %w", id, err)
	}
	meta, err := a.s.GetUploadMetadata(ctx, id, name, size, base64.StdEncoding.EncodeToString(sum.Sum(nil)))
	if err != nil {
		return err
	}
	if _, err := a.put(ctx, meta.URL, meta.Headers, io.NewSectionReader(src, 0, size), size); err != nil {
		return fmt.Errorf("ftrack: server location: uploading component %s: %w", id, err)
	}
	return nil
}

// writeParts uploads src in parts of partSize and completes the upload.
func (a serverAccessor) writeParts(ctx context.Context, id, name string, src io.ReaderAt, size, partSize int64, parts int) error {
	up, err := a.s.GetMultipartUploadMetadata(ctx, id, name, size, parts)
	if err != nil {
		return err
	}
	for _, p := range up.Parts {
		if p.Number > parts {
			return fmt.Errorf("ftrack: server location: component %s: part %d is outside a file of %d parts", id, p.Number, parts)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make([]UploadedPart, len(up.Parts))
	errs := make(chan error, len(up.Parts))
	slots := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, p := range up.Parts {
		offset := int64(p.Number-1) * partSize
		n := min(partSize, size-offset)
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				errs <- ctx.Err()
				return
			}
			defer func() { <-slots }()
			etag, err := a.put(ctx, p.URL, nil, io.NewSectionReader(src, offset, n), n)
			if err != nil {
				errs <- fmt.Errorf("part %d: %w", p.Number, err)
				cancel()
				return
			}
			done[i] = UploadedPart{Number: p.Number, ETag: etag}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("ftrack: server location: uploading component %s: %w", id, err)
	}
	slices.SortFunc(done, func(x, y UploadedPart) int { return x.Number - y.Number })
	return a.s.CompleteMultipartUpload(ctx, id, up.UploadID, done)
}

// put PUTs n bytes of body to a signed URL and returns the ETag the storage answered. The
// signed URL carries its own authorisation (it is the storage's, not ftrack's): the
// session's credentials are not sent there.
func (a serverAccessor) put(ctx context.Context, url string, headers map[string]string, body io.Reader, n int64) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, io.NopCloser(body))
	if err != nil {
		return "", err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.ContentLength = n
	resp, err := a.s.baseClient.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("the storage answered %s", resp.Status)
	}
	return resp.Header.Get("ETag"), nil
}

// uploadPartSize is the part size of a multipart upload of size bytes, as the JavaScript
// client chooses it: 8 MiB up to 128 MiB, 16 MiB up to 1 GiB, 32 MiB up to 8 GiB, 64 MiB up
// to 64 GiB, then 128 MiB, at most 10,000 parts.
func uploadPartSize(size int64) (int64, error) {
	const mib, gib = int64(1) << 20, int64(1) << 30
	switch {
	case size > 128*mib*10000:
		return 0, fmt.Errorf("a file of %d bytes is larger than an upload allows (1,280 GB)", size)
	case size > 64*gib:
		return 128 * mib, nil
	case size > 8*gib:
		return 64 * mib, nil
	case size > gib:
		return 32 * mib, nil
	case size > 128*mib:
		return 16 * mib, nil
	}
	return 8 * mib, nil
}

// sizedReaderAt returns data as a ReaderAt with its size: a file (or any ReadSeeker that is
// also a ReaderAt) from its current position without copying, anything else read into
// memory.
func sizedReaderAt(data io.Reader) (io.ReaderAt, int64, error) {
	if f, ok := data.(interface {
		io.ReaderAt
		io.Seeker
	}); ok {
		start, err := f.Seek(0, io.SeekCurrent)
		if err == nil {
			end, err := f.Seek(0, io.SeekEnd)
			if err != nil {
				return nil, 0, err
			}
			return io.NewSectionReader(f, start, end-start), end - start, nil
		}
	}
	body, err := io.ReadAll(data)
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(body), int64(len(body)), nil
}

func (a serverAccessor) Remove(ctx context.Context, id string) error {
	resp, err := a.get(ctx, "remove", id)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func (a serverAccessor) MakeContainer(context.Context, string) error { return nil }

func (a serverAccessor) Container(string) (string, bool, error) { return "", false, nil }

func (a serverAccessor) FilesystemPath(id string) (string, error) {
	return "", fmt.Errorf("%w: the server location has no filesystem path (component %s)", ErrAccessorUnsupported, id)
}

// URL is /component/get for id, with the session's credentials in the query (as the
// Python client's): treat it as a secret.
func (a serverAccessor) URL(id string) (string, error) { return a.componentURL("get", id, true), nil }

// ThumbnailURL is /component/thumbnail for id, size×size pixels at most when size is above
// zero, with the session's credentials in the query, as URL.
func (a serverAccessor) ThumbnailURL(id string, size int) string {
	u := a.componentURL("thumbnail", id, true)
	if size > 0 {
		u += fmt.Sprintf("&size=%d", size)
	}
	return u
}

// redactKey returns err with the API key (as a URL query carries it) taken out of its
// message.
func redactKey(err error, key string) error {
	msg := err.Error()
	if key == "" {
		return err
	}
	clean := strings.ReplaceAll(strings.ReplaceAll(msg, url.QueryEscape(key), "REDACTED"), key, "REDACTED")
	if clean == msg {
		return err
	}
	return errors.New(clean)
}
