//go:build linux

package dev

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// The dev command starts etcd and kube-apiserver through a shim: a symbolic link named like the
// control-plane binary that points at this executable, next to a marker file naming the real
// binary's directory and the dev process's pid. When this executable starts under such a name it
// asks the kernel to send it SIGKILL when its parent dies (PR_SET_PDEATHSIG) and then replaces
// itself with the real binary, which keeps that setting across execve. So the control plane stops
// even when the dev process is killed with SIGKILL and cannot clean up. SIGKILL rather than
// SIGTERM: an orphaned dev control plane has no user left and nothing worth saving, and
// kube-apiserver's graceful shutdown can wait long for an etcd that is already gone.

// devShimMarker is the marker file beside the shim links.
const devShimMarker = ".ftrack-operator-dev-shim"

// devShimTarget is the content of the marker file.
type devShimTarget struct {
	// Assets is the directory of the real kube-apiserver and etcd.
	Assets string `json:"assets"`
	// Parent is the pid of the dev process that starts the shims.
	Parent int `json:"parent"`
}

// devShimSupported reports whether the control plane can be tied to the dev process's life.
const devShimSupported = true

func init() {
	name := filepath.Base(os.Args[0])
	if name != "kube-apiserver" && name != "etcd" {
		return
	}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(os.Args[0]), devShimMarker)) //nolint:gosec // G703: only the marker the dev command wrote beside its own shim link
	if err != nil {
		return // not started as a dev shim
	}
	var target devShimTarget
	if err := json.Unmarshal(raw, &target); err != nil || target.Assets == "" {
		_, _ = fmt.Fprintf(os.Stderr, "ftrack-operator dev shim: unreadable marker %s\n", devShimMarker)
		os.Exit(127)
	}
	// The parent-death signal belongs to the calling thread, and execve keeps the calling thread.
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0); err != nil {
		_, _ = fmt.Fprintf(os.Stderr, "ftrack-operator dev shim: setting the parent-death signal: %v\n", err)
		os.Exit(127)
	}
	// The parent may have died before the signal was armed; then nobody is left to stop us.
	if os.Getppid() != target.Parent {
		os.Exit(1)
	}
	real := filepath.Join(target.Assets, name)
	err = syscall.Exec(real, append([]string{real}, os.Args[1:]...), os.Environ()) //nolint:gosec // G204: the control-plane binary the dev command chose
	_, _ = fmt.Fprintf(os.Stderr, "ftrack-operator dev shim: starting %s: %v\n", real, err)
	os.Exit(127)
}
