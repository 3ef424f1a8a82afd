// Package manifests reads Kubernetes manifests as kubectl apply takes them: files and
// directories (-f), standard input (-f -) and kustomizations (-k), in multi-document YAML or
// JSON.
package manifests

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
)

// Sources are where manifests are read from.
type Sources struct {
	// Files are files or directories; "-" is Stdin. A directory's *.yaml, *.yml and *.json
	// files are read, and its subdirectories' too with Recursive.
	Files     []string
	Recursive bool
	// Kustomizations are directories rendered as kubectl apply -k renders them.
	Kustomizations []string
	// Stdin is read for "-".
	Stdin io.Reader
}

// Load reads every object of s, in order. An empty document is skipped; a document that is
// not an object with apiVersion and kind is an error naming its file.
func Load(s Sources) ([]*unstructured.Unstructured, error) {
	if len(s.Files) == 0 && len(s.Kustomizations) == 0 {
		return nil, errors.New("no manifests: give -f FILE|DIR|- or -k DIR")
	}
	var out []*unstructured.Unstructured
	for _, f := range s.Files {
		objs, err := loadPath(f, s)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	for _, dir := range s.Kustomizations {
		objs, err := Kustomize(dir)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// kustomizeMu serialises renders: kustomize (kyaml) builds its OpenAPI schema into package
// variables on first use without a lock, so two renders at once in one process race (seen
// under -race when dev rendered config/default while a test rendered the samples).
var kustomizeMu sync.Mutex

// Kustomize renders the kustomization in dir with kustomize's default options.
func Kustomize(dir string) ([]*unstructured.Unstructured, error) {
	return KustomizeWith(dir, krusty.MakeDefaultOptions())
}

// KustomizeWith renders the kustomization in dir with opts; renders in this process run one
// at a time.
func KustomizeWith(dir string, opts *krusty.Options) ([]*unstructured.Unstructured, error) {
	kustomizeMu.Lock()
	defer kustomizeMu.Unlock()
	k := krusty.MakeKustomizer(opts)
	resMap, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("rendering the kustomization in %s: %w", dir, err)
	}
	objs := make([]*unstructured.Unstructured, 0, resMap.Size())
	for _, res := range resMap.Resources() {
		m, err := res.Map()
		if err != nil {
			return nil, fmt.Errorf("rendering the kustomization in %s: %w", dir, err)
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	return objs, nil
}

func loadPath(path string, s Sources) ([]*unstructured.Unstructured, error) {
	if path == "-" {
		if s.Stdin == nil {
			return nil, errors.New("-f -: no standard input")
		}
		return Decode(s.Stdin, "standard input")
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return loadFile(path)
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && !s.Recursive {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out []*unstructured.Unstructured
	for _, f := range files {
		objs, err := loadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

func loadFile(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the user names the manifests to read
	if err != nil {
		return nil, err
	}
	return Decode(bytes.NewReader(data), path)
}

// Decode reads the objects of a multi-document YAML or JSON stream; name names it in errors.
// A List is unpacked into its items.
func Decode(r io.Reader, name string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	var out []*unstructured.Unstructured
	for n := 1; ; n++ {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("%s: document %d: %w", name, n, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetAPIVersion() == "" || u.GetKind() == "" {
			return nil, fmt.Errorf("%s: document %d is not a Kubernetes object (no apiVersion or kind)", name, n)
		}
		if u.IsList() {
			list, err := u.ToList()
			if err != nil {
				return nil, fmt.Errorf("%s: document %d: %w", name, n, err)
			}
			for i := range list.Items {
				out = append(out, &list.Items[i])
			}
			continue
		}
		out = append(out, u)
	}
}

// Is reports whether u is an object of the operator's kind.
func Is(u *unstructured.Unstructured, kind string) bool {
	return u.GroupVersionKind().Group == v1alpha1.GroupVersion.Group && u.GetKind() == kind
}

// Convert converts u into the typed object out (an FtrackEntity, a connection, a Secret).
func Convert(u *unstructured.Unstructured, out any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, out, true)
}

// Scheme returns a scheme of the kinds the commands read: the core kinds and the operator's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}
