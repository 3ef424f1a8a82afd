package export

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/cli"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/internal/manifests"
)

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// Command runs `export` with args: it reads the site through a connection of the cluster or
// --server, and writes the tree (or YAML to stdout with -o yaml).
func Command(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var projects stringList
	fs.Var(&projects, "project", "A project to export, by name (repeatable).")
	all := fs.Bool("all-projects", false, "Export every project.")
	site := fs.Bool("site", false, "Also export the site configuration the projects use: custom attribute configurations, statuses, types and priorities.")
	types := fs.String("types", "", "Comma-separated entity types to export (default: all); projects are always read.")
	management := fs.String("management", string(v1alpha1.ManagementManage), "Manage, or Observe for observe-only objects.")
	out := fs.String("output-dir", "ftrack-export", "Directory the tree is written to.")
	format := fs.String("o", "tree", "tree (files below --output-dir) or yaml (every object to standard output).")
	namespace := fs.String("n", "", "Namespace of the exported objects (default: the kubeconfig context's, else \"default\").")
	fs.StringVar(namespace, "namespace", "", "Same as -n.")
	connName := fs.String("connection", "", "The FtrackConnection (in the namespace) to read the site through, and that the objects name; with --server, the name the objects give their connection (default studio).")
	clusterConn := fs.String("cluster-connection", "", "A ClusterFtrackConnection to read the site through, and that the objects name.")
	kubeconfig := fs.String("kubeconfig", "", "The kubeconfig file, as kubectl.")
	kubeContext := fs.String("context", "", "The kubeconfig context to use.")
	server := fs.String("server", "", "The ftrack server to read, with FTRACK_API_USER and FTRACK_API_KEY or --secret, instead of a connection of the cluster.")
	secret := fs.String("secret", "", "A file of FTRACK_API_USER=… and FTRACK_API_KEY=… lines for --server.")
	secretName := fs.String("secret-name", "ftrack-credentials", "With --server: the Secret the exported connection reads its credentials from.")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: %s (--project NAME ... | --all-projects) [flags]

Writes an existing ftrack site as FtrackEntity manifests that adopt what exists (spec.adopt.id),
in the layout of config/samples: connection/, site/, show-<project>/<sequence>/<shot>.yaml.
Applying them creates nothing in ftrack; no credential is ever written.

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
	if *all == (len(projects) > 0) {
		return cli.Usagef("give --project NAME (repeatable) or --all-projects")
	}
	if *format != "tree" && *format != "yaml" {
		return cli.Usagef("-o must be tree or yaml, got %q", *format)
	}
	mgmt := v1alpha1.Management(*management)
	if mgmt != v1alpha1.ManagementManage && mgmt != v1alpha1.ManagementObserve {
		return cli.Usagef("--management must be Manage or Observe, got %q", *management)
	}
	if *connName != "" && *clusterConn != "" {
		return cli.Usagef("--connection and --cluster-connection exclude each other")
	}
	opts := Options{Projects: projects, AllProjects: *all, Site: *site, Management: mgmt}
	if *types != "" {
		for _, t := range strings.Split(*types, ",") {
			opts.Types = append(opts.Types, strings.TrimSpace(t))
		}
	}
	var c *connection.Connection
	var desc Connection
	ns := *namespace
	var pool connection.Pool
	if *server != "" {
		url, user, key, err := cli.ServerCredentials(*server, *secret)
		if err != nil {
			return err
		}
		name := *connName
		if name == "" {
			name = "studio"
		}
		settings := &v1alpha1.ConnectionSettings{ServerURL: url}
		if c, err = pool.Open(ctx, connection.Spec{Key: connection.Key{Kind: "Server", Name: settings.ServerURL}, Settings: settings,
			Credentials: connection.Credentials{APIUser: user, APIKey: key}, Log: logr.Discard()}); err != nil {
			return fmt.Errorf("opening a session with %s: %w", settings.ServerURL, err)
		}
		opts.ConnectionRef = v1alpha1.ConnectionReference{Name: name}
		desc = Connection{Kind: connection.KindFtrackConnection, Name: name, ServerURL: settings.ServerURL, SecretName: *secretName, APIUser: user}
		if ns == "" {
			ns = "default"
		}
	} else {
		if *connName == "" && *clusterConn == "" {
			return cli.Usagef("name the connection to read the site through (--connection or --cluster-connection), or give --server")
		}
		reader, kubeNS, err := cli.ClusterReader(*kubeconfig, *kubeContext, manifests.Scheme())
		if err != nil {
			return fmt.Errorf("reaching the cluster: %w", err)
		}
		if ns == "" {
			ns = kubeNS
		}
		ref := v1alpha1.ConnectionReference{Name: *connName}
		if *clusterConn != "" {
			ref = v1alpha1.ConnectionReference{Kind: connection.KindClusterFtrackConnection, Name: *clusterConn}
		}
		key := connection.KeyFor(ns, ref)
		var obj client.Object = &v1alpha1.FtrackConnection{}
		if key.Kind == connection.KindClusterFtrackConnection {
			obj = &v1alpha1.ClusterFtrackConnection{}
		}
		if err := reader.Get(ctx, key.NamespacedName(), obj); err != nil {
			return fmt.Errorf("reading %s %q: %w", key.Kind, key.Name, err)
		}
		co, _ := connection.ObjectOf(obj)
		creds, _, err := connection.LoadCredentials(ctx, reader, co)
		if err != nil {
			return fmt.Errorf("%s %q: %w", key.Kind, key.Name, err)
		}
		if c, err = pool.Open(ctx, connection.Spec{Key: key, Settings: co.Settings, Credentials: creds, Log: logr.Discard()}); err != nil {
			return fmt.Errorf("%s %q: opening a session: %w", key.Kind, key.Name, err)
		}
		opts.ConnectionRef = ref
		desc = Connection{Kind: key.Kind, Name: key.Name, ServerURL: co.Settings.ServerURL, SecretName: co.SecretName, SecretNamespace: co.SecretNamespace, APIUser: creds.APIUser}
	}
	defer c.Close()
	opts.Conn = c
	res, err := Export(ctx, opts)
	if err != nil {
		return err
	}
	if *format == "yaml" {
		return WriteYAML(stdout, res, desc, ns)
	}
	files, err := Files(res, desc, ns)
	if err != nil {
		return err
	}
	if err := WriteDir(*out, files); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d objects into %s (namespace %s); apply with: kubectl apply -k %s\n", len(res.Objects), *out, ns, *out)
	return nil
}
