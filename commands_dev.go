//go:build !release

package main

import (
	"context"
	"io"
	"os"

	"github.com/ftrack-operator/ftrack-operator/internal/dev"
	"github.com/ftrack-operator/ftrack-operator/internal/export"
	"github.com/ftrack-operator/ftrack-operator/internal/planrun"
)

// Builds for development (any build without the release tag) also run the dev environment
// and the standalone emulator.
func init() {
	commands["dev"] = command{run: dev.Run, summary: "run a local control plane, the emulator, the manager and the samples"}
	commands["emulator"] = command{run: dev.RunEmulator, summary: "run a standalone ftrack server emulator"}
	commands["plan"] = command{run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return planrun.Command(ctx, "ftrack-operator plan", args, os.Stdin, stdout, stderr)
	}, summary: "print what applying FtrackEntity manifests would change in ftrack; see 'ftrack-operator plan -h'"}
	commands["export"] = command{run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return export.Command(ctx, "ftrack-operator export", args, stdout, stderr)
	}, summary: "write an existing ftrack site as manifests that adopt it; see 'ftrack-operator export -h'"}
}
