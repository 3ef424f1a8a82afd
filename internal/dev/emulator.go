package dev

import (
	"context"
	"io"

	emulator "github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/cmd"
)

// RunEmulator runs a standalone ftrack server emulator, seeded like a fresh ftrack site, until
// ctx is cancelled.
func RunEmulator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return emulator.RunStandalone(ctx, args, stdout, stderr)
}
