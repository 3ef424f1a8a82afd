// Command release writes a release's artifacts into an output directory (dist/ by default):
// install.yaml (config/default rendered, with the manager image of the release), the Helm
// chart package (charts/ftrack-operator with the release's version and image), the
// kubectl-ftrack plugin for each platform as an archive, a krew plugin manifest that points
// at the archives, and checksums.txt (SHA-256 of every artifact).
//
// Usage: go run ./hack/release --version v0.2.0 [--image REPO] [--platforms os/arch,...]
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/yaml"

	"github.com/ftrack-operator/ftrack-operator/internal/manifests"
)

// defaultPlatforms are the platforms the plugin is built for.
var defaultPlatforms = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64", "windows/arm64"}

// marker names the output directory as one this command wrote, so that a later run may
// replace it.
const marker = ".ftrack-release"

var semver = regexp.MustCompile(`^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$`)

type options struct {
	version     string
	image       string
	downloadURL string
	platforms   []string
	out         string
	root        string
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var platforms string
	fs.StringVar(&o.version, "version", "", "The release's version, vMAJOR.MINOR.PATCH[-PRERELEASE] (required).")
	fs.StringVar(&o.image, "image", "ftrack-operator", "Repository of the manager image; install.yaml uses REPOSITORY:VERSION.")
	fs.StringVar(&o.downloadURL, "download-url", "https://github.com/ftrack-operator/ftrack-operator/releases/download/{version}", "Where the release's files are downloaded from; {version} is replaced. The krew manifest points there.")
	fs.StringVar(&platforms, "platforms", strings.Join(defaultPlatforms, ","), "Comma-separated os/arch pairs to build the plugin for.")
	fs.StringVar(&o.out, "out", "dist", "Output directory; replaced when a previous release run wrote it.")
	fs.StringVar(&o.root, "root", ".", "The module's root directory.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !semver.MatchString(o.version) {
		return fmt.Errorf("--version %q is not a version like v0.2.0", o.version)
	}
	for p := range strings.SplitSeq(platforms, ",") {
		if p = strings.TrimSpace(p); p != "" {
			if !slices.Contains(defaultPlatforms, p) {
				return fmt.Errorf("--platforms: %q is not one of %s", p, strings.Join(defaultPlatforms, ", "))
			}
			o.platforms = append(o.platforms, p)
		}
	}
	if len(o.platforms) == 0 {
		return errors.New("--platforms names no platform")
	}
	o.downloadURL = strings.ReplaceAll(o.downloadURL, "{version}", o.version)
	if err := prepareOut(o.out); err != nil {
		return err
	}
	files := []string{}
	install, err := renderInstall(o)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.out, "install.yaml"), install, 0o644); err != nil {
		return err
	}
	files = append(files, "install.yaml")
	chart, err := packageChart(o)
	if err != nil {
		return err
	}
	files = append(files, chart)
	fmt.Fprintf(stdout, "packaged %s\n", chart)
	var archives []pluginArchive
	for _, p := range o.platforms {
		a, err := buildPlugin(ctx, o, p)
		if err != nil {
			return err
		}
		archives = append(archives, a)
		files = append(files, a.name)
		fmt.Fprintf(stdout, "built %s\n", a.name)
	}
	manifest, err := krewManifest(o, archives)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.out, "ftrack.yaml"), manifest, 0o644); err != nil {
		return err
	}
	files = append(files, "ftrack.yaml")
	var sums strings.Builder
	slices.Sort(files)
	for _, f := range files {
		sum, err := fileSHA256(filepath.Join(o.out, f))
		if err != nil {
			return err
		}
		fmt.Fprintf(&sums, "%s  %s\n", sum, f)
	}
	if err := os.WriteFile(filepath.Join(o.out, "checksums.txt"), []byte(sums.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "release %s written to %s: %s, checksums.txt\n", o.version, o.out, strings.Join(files, ", "))
	return nil
}

// prepareOut empties out when a previous run wrote it, and refuses any other directory.
func prepareOut(out string) error {
	entries, err := os.ReadDir(out)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(out, marker)); err != nil {
			return fmt.Errorf("%s exists and was not written by a release run; remove it or choose --out", out)
		}
		if err := os.RemoveAll(out); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, marker), nil, 0o644)
}

// renderInstall renders config/default with the release's manager image.
func renderInstall(o options) ([]byte, error) {
	// kubectl's order (namespaces and CRDs first), so that kubectl apply -f install.yaml
	// creates the namespace before what lives in it.
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy
	objs, err := manifests.KustomizeWith(filepath.Join(o.root, "config", "default"), opts)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# ftrack-operator %s: kubectl apply --server-side -f install.yaml\n", o.version)
	images := 0
	for _, u := range objs {
		if u.GetKind() == "Deployment" {
			v, _, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "template", "spec", "containers")
			containers, _ := v.([]any)
			for _, c := range containers {
				if cm, ok := c.(map[string]any); ok && cm["name"] == "manager" {
					cm["image"] = o.image + ":" + o.version
					images++
				}
			}
		}
		data, err := yaml.Marshal(u.Object)
		if err != nil {
			return nil, err
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	if images != 1 {
		return nil, fmt.Errorf("config/default has %d containers named manager, want 1", images)
	}
	return b.Bytes(), nil
}

// chartDir is the Helm chart, relative to the module's root.
const chartDir = "charts/ftrack-operator"

// packageChart writes the Helm chart's package, ftrack-operator-<version>.tgz, as helm
// package would (one directory named after the chart), with the release's version as the
// chart's version and appVersion, and its image repository as the default image. Times and
// modes are fixed, so the package depends on the chart's files alone.
func packageChart(o options) (string, error) {
	root := filepath.Join(o.root, chartDir)
	ignore, err := helmIgnore(filepath.Join(root, ".helmignore"))
	if err != nil {
		return "", err
	}
	var paths []string
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if ignored(ignore, rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			paths = append(paths, rel)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reading the chart: %w", err)
	}
	slices.Sort(paths)
	chartVersion := strings.TrimPrefix(o.version, "v")
	name := "ftrack-operator-" + chartVersion + ".tgz"
	var buf bytes.Buffer
	stamp := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	gz := gzip.NewWriter(&buf)
	gz.ModTime = stamp
	tw := tar.NewWriter(gz)
	for _, rel := range paths {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return "", err
		}
		switch rel {
		case "Chart.yaml":
			if data, err = replaceLine(data, "Chart.yaml", `version: .*`, "version: "+chartVersion); err == nil {
				data, err = replaceLine(data, "Chart.yaml", `appVersion: .*`, "appVersion: "+o.version)
			}
		case "values.yaml":
			data, err = replaceLine(data, "values.yaml", `  repository: .*`, "  repository: "+o.image)
		}
		if err != nil {
			return "", err
		}
		hdr := &tar.Header{Name: "ftrack-operator/" + rel, Mode: 0o644, Size: int64(len(data)), ModTime: stamp, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return "", err
		}
		if _, err := tw.Write(data); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := gz.Close(); err != nil {
		return "", err
	}
	return name, os.WriteFile(filepath.Join(o.out, name), buf.Bytes(), 0o644)
}

// replaceLine replaces the one line of data that matches pattern (the whole line) with line;
// a file with no such line, or more than one, is an error: the chart changed shape.
func replaceLine(data []byte, file, pattern, line string) ([]byte, error) {
	re := regexp.MustCompile(`(?m)^` + pattern + `$`)
	if n := len(re.FindAll(data, -1)); n != 1 {
		return nil, fmt.Errorf("%s/%s has %d lines like %q, want 1", chartDir, file, n, pattern)
	}
	return re.ReplaceAllLiteral(data, []byte(line)), nil
}

// helmIgnore reads the patterns of a .helmignore file (the subset the chart uses: globs
// matched against a path's base name, and directories ending in /).
func helmIgnore(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for l := range strings.SplitSeq(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			if strings.HasPrefix(l, "!") || strings.Contains(strings.TrimSuffix(l, "/"), "/") {
				return nil, fmt.Errorf("%s: pattern %q is not supported by the release packager (only base-name globs and dir/)", path, l)
			}
			out = append(out, l)
		}
	}
	return out, nil
}

func ignored(patterns []string, rel string, dir bool) bool {
	base := rel[strings.LastIndex(rel, "/")+1:]
	for _, p := range patterns {
		if dp, ok := strings.CutSuffix(p, "/"); ok {
			if dir && base == dp {
				return true
			}
			continue
		}
		if ok, _ := filepath.Match(p, base); ok {
			return true
		}
	}
	return false
}

type pluginArchive struct {
	os, arch, name, sha256, bin string
}

// buildPlugin builds kubectl-ftrack for platform and archives it (zip for Windows, tar.gz
// otherwise), with fixed times and modes so that the archive depends on the binary alone.
func buildPlugin(ctx context.Context, o options, platform string) (pluginArchive, error) {
	goos, goarch, _ := strings.Cut(platform, "/")
	bin := "kubectl-ftrack"
	if goos == "windows" {
		bin += ".exe"
	}
	tmp, err := os.MkdirTemp("", "kubectl-ftrack-")
	if err != nil {
		return pluginArchive{}, err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	out := filepath.Join(tmp, bin)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+o.version, "-o", out, "./cmd/kubectl-ftrack")
	cmd.Dir = o.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return pluginArchive{}, fmt.Errorf("building kubectl-ftrack for %s: %w\n%s", platform, err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return pluginArchive{}, err
	}
	a := pluginArchive{os: goos, arch: goarch, bin: bin}
	var buf bytes.Buffer
	stamp := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if goos == "windows" {
		a.name = fmt.Sprintf("kubectl-ftrack_%s_%s_%s.zip", o.version, goos, goarch)
		zw := zip.NewWriter(&buf)
		h := &zip.FileHeader{Name: bin, Method: zip.Deflate, Modified: stamp}
		h.SetMode(0o755)
		w, err := zw.CreateHeader(h)
		if err == nil {
			_, err = w.Write(data)
		}
		if err == nil {
			err = zw.Close()
		}
		if err != nil {
			return pluginArchive{}, err
		}
	} else {
		a.name = fmt.Sprintf("kubectl-ftrack_%s_%s_%s.tar.gz", o.version, goos, goarch)
		gz := gzip.NewWriter(&buf)
		gz.ModTime = stamp
		tw := tar.NewWriter(gz)
		err := tw.WriteHeader(&tar.Header{Name: bin, Mode: 0o755, Size: int64(len(data)), ModTime: stamp, Typeflag: tar.TypeReg, Format: tar.FormatPAX})
		if err == nil {
			_, err = tw.Write(data)
		}
		if err == nil {
			err = tw.Close()
		}
		if err == nil {
			err = gz.Close()
		}
		if err != nil {
			return pluginArchive{}, err
		}
	}
	if err := os.WriteFile(filepath.Join(o.out, a.name), buf.Bytes(), 0o644); err != nil {
		return pluginArchive{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	a.sha256 = hex.EncodeToString(sum[:])
	return a, nil
}

// krewManifest is the krew plugin manifest of the release: one platform per archive.
func krewManifest(o options, archives []pluginArchive) ([]byte, error) {
	var platforms []any
	for _, a := range archives {
		platforms = append(platforms, map[string]any{
			"selector": map[string]any{"matchLabels": map[string]any{"os": a.os, "arch": a.arch}},
			"uri":      strings.TrimSuffix(o.downloadURL, "/") + "/" + a.name,
			"sha256":   a.sha256,
			"bin":      a.bin,
			"files":    []any{map[string]any{"from": a.bin, "to": "."}},
		})
	}
	m := map[string]any{
		"apiVersion": "krew.googlecontainertools.github.com/v1alpha2",
		"kind":       "Plugin",
		"metadata":   map[string]any{"name": "ftrack"},
		"spec": map[string]any{
			"version":          o.version,
			"homepage":         "https://github.com/ftrack-operator/ftrack-operator",
			"shortDescription": "Plan and export ftrack sites managed by ftrack-operator",
			"description": "kubectl ftrack plan prints what applying FtrackEntity manifests would change in ftrack, " +
				"without writing anything; kubectl ftrack export writes an existing ftrack site as manifests that adopt it.",
			"platforms": platforms,
		},
	}
	return yaml.Marshal(m)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
