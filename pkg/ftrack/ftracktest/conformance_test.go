package ftracktest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestJavaScriptClientConformance runs the official JavaScript client
// (@ftrack/api, pinned in conformance/package-lock.json) through
// conformance/scenario.mjs against a default server. It installs the client
// with npm ci when conformance/node_modules is missing and is skipped only
// when node is not on PATH.
func TestJavaScriptClientConformance(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	dir, err := filepath.Abs("conformance")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@ftrack", "api", "package.json")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("node is on PATH but npm is not: %v", err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		install := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		install.Dir = dir
		if out, err := install.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	const user, key = "conformance", "conformance-key"
	s, err := NewServer(WithUser(user, key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "scenario.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FTRACK_SERVER="+s.URL, "FTRACK_API_USER="+user, "FTRACK_API_KEY="+key)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scenario.mjs: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
