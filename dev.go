package main

import (
	"context"
	"io"
)

// runDev runs the local development environment.
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return &usageError{msg: "the dev command is not available in this build yet"}
}
