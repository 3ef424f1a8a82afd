package ftrack

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzJSONDecoder checks the decoder against encoding/json: both accept
// the same documents and decode them to the same values (documents with
// tagged values are left out, as the decoder converts those).
func FuzzJSONDecoder(f *testing.F) {
	for _, seed := range []string{
		`[]`, `{}`, `[1, 2.5, -3e2, true, false, null]`, `{"a": {"b": ["c", "\u00e9\ud83d\ude00"]}}`,
		`"\"\\\/\b\f\n\r\t"`, `[{"x": 1}, {"x": 2}]`, `  [ 1 , 2 ]  `, `[1,]`, `{"a" 1}`, `"\ud800"`, `1e400`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(data, []byte("__type__")) || bytes.Contains(data, []byte("__entity_type__")) {
			return
		}
		var want any
		wantErr := json.Unmarshal(data, &want)
		got, gotErr := newJSONDecoder(data, nil).decodeDocument()
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%q: encoding/json error %v, decoder error %v", data, wantErr, gotErr)
		}
		if wantErr != nil {
			return
		}
		// reflect.DeepEqual first: cmp's slice diff is exponential in the nesting depth.
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%q: decoded values differ (-encoding/json +decoder):\n%s", data, cmp.Diff(want, got))
		}
	})
}
