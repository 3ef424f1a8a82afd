package ftrack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The server helpers of the Python Session (get_widget_url, encode_media, get_upload_metadata,
// the invites, reset_remote) and its wire helpers (entity_reference, encode, decode). A server
// that does not know an action answers "Invalid action u'…'": the error then matches
// ErrServerCompatibility, as the Python client raises ServerCompatibilityError.

// EntityReference returns the reference that identifies e on the wire: its __entity_type__
// and its primary key, as the Python client's entity_reference.
func (s *Session) EntityReference(e *Entity) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref, _ := s.encodeValueLocked(e).(map[string]any)
	return ref
}

// Encode returns v in ftrack's wire JSON, as the Python client's encode: entities as
// references, collections as lists of references, datetimes as tagged values.
func (s *Session) Encode(v any) ([]byte, error) {
	s.mu.Lock()
	w := s.encodeValueLocked(v)
	s.mu.Unlock()
	return json.Marshal(w)
}

// Decode reads ftrack wire JSON, as the Python client's decode: entities (objects with an
// __entity_type__) are merged into the session and returned as *Entity, tagged datetimes as
// time.Time; nothing is recorded as an operation.
func (s *Session) Decode(data []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return newJSONDecoder(data, s.mergeEntityPairs).decodeDocument()
}

// callOne sends one operation and returns its answer.
func (s *Session) callOne(ctx context.Context, op map[string]any) (map[string]any, error) {
	res, err := s.Call(ctx, []map[string]any{op})
	if err != nil {
		return nil, err
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("ftrack: %v answered %d results, want 1", op["action"], len(res))
	}
	m, ok := res[0].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("ftrack: %v answered %T, want an object", op["action"], res[0])
	}
	return m, nil
}

// GetWidgetURL returns an authenticated URL of the widget name ("info", "tasks",
// "tasks_browser"); entity is the entity the widget shows (nil for none) and theme "light" or
// "dark" ("" for the server's default). The URL's token expires after a few minutes.
func (s *Session) GetWidgetURL(ctx context.Context, name string, entity *Entity, theme string) (string, error) {
	op := map[string]any{"action": "get_widget_url", "name": name, "theme": nil}
	if theme != "" {
		op["theme"] = theme
	}
	if entity != nil {
		op["entity_type"] = entity.EntityType()
		var key []any
		for _, kv := range entity.PrimaryKey() {
			key = append(key, kv.Value)
		}
		op["entity_key"] = key
	}
	res, err := s.callOne(ctx, op)
	if err != nil {
		return "", err
	}
	url, ok := res["widget_url"].(string)
	if !ok {
		return "", errors.New("ftrack: get_widget_url answered no widget_url")
	}
	return url, nil
}

// EncodeMediaOptions are the options of EncodeMedia.
type EncodeMediaOptions struct {
	// VersionID, when set, associates the encoded components with that AssetVersion.
	VersionID string
	// KeepOriginal keeps the source component; nil keeps it (the Python client's "auto" for
	// a component).
	KeepOriginal *bool
}

// EncodeMedia asks the server to encode component (a FileComponent in the ftrack.server
// location) into browser-playable media and returns the Job doing it; its data lists the
// output components when it is done. EncodeMediaFile takes a file path instead.
func (s *Session) EncodeMedia(ctx context.Context, component *Entity, opts EncodeMediaOptions) (*Entity, error) {
	if component == nil {
		return nil, errors.New("ftrack: EncodeMedia needs a component")
	}
	keep := true
	if opts.KeepOriginal != nil {
		keep = *opts.KeepOriginal
	}
	op := map[string]any{"action": "encode_media", "component_id": component.ID(), "version_id": nil, "keep_original": keep}
	if opts.VersionID != "" {
		op["version_id"] = opts.VersionID
	}
	res, err := s.callOne(ctx, op)
	if err != nil {
		return nil, err
	}
	jobID, ok := res["job_id"].(string)
	if !ok || jobID == "" {
		return nil, errors.New("ftrack: encode_media answered no job_id")
	}
	return s.Get(ctx, "Job", jobID)
}

// EncodeMediaFile uploads the file at path as a new component of the ftrack.server
// location (committing the session) and asks the server to encode it, as the Python
// client's encode_media with a path: the uploaded original is deleted once encoded unless
// opts.KeepOriginal is true, and then it belongs to opts.VersionID.
func (s *Session) EncodeMediaFile(ctx context.Context, path string, opts EncodeMediaOptions) (*Entity, error) {
	server := s.Location(ServerLocationID)
	if server == nil {
		return nil, fmt.Errorf("%w: ftrack.server is not configured", ErrLocation)
	}
	if _, err := ParseFileSequence(path); !errors.Is(err, ErrNotASequence) {
		return nil, fmt.Errorf("ftrack: EncodeMediaFile encodes one file, not the sequence %q", path)
	}
	keep := false
	if opts.KeepOriginal != nil {
		keep = *opts.KeepOriginal
	}
	var data map[string]any
	if keep && opts.VersionID != "" {
		data = map[string]any{"version_id": opts.VersionID}
	}
	c, err := s.CreateComponent(ctx, path, ComponentOptions{Data: data, Location: server})
	if err != nil {
		return nil, err
	}
	if err := s.Commit(ctx); err != nil {
		return nil, err
	}
	opts.KeepOriginal = &keep
	return s.EncodeMedia(ctx, c, opts)
}

// UploadMetadata says where and how to upload a component's file: PUT the data to URL with
// Headers.
type UploadMetadata struct {
	URL     string
	Headers map[string]string
}

// GetUploadMetadata returns where to upload the file of componentID (fileName and fileSize
// as the component has them; checksum, when not empty, is the base64 MD5 digest sent as
// Content-MD5). The component need not be committed yet.
func (s *Session) GetUploadMetadata(ctx context.Context, componentID, fileName string, fileSize int64, checksum string) (UploadMetadata, error) {
	op := map[string]any{"action": "get_upload_metadata", "component_id": componentID, "file_name": fileName, "file_size": fileSize, "checksum": nil}
	if checksum != "" {
		op["checksum"] = checksum
	}
	res, err := s.callOne(ctx, op)
	if err != nil {
		return UploadMetadata{}, err
	}
	out := UploadMetadata{Headers: map[string]string{}}
	out.URL, _ = res["url"].(string)
	if h, ok := res["headers"].(map[string]any); ok {
		for k, v := range h {
			out.Headers[k] = fmt.Sprint(v)
		}
	}
	if out.URL == "" {
		return UploadMetadata{}, errors.New("ftrack: get_upload_metadata answered no url")
	}
	return out, nil
}

// UploadPart is one part of a multipart upload: PUT its bytes to URL.
type UploadPart struct {
	Number int
	URL    string
}

// MultipartUpload says where to upload a large file in parts: each part's URL, and the
// upload's id, which CompleteMultipartUpload needs.
type MultipartUpload struct {
	UploadID string
	Parts    []UploadPart
}

// GetMultipartUploadMetadata returns where to upload the file of componentID in parts (the
// form the JavaScript client uses for files of more than two parts).
func (s *Session) GetMultipartUploadMetadata(ctx context.Context, componentID, fileName string, fileSize int64, parts int) (MultipartUpload, error) {
	if parts < 1 {
		return MultipartUpload{}, fmt.Errorf("ftrack: a multipart upload needs at least one part, got %d", parts)
	}
	res, err := s.callOne(ctx, map[string]any{"action": "get_upload_metadata", "component_id": componentID, "file_name": fileName, "file_size": fileSize, "parts": parts})
	if err != nil {
		return MultipartUpload{}, err
	}
	out := MultipartUpload{}
	out.UploadID, _ = res["upload_id"].(string)
	urls, _ := res["urls"].([]any)
	for _, u := range urls {
		m, _ := u.(map[string]any)
		n, _ := toFloat(m["part_number"])
		url, _ := m["signed_url"].(string)
		if url == "" || n < 1 {
			return MultipartUpload{}, fmt.Errorf("ftrack: get_upload_metadata answered a part without a signed_url or part_number: %v", m)
		}
		out.Parts = append(out.Parts, UploadPart{Number: int(n), URL: url})
	}
	if out.UploadID == "" || len(out.Parts) != parts {
		return MultipartUpload{}, fmt.Errorf("ftrack: get_upload_metadata answered %d part URLs and upload id %q for %d parts", len(out.Parts), out.UploadID, parts)
	}
	return out, nil
}

// UploadedPart is a part PUT to its URL, with the ETag the storage answered.
type UploadedPart struct {
	Number int
	ETag   string
}

// CompleteMultipartUpload joins the uploaded parts of uploadID into the file of
// componentID.
func (s *Session) CompleteMultipartUpload(ctx context.Context, componentID, uploadID string, parts []UploadedPart) error {
	list := make([]any, len(parts))
	for i, p := range parts {
		list[i] = map[string]any{"part_number": p.Number, "e_tag": strings.Trim(p.ETag, `"`)}
	}
	_, err := s.callOne(ctx, map[string]any{"action": "complete_multipart_upload", "component_id": componentID, "upload_id": uploadID, "parts": list})
	return err
}

// SendUserInvites sends each user (a User) an invitation to ftrack, in one request.
func (s *Session) SendUserInvites(ctx context.Context, users ...*Entity) error {
	return s.sendEach(ctx, "send_user_invite", "user_id", users)
}

// SendReviewSessionInvites sends each invitee (a committed ReviewSessionInvitee) an
// invitation to its review session, in one request.
func (s *Session) SendReviewSessionInvites(ctx context.Context, invitees ...*Entity) error {
	return s.sendEach(ctx, "send_review_session_invite", "review_session_invitee_id", invitees)
}

// sendEach sends one action per entity, naming it by its id under key, in one request.
func (s *Session) sendEach(ctx context.Context, action, key string, entities []*Entity) error {
	if len(entities) == 0 {
		return nil
	}
	ops := make([]map[string]any, 0, len(entities))
	for _, e := range entities {
		ops = append(ops, map[string]any{"action": action, key: e.ID()})
	}
	_, err := s.Call(ctx, ops)
	return err
}

// ResetRemote performs the server-side reset resetType ("api_key" resets entity's API key,
// entity being a User) and returns what the server answers in data.
func (s *Session) ResetRemote(ctx context.Context, resetType string, entity *Entity) (any, error) {
	op := map[string]any{"action": "reset_remote", "reset_type": resetType}
	if entity != nil {
		op["entity_type"] = entity.EntityType()
		op["entity_key"] = entity.ID()
	}
	res, err := s.callOne(ctx, op)
	if err != nil {
		return nil, err
	}
	return res["data"], nil
}
