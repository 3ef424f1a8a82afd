package ftracktest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ftrack-operator/ftrack-operator/internal/jsclient"
)

// TestJavaScriptClientConformance runs the official JavaScript client
// (@ftrack/api, pinned in testdata/js/package-lock.json at the module root)
// through testdata/js/conformance.mjs against a default server. The client is
// installed with npm ci on first use; the test is skipped only when node is not
// on PATH.
func TestJavaScriptClientConformance(t *testing.T) {
	const user, key = "conformance", "conformance-key"
	s, err := NewServer(WithUser(user, key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := jsclient.Command(ctx, t, "conformance.mjs")
	cmd.Env = append(os.Environ(), "FTRACK_SERVER="+s.URL, "FTRACK_API_USER="+user, "FTRACK_API_KEY="+key)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("conformance.mjs: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
