//go:build !release

package main

import "github.com/ftrack-operator/ftrack-operator/internal/dev"

// Builds for development (any build without the release tag) also run the dev environment
// and the standalone emulator.
func init() {
	commands["dev"] = command{run: dev.Run, summary: "run a local control plane, the emulator, the manager and the samples"}
	commands["emulator"] = command{run: dev.RunEmulator, summary: "run a standalone ftrack server emulator"}
}
