package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Connection is the connection the exported objects name, as written into connection/.
type Connection struct {
	// Kind and Name name it (FtrackConnection, or ClusterFtrackConnection).
	Kind, Name string
	// ServerURL is the site's URL.
	ServerURL string
	// SecretName is the Secret that holds its credentials; APIUser goes into the template.
	SecretName, APIUser string
	// SecretNamespace is the Secret's namespace (for a ClusterFtrackConnection).
	SecretNamespace string
}

// Files renders the export as the files of a GitOps tree, in the layout of config/samples:
// kustomization.yaml (namespace ns) naming connection/, site/ and show-<project>/; a
// kustomization.yaml in every directory; the objects of a file in export order. No file
// holds a credential: connection/secret.example.yaml is a Secret without the key.
func Files(res *Result, conn Connection, namespace string) (map[string][]byte, error) {
	files := map[string]*bytes.Buffer{}
	dirs := map[string][]string{} // dir → its resources (files and subdirectories)
	addResource := func(dir, res string) {
		if !slices.Contains(dirs[dir], res) {
			dirs[dir] = append(dirs[dir], res)
		}
	}
	write := func(path string, obj any) error {
		data, err := marshal(obj)
		if err != nil {
			return err
		}
		b := files[path]
		if b == nil {
			b = &bytes.Buffer{}
			files[path] = b
		}
		if b.Len() > 0 {
			b.WriteString("---\n")
		}
		b.Write(data)
		return nil
	}
	if conn.Kind != "ClusterFtrackConnection" {
		if err := write("connection/ftrackconnection.yaml", connectionObject(conn)); err != nil {
			return nil, err
		}
		addResource("connection", "ftrackconnection.yaml")
		addResource(".", "connection")
	}
	for _, o := range res.Objects {
		path := o.Dir + "/" + o.File
		if err := write(path, o.Entity); err != nil {
			return nil, err
		}
		addResource(o.Dir, o.File)
		// Every directory up to the root names its subdirectory.
		for d := o.Dir; d != "."; d = filepath.Dir(d) {
			addResource(filepath.Dir(d), filepath.Base(d))
		}
	}
	out := map[string][]byte{}
	for path, b := range files {
		out[path] = b.Bytes()
	}
	for dir, resources := range dirs {
		k := map[string]any{"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}
		if dir == "." {
			k["namespace"] = namespace
		}
		data, err := yaml.Marshal(k)
		if err != nil {
			return nil, err
		}
		out[filepath.Join(dir, "kustomization.yaml")] = data
	}
	if conn.Kind != "ClusterFtrackConnection" {
		out["connection/secret.example.yaml"] = []byte(secretTemplate(conn, namespace))
	}
	return out, nil
}

func connectionObject(c Connection) map[string]any {
	return map[string]any{
		"apiVersion": "ftrack-operator.dev/v1alpha1",
		"kind":       "FtrackConnection",
		"metadata":   map[string]any{"name": c.Name},
		"spec":       map[string]any{"serverURL": c.ServerURL, "secretRef": map[string]any{"name": c.SecretName}},
	}
}

// secretTemplate is the credentials Secret to create by hand (or through Sealed Secrets or
// External Secrets): it is not part of the kustomization and holds no key.
func secretTemplate(c Connection, namespace string) string {
	return fmt.Sprintf(`# The credentials of connection %[1]s. Not part of the kustomization, and no key is ever
# exported: create the Secret yourself, for example with
#   kubectl -n %[2]s create secret generic %[3]s --from-literal=apiUser=%[4]s --from-literal=apiKey=...
# or keep it in Git through Sealed Secrets, External Secrets or SOPS.
apiVersion: v1
kind: Secret
metadata:
  name: %[3]s
  namespace: %[2]s
stringData:
  apiUser: %[4]q
  apiKey: ""
`, c.Name, namespace, c.SecretName, c.APIUser)
}

// markerFile lists, in a tree's root, the files an export wrote: a later export into the same
// directory removes those it no longer writes (entities deleted in ftrack since) and nothing
// else.
const markerFile = ".ftrack-export"

// WriteDir writes files below dir. dir must be new, empty, or the tree of an earlier export:
// then the files that export wrote and this one does not are removed, and files added by hand
// are kept.
func WriteDir(dir string, files map[string][]byte) error {
	paths := slices.Sorted(maps.Keys(files))
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	// Every path is opened below dir: none of them, nor a marker someone edited, reaches out.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer func() { _ = root.Close() }()
	if len(entries) > 0 {
		old, err := root.ReadFile(markerFile)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s is not empty and no export wrote it (it has no %s): choose a new or empty directory", dir, markerFile)
		}
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(old), "\n") {
			p := strings.TrimSpace(line)
			if p == "" || strings.HasPrefix(p, "#") {
				continue
			}
			if _, kept := files[p]; kept {
				continue
			}
			if !filepath.IsLocal(p) {
				return fmt.Errorf("%s names %q, which is not below %s; remove the file by hand", markerFile, p, dir)
			}
			if err := root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			// Directories the removal emptied go too (Remove keeps any that is not empty).
			for d := filepath.Dir(p); d != "."; d = filepath.Dir(d) {
				if root.Remove(d) != nil {
					break
				}
			}
		}
	}
	for _, p := range paths {
		if err := root.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return err
		}
		if err := root.WriteFile(p, files[p], 0o600); err != nil {
			return err
		}
	}
	marker := "# The files the last ftrack-operator export wrote here; the next export removes those it no longer writes.\n" + strings.Join(paths, "\n") + "\n"
	return root.WriteFile(markerFile, []byte(marker), 0o600)
}

// WriteYAML writes the export as one multi-document YAML stream with the namespace set: the
// FtrackConnection (not its Secret), then every object.
func WriteYAML(w io.Writer, res *Result, conn Connection, namespace string) error {
	var docs []any
	if conn.Kind != "ClusterFtrackConnection" {
		c := connectionObject(conn)
		c["metadata"].(map[string]any)["namespace"] = namespace
		docs = append(docs, c)
	}
	for _, o := range res.Objects {
		obj := o.Entity.DeepCopy()
		obj.Namespace = namespace
		docs = append(docs, obj)
	}
	for i, d := range docs {
		data, err := marshal(d)
		if err != nil {
			return err
		}
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	return nil
}

// marshal renders an object as YAML without what only the API server fills (status,
// creationTimestamp).
func marshal(obj any) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	return yaml.Marshal(m)
}
