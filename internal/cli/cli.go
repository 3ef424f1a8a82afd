// Package cli holds what the commands of the ftrack-operator binary share: how a bad command
// line is reported and which exit code an error gets.
package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// UsageError is a bad command line.
type UsageError struct{ Msg string }

// Error implements error.
func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ExitError ends a command with an exit status and no further message: the command's
// output already said what there was to say (plan's exit code 2 for "changes", for example).
type ExitError struct{ Code int }

// Error implements error.
func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ExitCode maps an error to the process exit status: 0 for help, an ExitError's code, 2 for
// usage errors, 1 otherwise.
func ExitCode(err error) int {
	var exitErr *ExitError
	var usageErr *UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &exitErr):
		return exitErr.Code
	case errors.As(err, &usageErr):
		return 2
	}
	return 1
}

// Silent reports whether err needs no message: help was asked for, or the command already
// reported (ExitError).
func Silent(err error) bool {
	var exitErr *ExitError
	return errors.Is(err, flag.ErrHelp) || errors.As(err, &exitErr)
}

// ReadCredentialsFile reads FTRACK_API_USER and FTRACK_API_KEY (or apiUser and apiKey, a
// connection Secret's keys) from a file of KEY=VALUE lines, as --secret names it; blank lines
// and # comments are skipped. The key's value never appears in an error.
func ReadCredentialsFile(path string) (user, key string, err error) {
	f, err := os.Open(path) //nolint:gosec // G304: the user names their own credentials file
	if err != nil {
		return "", "", fmt.Errorf("reading --secret: %w", err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			return "", "", fmt.Errorf("--secret %s line %d: want KEY=VALUE", path, n)
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		switch strings.TrimSpace(k) {
		case "FTRACK_API_USER", "apiUser":
			user = v
		case "FTRACK_API_KEY", "apiKey":
			key = v
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("reading --secret %s: %w", path, err)
	}
	return user, key, nil
}

// ServerCredentials checks a --server URL and returns it without a trailing slash, with the
// API user and key from secretFile (see ReadCredentialsFile) or else from FTRACK_API_USER and
// FTRACK_API_KEY. Problems are usage errors that never hold the key.
func ServerCredentials(server, secretFile string) (url, user, key string, err error) {
	if !strings.HasPrefix(server, "http://") && !strings.HasPrefix(server, "https://") {
		return "", "", "", Usagef("--server must start with http:// or https://, got %q", server)
	}
	user, key = os.Getenv("FTRACK_API_USER"), os.Getenv("FTRACK_API_KEY")
	if secretFile != "" {
		if user, key, err = ReadCredentialsFile(secretFile); err != nil {
			return "", "", "", err
		}
	}
	if user == "" || key == "" {
		return "", "", "", Usagef("--server needs FTRACK_API_USER and FTRACK_API_KEY, in the environment or in the --secret file")
	}
	return strings.TrimRight(server, "/"), user, key, nil
}
