// Package cli holds what the commands of the ftrack-operator binary share: how a bad command
// line is reported and which exit code an error gets.
package cli

import (
	"errors"
	"flag"
	"fmt"
)

// UsageError is a bad command line.
type UsageError struct{ Msg string }

// Error implements error.
func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ExitCode maps an error to the process exit status: 2 for usage errors and help, 1
// otherwise.
func ExitCode(err error) int {
	var usageErr *UsageError
	if errors.Is(err, flag.ErrHelp) || errors.As(err, &usageErr) {
		return 2
	}
	return 1
}
