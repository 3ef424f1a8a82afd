// Command ftrack-operator keeps ftrack (production tracking for VFX, animation and games) equal
// to the FtrackConnection, ClusterFtrackConnection and FtrackEntity objects of a Kubernetes
// cluster.
//
// Usage:
//
//	ftrack-operator [manager flags]    run the manager (the default command)
//	ftrack-operator emulator [flags]   run a standalone ftrack server emulator
//	ftrack-operator dev [flags]        run a local control plane, the emulator, the manager and the samples
//
// The release build (go build -tags release) is the manager alone: it links neither dev,
// the emulator, envtest, kustomize nor the plugin interpreter.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ftrack-operator/ftrack-operator/internal/cli"
	"github.com/ftrack-operator/ftrack-operator/internal/manager"
)

// command is a subcommand of the binary.
type command struct {
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
	summary string
}

// commands are the subcommands besides the manager; builds for development add dev and
// emulator (commands_dev.go).
var commands = map[string]command{
	"manager": {run: func(ctx context.Context, args []string, _, stderr io.Writer) error {
		return manager.Run(ctx, args, stderr)
	},
		summary: "run the manager (default); see 'ftrack-operator manager -h'"},
}

func main() {
	ctx := ctrl.SetupSignalHandler()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !cli.Silent(err) {
			fmt.Fprintln(os.Stderr, "ftrack-operator:", err)
		}
		os.Exit(cli.ExitCode(err))
	}
}

// run dispatches to the subcommand named by the first argument; anything else (including no
// argument, or a first argument that is a flag) runs the manager.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		if c, ok := commands[args[0]]; ok {
			return c.run(ctx, args[1:], stdout, stderr)
		}
		switch args[0] {
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usage())
			return nil
		case "dev", "emulator", "plan", "export":
			return cli.Usagef("%q is not part of this build (the release build is the manager alone); run it from a checkout: go run . %s", args[0], args[0])
		}
	}
	return manager.Run(ctx, args, stderr)
}

// usage lists the commands of this build.
func usage() string {
	var b strings.Builder
	b.WriteString("ftrack-operator keeps ftrack equal to the ftrack-operator.dev objects of a cluster.\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  ftrack-operator %-9s %s\n", n, commands[n].summary)
	}
	return b.String()
}
