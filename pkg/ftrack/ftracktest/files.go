package ftracktest

import (
	"bytes"
	"crypto/md5" //nolint:gosec // G501: the ETag of an upload is its MD5, as the real storage computes it
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// maxUploadBytes bounds one uploaded file or part.
const maxUploadBytes = 256 << 20

// fileStore holds the data of components in the ftrack.server location.
// Uploads are not part of batch transactions: like on the real server, a
// file PUT is its own request.
type fileStore struct {
	mu      sync.Mutex
	data    map[string][]byte         // component id → bytes
	uploads map[string]*multipartFile // upload id → parts
}

type multipartFile struct {
	componentID string
	parts       map[int][]byte
}

func newFileStore() *fileStore {
	return &fileStore{data: map[string][]byte{}, uploads: map[string]*multipartFile{}}
}

// ComponentData returns the bytes uploaded for a component to the
// ftrack.server location.
func (s *Server) ComponentData(componentID string) ([]byte, bool) {
	s.files.mu.Lock()
	defer s.files.mu.Unlock()
	b, ok := s.files.data[componentID]
	return bytes.Clone(b), ok
}

// uploadMetadata answers get_upload_metadata: a single PUT URL, or one URL
// per part when the client asks for several parts (JS, large files).
func (b *batch) uploadMetadata(op map[string]any) (any, error) {
	// The component need not exist yet: the Python client uploads a new component's file
	// before it commits the component, and ftrack signs the upload all the same.
	cid, _ := op["component_id"].(string)
	if cid == "" {
		return nil, validationError("get_upload_metadata: component_id is required")
	}
	parts, _ := op["parts"].(float64)
	base := b.srv.URL + "/upload/" + url.PathEscape(cid)
	if parts >= 1 {
		uploadID := b.srv.newID()
		b.srv.files.mu.Lock()
		b.srv.files.uploads[uploadID] = &multipartFile{componentID: cid, parts: map[int][]byte{}}
		b.srv.files.mu.Unlock()
		urls := make([]any, 0, int(parts))
		for n := 1; n <= int(parts); n++ {
			urls = append(urls, map[string]any{"signed_url": fmt.Sprintf("%s?upload_id=%s&part=%d", base, url.QueryEscape(uploadID), n), "part_number": n})
		}
		return map[string]any{"component_id": cid, "urls": urls, "upload_id": uploadID}, nil
	}
	headers := map[string]any{"Content-Type": "application/octet-stream"}
	if size, ok := op["file_size"].(float64); ok {
		headers["Content-Length"] = strconv.FormatInt(int64(size), 10)
	}
	// A checksum is signed into the upload, which the storage then checks (S3 answers
	// BadDigest to a body whose MD5 differs).
	if sum, _ := op["checksum"].(string); sum != "" {
		headers["Content-MD5"] = sum
	}
	return map[string]any{"url": base, "headers": headers, "component_id": cid}, nil
}

// completeMultipartUpload joins the uploaded parts in part-number order.
func (b *batch) completeMultipartUpload(op map[string]any) (any, error) {
	uploadID, _ := op["upload_id"].(string)
	fs := b.srv.files
	fs.mu.Lock()
	defer fs.mu.Unlock()
	up, ok := fs.uploads[uploadID]
	if !ok {
		return nil, validationError("complete_multipart_upload: unknown upload_id %q", uploadID)
	}
	// As S3: the parts listed are joined in part-number order, each must have been
	// uploaded with the ETag given (its MD5), and parts uploaded but not listed are dropped.
	listed, _ := op["parts"].([]any)
	if len(listed) == 0 {
		return nil, validationError("complete_multipart_upload: parts is required")
	}
	byNumber := map[int]string{}
	for _, p := range listed {
		m, _ := p.(map[string]any)
		n, _ := m["part_number"].(float64)
		tag, _ := m["e_tag"].(string)
		data, ok := up.parts[int(n)]
		sum := md5.Sum(data) //nolint:gosec // G401: the ETag of a part is its MD5
		if !ok || strings.Trim(tag, `"`) != hex.EncodeToString(sum[:]) {
			return nil, validationError("complete_multipart_upload: InvalidPart: part %v was not uploaded with ETag %q", m["part_number"], tag)
		}
		byNumber[int(n)] = tag
	}
	numbers := make([]int, 0, len(byNumber))
	for n := range byNumber {
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	var buf bytes.Buffer
	for _, n := range numbers {
		buf.Write(up.parts[n])
	}
	fs.data[up.componentID] = buf.Bytes()
	delete(fs.uploads, uploadID)
	return map[string]any{"action": "complete_multipart_upload", "component_id": up.componentID, "url": b.srv.URL + "/component/get?id=" + url.QueryEscape(up.componentID)}, nil
}

// handleUpload stores a PUT of a whole file or of one part. Upload URLs are
// signed on the real server, so they need no credentials.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		w.Header().Set("Allow", http.MethodPut)
		http.Error(w, "use PUT", http.StatusMethodNotAllowed)
		return
	}
	cid := strings.TrimPrefix(r.URL.Path, "/upload/")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxUploadBytes+1))
	if err != nil || len(body) > maxUploadBytes {
		http.Error(w, "upload too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	sum := md5.Sum(body) //nolint:gosec // G401: a content checksum, not a security control
	if want := r.Header.Get("Content-MD5"); want != "" && want != base64.StdEncoding.EncodeToString(sum[:]) {
		http.Error(w, "BadDigest: the Content-MD5 you specified did not match what we received", http.StatusBadRequest)
		return
	}
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	s.files.mu.Lock()
	defer s.files.mu.Unlock()
	if uploadID := r.URL.Query().Get("upload_id"); uploadID != "" {
		up, ok := s.files.uploads[uploadID]
		part, err := strconv.Atoi(r.URL.Query().Get("part"))
		if !ok || up.componentID != cid || err != nil || part < 1 {
			http.Error(w, "unknown upload or part", http.StatusNotFound)
			return
		}
		up.parts[part] = body
	} else {
		s.files.data[cid] = body
	}
	w.Header().Set("ETag", etag)
	w.WriteHeader(http.StatusOK)
}

// handleComponent serves /component/get, /component/thumbnail and
// /component/remove, authenticated by the username and apiKey query
// parameters.
func (s *Server) handleComponent(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.authenticate(q.Get("username"), q.Get("apiKey")) {
		writeJSON(w, http.StatusUnauthorized, errInvalidCredentials.body())
		return
	}
	id := q.Get("id")
	s.files.mu.Lock()
	data, ok := s.files.data[id]
	if ok && r.URL.Path == "/component/remove" {
		delete(s.files.data, id)
	}
	s.files.mu.Unlock()
	if !ok {
		http.Error(w, "no data for component "+id, http.StatusNotFound)
		return
	}
	if r.URL.Path == "/component/remove" {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// handleWidget serves the URLs get_widget_url answers: a page naming the widget (the real
// server serves the widget itself there).
func (s *Server) handleWidget(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/widget/")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = fmt.Fprintf(w, "<!doctype html><title>ftrack widget %s</title><p>ftracktest serves no widgets; this is the page of %s.</p>\n", html.EscapeString(name), html.EscapeString(name))
}
