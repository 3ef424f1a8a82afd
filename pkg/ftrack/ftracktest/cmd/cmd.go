package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// RunStandalone runs an emulator until ctx is cancelled. args are the
// command-line flags (without the program or command name):
//
//	--listen ADDR      address to listen on (default 127.0.0.1:0, a free port)
//	--api-user USER    API user (default ftracktest.DefaultUser)
//	--api-key KEY      API key of that user (default ftracktest.DefaultAPIKey)
//	--schema FILE      serve this query_schemas answer instead of the built-in
//	                   schema (the built-in seed is then not applied)
//	--latency DURATION delay every /api request by this much
//
// Once the server accepts requests it prints
// "ftrack emulator listening on http://ADDR" to stdout. Logs go to stderr.
// The API key is never printed.
func RunStandalone(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	apiUser := fs.String("api-user", ftracktest.DefaultUser, "API user")
	apiKey := fs.String("api-key", ftracktest.DefaultAPIKey, "API key of the API user")
	schemaFile := fs.String("schema", "", "query_schemas JSON file to serve instead of the built-in schema")
	latency := fs.Duration("latency", 0, "delay of every /api request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("emulator: unexpected arguments %q", fs.Args())
	}
	if *latency < 0 {
		return errors.New("emulator: --latency must not be negative")
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts := []ftracktest.Option{
		ftracktest.WithAddress(*listen),
		ftracktest.WithUser(*apiUser, *apiKey),
		ftracktest.WithLatency(*latency, 0),
		ftracktest.WithLogger(logger),
	}
	if *schemaFile != "" {
		raw, err := os.ReadFile(*schemaFile)
		if err != nil {
			return fmt.Errorf("emulator: %w", err)
		}
		opts = append(opts, ftracktest.WithSchema(raw))
	}
	srv, err := ftracktest.NewServer(opts...)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	if _, err := fmt.Fprintf(stdout, "ftrack emulator listening on %s\n", srv.URL); err != nil {
		_ = srv.Close()
		return err
	}
	logger.Info("emulator started", "url", srv.URL, "api_user", *apiUser, "types", srv.Schema().Len())
	<-ctx.Done()
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Close() }()
	select {
	case err := <-shutdown:
		return err
	case <-time.After(30 * time.Second):
		return errors.New("emulator: shutdown did not finish within 30s")
	}
}
