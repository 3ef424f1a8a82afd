// Package jsclient runs the scripts of testdata/js with the official ftrack JavaScript client
// (@ftrack/api, pinned by testdata/js/package-lock.json), for tests that check ftracktest, the
// event hub and the dev environment against the real client. The client is installed with
// `npm ci` on first use; a lock file keeps test binaries that run at the same time from
// installing it twice.
package jsclient

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
)

// installTimeout bounds `npm ci`.
const installTimeout = 5 * time.Minute

// Dir returns the directory of the scripts and of the installed client.
func Dir() (string, error) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "testdata", "js"), nil
}

// Command returns a command that runs script (a file of testdata/js) with node, in that
// directory, after making sure the client is installed. It skips the test when node is not on
// PATH, and fails it when the client cannot be installed.
func Command(ctx context.Context, t testing.TB, script string, args ...string) *exec.Cmd {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if err := install(ctx, dir); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Dir = dir
	return cmd
}

// install runs `npm ci` in dir unless the client is there already.
func install(ctx context.Context, dir string) error {
	marker := filepath.Join(dir, "node_modules", "@ftrack", "api", "package.json")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	lock, err := os.OpenFile(filepath.Join(dir, "node_modules.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("jsclient: %w", err)
	}
	defer func() { _ = lock.Close() }()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("jsclient: locking %s: %w", lock.Name(), err)
	}
	defer func() { _ = unix.Flock(int(lock.Fd()), unix.LOCK_UN) }()
	if _, err := os.Stat(marker); err == nil {
		return nil // installed by another test binary while this one waited
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return errors.New("jsclient: node is on PATH but npm is not")
	}
	ctx, cancel := context.WithTimeout(ctx, installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("jsclient: npm ci in %s: %w\n%s", dir, err, out)
	}
	return nil
}
