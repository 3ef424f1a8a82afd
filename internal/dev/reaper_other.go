//go:build !linux

package dev

// devShimMarker is the marker file beside the shim links; unused where the kernel has no
// parent-death signal.
const devShimMarker = ".ftrack-operator-dev-shim"

// devShimTarget is the content of the marker file.
type devShimTarget struct {
	Assets string `json:"assets"`
	Parent int    `json:"parent"`
}

// devShimSupported is false: without PR_SET_PDEATHSIG the control plane is stopped only by a
// dev process that exits normally (Ctrl-C or SIGTERM), not by one killed with SIGKILL.
const devShimSupported = false
