package planrun

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-logr/logr"
	"golang.org/x/term"

	"github.com/ftrack-operator/ftrack-operator/internal/cli"
	"github.com/ftrack-operator/ftrack-operator/internal/manifests"
)

// Exit codes of plan, as terraform plan -detailed-exitcode.
var (
	// ErrChanges: the plan changes something (exit code 2).
	ErrChanges = &cli.ExitError{Code: 2}
	// ErrInvalid: an object is invalid (exit code 1); the plan names it.
	ErrInvalid = &cli.ExitError{Code: 1}
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// Command runs `plan` with args: it reads the manifests, reaches ftrack and the cluster,
// and prints the plan. It returns nil when nothing changes, ErrChanges when something does,
// ErrInvalid when an object is invalid, and another error when the plan cannot be made
// (see cli.ExitCode).
func Command(ctx context.Context, name string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var files, kustomizations stringList
	fs.Var(&files, "f", "A manifest file or directory to plan (repeatable); - reads standard input.")
	fs.Var(&files, "filename", "Same as -f.")
	fs.Var(&kustomizations, "k", "A kustomization directory to plan (repeatable), as kubectl apply -k.")
	fs.Var(&kustomizations, "kustomize", "Same as -k.")
	recursive := fs.Bool("R", false, "Read the directories of -f recursively.")
	namespace := fs.String("n", "", "Namespace of the objects that name none (default: the kubeconfig context's, else \"default\").")
	fs.StringVar(namespace, "namespace", "", "Same as -n.")
	kubeconfig := fs.String("kubeconfig", "", "The kubeconfig file (default: $KUBECONFIG, else ~/.kube/config), as kubectl.")
	kubeContext := fs.String("context", "", "The kubeconfig context to use.")
	noCluster := fs.Bool("no-cluster", false, "Do not read the cluster: plan every object as new, with the connections of the manifests or --server.")
	server := fs.String("server", "", "The ftrack server every connection reaches (default: each connection's, read from the manifests or the cluster); the credentials come from FTRACK_API_USER and FTRACK_API_KEY or --secret.")
	secret := fs.String("secret", "", "A file of FTRACK_API_USER=… and FTRACK_API_KEY=… lines (or apiUser, apiKey) for --server.")
	prune := fs.Bool("prune", false, "Plan the objects of the same namespaces and connections that are in the cluster but not in the manifests as deleted, as kubectl apply --prune.")
	output := fs.String("o", "text", "Output: text, json or markdown.")
	fs.StringVar(output, "output", "text", "Same as -o.")
	noColor := fs.Bool("no-color", false, "No colour in the text output (there is none when the output is not a terminal).")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: %s -f FILE|DIR|- | -k DIR [flags]

Prints what applying the manifests would change in ftrack, as the operator would do it, and
writes nothing. Exit code: 0 no changes, 2 changes, 1 an error or an invalid object.

Flags:
`, name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q; see '%s -h'", fs.Arg(0), name)
	}
	switch *output {
	case "text", "json", "markdown":
	default:
		return cli.Usagef("-o must be text, json or markdown, got %q", *output)
	}
	objs, err := manifests.Load(manifests.Sources{Files: files, Recursive: *recursive, Kustomizations: kustomizations, Stdin: stdin})
	if err != nil {
		return err
	}
	opts := Options{Objects: objs, Namespace: *namespace, Prune: *prune, Log: logr.Discard()}
	if *server != "" {
		s := &Server{}
		if s.URL, s.APIUser, s.APIKey, err = cli.ServerCredentials(*server, *secret); err != nil {
			return err
		}
		opts.Server = s
	} else if *secret != "" {
		return cli.Usagef("--secret needs --server")
	}
	if !*noCluster {
		c, ns, err := cli.ClusterReader(*kubeconfig, *kubeContext, manifests.Scheme())
		switch {
		case err != nil && opts.Server == nil:
			return fmt.Errorf("reaching the cluster (for the connections and the objects it holds): %w; give --server to plan without a cluster", err)
		case err == nil:
			opts.Cluster = c
			if opts.Namespace == "" {
				opts.Namespace = ns
			}
		}
	}
	if *prune && opts.Cluster == nil {
		return cli.Usagef("--prune needs the cluster")
	}
	res, err := Run(ctx, opts)
	if err != nil {
		return err
	}
	switch *output {
	case "json":
		err = WriteJSON(stdout, res)
	case "markdown":
		err = WriteMarkdown(stdout, res)
	default:
		err = WriteText(stdout, res, !*noColor && isTerminal(stdout))
	}
	switch {
	case err != nil:
		return err
	case res.Summary.Invalid > 0:
		return ErrInvalid
	case res.Changed():
		return ErrChanges
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
