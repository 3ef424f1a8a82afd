package ftracktest

import (
	"crypto/md5"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func putBytes(t *testing.T, target, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestComponentUploadAndDownload(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	cases := map[string]struct {
		reason string
		parts  any
		chunks []string
	}{
		"SinglePart": {"one PUT to the returned url", nil, []string{"hello, ftrack"}},
		"Multipart":  {"parts joined in part-number order", float64(3), []string{"aa", "bb", "cc"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cid := "00000000-0000-0000-0000-00000000c" + map[string]string{"SinglePart": "001", "Multipart": "002"}[name]
			_, out := post(t, s, []any{
				op("create", "FileComponent", "entity_data", map[string]any{"id": cid, "name": "data", "file_type": ".txt", "size": 13}),
				map[string]any{"action": "get_upload_metadata", "component_id": cid, "file_name": "data.txt", "file_size": 13, "parts": tc.parts},
			}, nil)
			list, ok := out.([]any)
			if !ok {
				t.Fatalf("%s: batch failed: %v", tc.reason, out)
			}
			meta := list[1].(map[string]any)
			if urls, ok := meta["urls"].([]any); ok {
				var parts []any
				for i, u := range urls {
					resp := putBytes(t, u.(map[string]any)["signed_url"].(string), tc.chunks[i])
					if resp.Header.Get("ETag") == "" {
						t.Fatalf("%s: part PUT has no ETag", tc.reason)
					}
					parts = append(parts, map[string]any{"part_number": i + 1, "e_tag": strings.Trim(resp.Header.Get("ETag"), `"`)})
				}
				_, out = post(t, s, []any{map[string]any{"action": "complete_multipart_upload", "upload_id": meta["upload_id"], "parts": parts, "component_id": cid}}, nil)
				if exc, content := errorOf(out); exc != "" {
					t.Fatalf("%s: complete: %s %s", tc.reason, exc, content)
				}
			} else {
				if resp := putBytes(t, meta["url"].(string), strings.Join(tc.chunks, "")); resp.StatusCode != 200 {
					t.Fatalf("%s: PUT: %d", tc.reason, resp.StatusCode)
				}
			}
			q := url.Values{"id": {cid}, "username": {DefaultUser}, "apiKey": {DefaultAPIKey}}
			resp, err := http.Get(s.URL + "/component/get?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if diff := cmp.Diff(strings.Join(tc.chunks, ""), string(body)); diff != "" {
				t.Errorf("%s: downloaded data (-want +got):\n%s", tc.reason, diff)
			}
			q.Set("apiKey", "wrong")
			resp, err = http.Get(s.URL + "/component/get?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: download with a wrong key: %d, want 401", tc.reason, resp.StatusCode)
			}
		})
	}
}

// TestUploadChecksItsChecksum: get_upload_metadata with a checksum signs it into the
// upload's headers, and a body whose MD5 differs is refused, as the storage does.
func TestUploadChecksItsChecksum(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	const cid = "00000000-0000-0000-0000-00000000c0a1"
	sum := md5.Sum([]byte("frame 1001"))
	checksum := base64.StdEncoding.EncodeToString(sum[:])
	_, out := post(t, s, []any{map[string]any{"action": "get_upload_metadata", "component_id": cid, "file_name": "f.exr", "file_size": 10, "checksum": checksum}}, nil)
	meta := out.([]any)[0].(map[string]any)
	headers, _ := meta["headers"].(map[string]any)
	if headers["Content-MD5"] != checksum {
		t.Fatalf("the upload's headers %v do not carry the checksum", headers)
	}
	put := func(body string) int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, meta["url"].(string), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-MD5", checksum)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := put("frame 1002"); code != http.StatusBadRequest {
		t.Errorf("a body that does not match the checksum: HTTP %d, want 400", code)
	}
	if _, ok := s.ComponentData(cid); ok {
		t.Error("the refused upload was stored")
	}
	if code := put("frame 1001"); code != http.StatusOK {
		t.Errorf("the matching body: HTTP %d", code)
	}
}
