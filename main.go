// Command ftrack-operator keeps ftrack (production tracking for VFX, animation and games) equal
// to the FtrackConnection, ClusterFtrackConnection and FtrackEntity objects of a Kubernetes
// cluster.
//
// Usage:
//
//	ftrack-operator [manager flags]    run the manager (the default command)
//	ftrack-operator emulator [flags]   run a standalone ftrack server emulator
//	ftrack-operator dev [flags]        run a local control plane, the emulator, the manager and the samples
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	ctx, stop := signalContext()
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "ftrack-operator:", err)
		}
		stop()
		os.Exit(exitCode(err))
	}
}

// run dispatches to the subcommand named by the first argument; anything else (including no
// argument, or a first argument that is a flag) runs the manager.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "manager":
			return runManager(ctx, args[1:], stderr)
		case "emulator":
			return runEmulator(ctx, args[1:], stdout, stderr)
		case "dev":
			return runDev(ctx, args[1:], stdout, stderr)
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usage)
			return nil
		}
	}
	return runManager(ctx, args, stderr)
}

const usage = `ftrack-operator keeps ftrack equal to the ftrack-operator.dev objects of a cluster.

Commands:
  ftrack-operator [manager] [flags]  run the manager (default); see 'ftrack-operator manager -h'
  ftrack-operator emulator [flags]   run a standalone ftrack server emulator
  ftrack-operator dev [flags]        run a local control plane, the emulator, the manager and the samples
`

// exitCode maps an error to the process exit status: 2 for usage errors, 1 otherwise.
func exitCode(err error) int {
	var usageErr *usageError
	if errors.Is(err, flag.ErrHelp) || errors.As(err, &usageErr) {
		return 2
	}
	return 1
}

// usageError is a bad command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }
