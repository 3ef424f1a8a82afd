// Command kubectl-ftrack is the kubectl plugin of ftrack-operator: once it is on the PATH,
// `kubectl ftrack plan` prints what applying FtrackEntity manifests would change in ftrack,
// as the operator would do it, without writing anything, and `kubectl ftrack export` writes
// an existing site as manifests that adopt it.
//
// Usage:
//
//	kubectl ftrack plan -f FILE|DIR|- | -k DIR [flags]
//	kubectl ftrack export (--project NAME ... | --all-projects) [flags]
//	kubectl ftrack version
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ftrack-operator/ftrack-operator/internal/cli"
	"github.com/ftrack-operator/ftrack-operator/internal/export"
	"github.com/ftrack-operator/ftrack-operator/internal/planrun"
)

// version is set at build time: -ldflags "-X main.version=v0.2.0".
var version = "devel"

func main() {
	ctx := ctrl.SetupSignalHandler()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !cli.Silent(err) {
			fmt.Fprintln(os.Stderr, "kubectl ftrack:", err)
		}
		os.Exit(cli.ExitCode(err))
	}
}

const usage = `kubectl ftrack: ftrack-operator's kubectl plugin.

Commands:
  plan      print what applying FtrackEntity manifests would change in ftrack; see 'kubectl ftrack plan -h'
  export    write an existing ftrack site as manifests that adopt it; see 'kubectl ftrack export -h'
  version   print the plugin's version
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &cli.UsageError{Msg: "a command is needed"}
	}
	switch args[0] {
	case "plan":
		return planrun.Command(ctx, "kubectl ftrack plan", args[1:], stdin, stdout, stderr)
	case "export":
		return export.Command(ctx, "kubectl ftrack export", args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "kubectl-ftrack %s\n", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return cli.Usagef("unknown command %q", args[0])
}
