package main

import (
	"context"
	"io"
)

// runEmulator runs a standalone ftrack server emulator.
func runEmulator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return &usageError{msg: "the emulator command is not available in this build yet"}
}
