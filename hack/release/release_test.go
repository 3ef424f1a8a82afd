package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
)

// TestRelease writes a release for the host's platform and checks what it holds: every
// checksum, the plugin binary (it runs and prints the release's version), the krew manifest
// (it points at the archive, with its checksum) and install.yaml (the release's image).
func TestRelease(t *testing.T) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	const version = "v0.0.1-test"
	platform := runtime.GOOS + "/" + runtime.GOARCH
	out := filepath.Join(t.TempDir(), "dist")
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"--version", version, "--platforms", platform, "--out", out, "--root", root, "--image", "registry.example.com/ftrack-operator"}, &stdout, &stderr); err != nil {
		t.Fatalf("release: %v\n%s", err, stderr.String())
	}

	sums, err := os.ReadFile(filepath.Join(out, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(sums)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("checksums.txt line %q", line)
		}
		listed[name] = sum
		got, err := fileSHA256(filepath.Join(out, name))
		if err != nil || got != sum {
			t.Errorf("%s: checksum %s, file has %s (%v)", name, sum, got, err)
		}
	}
	archive := "kubectl-ftrack_" + version + "_" + runtime.GOOS + "_" + runtime.GOARCH + ".tar.gz"
	if runtime.GOOS == "windows" {
		archive = strings.TrimSuffix(archive, ".tar.gz") + ".zip"
	}
	chart := "ftrack-operator-" + strings.TrimPrefix(version, "v") + ".tgz"
	for _, want := range []string{"install.yaml", "ftrack.yaml", archive, chart} {
		if _, ok := listed[want]; !ok {
			t.Errorf("checksums.txt lists no %s: %s", want, sums)
		}
	}

	// The plugin runs and knows its version.
	bin := filepath.Join(t.TempDir(), "kubectl-ftrack")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	extract(t, filepath.Join(out, archive), filepath.Base(bin), bin)
	got, err := exec.CommandContext(t.Context(), bin, "version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(got)) != "kubectl-ftrack "+version {
		t.Errorf("kubectl-ftrack version printed %q (%v), want kubectl-ftrack %s", got, err, version)
	}

	// The krew manifest points at the archive, with its checksum.
	var manifest struct {
		Spec struct {
			Version   string `json:"version"`
			Platforms []struct {
				URI    string `json:"uri"`
				SHA256 string `json:"sha256"`
				Bin    string `json:"bin"`
			} `json:"platforms"`
		} `json:"spec"`
	}
	data, err := os.ReadFile(filepath.Join(out, "ftrack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &manifest); err != nil {
		t.Fatal(err)
	}
	if manifest.Spec.Version != version || len(manifest.Spec.Platforms) != 1 {
		t.Fatalf("krew manifest: %s", data)
	}
	p := manifest.Spec.Platforms[0]
	if !strings.HasSuffix(p.URI, "/"+version+"/"+archive) || p.SHA256 != listed[archive] || p.Bin != filepath.Base(bin) {
		t.Errorf("krew platform %+v does not point at %s (sha256 %s)", p, archive, listed[archive])
	}

	// install.yaml carries the release's image.
	install, err := os.ReadFile(filepath.Join(out, "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(install), "image: registry.example.com/ftrack-operator:"+version+"\n") {
		t.Error("install.yaml does not use the release's image")
	}

	// The chart package carries the release's version and image; helm reads it.
	chartYAML, values := readTarFile(t, filepath.Join(out, chart), "ftrack-operator/Chart.yaml"), readTarFile(t, filepath.Join(out, chart), "ftrack-operator/values.yaml")
	if !strings.Contains(chartYAML, "\nversion: 0.0.1-test\n") || !strings.Contains(chartYAML, "\nappVersion: "+version+"\n") {
		t.Errorf("the chart package's Chart.yaml:\n%s", chartYAML)
	}
	if !strings.Contains(values, "\n  repository: registry.example.com/ftrack-operator\n") {
		t.Errorf("the chart package's values.yaml does not default to the release's image:\n%s", values)
	}
	if helm, err := testenv.Helm(); err != nil {
		t.Error(err)
	} else if msg, err := exec.CommandContext(t.Context(), helm, "lint", "--strict", filepath.Join(out, chart)).CombinedOutput(); err != nil {
		t.Errorf("helm lint %s: %v\n%s", chart, err, msg)
	}

	// A second run replaces its own output; a directory it did not write is refused.
	if err := run(t.Context(), []string{"--version", version, "--platforms", platform, "--out", out, "--root", root}, io.Discard, io.Discard); err != nil {
		t.Errorf("a second run into its own output: %v", err)
	}
	foreign := t.TempDir()
	if err := os.WriteFile(filepath.Join(foreign, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), []string{"--version", version, "--platforms", platform, "--out", foreign, "--root", root}, io.Discard, io.Discard); err == nil {
		t.Error("a run into a directory it did not write succeeded")
	}
	if _, err := os.Stat(filepath.Join(foreign, "keep.txt")); err != nil {
		t.Errorf("the refused run touched the directory: %v", err)
	}
}

func TestReleaseRefusesBadArguments(t *testing.T) {
	for name, args := range map[string][]string{
		"NoVersion":       {},
		"NotAVersion":     {"--version", "0.2"},
		"UnknownPlatform": {"--version", "v0.2.0", "--platforms", "plan9/386"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := run(t.Context(), append(args, "--out", filepath.Join(t.TempDir(), "dist")), io.Discard, io.Discard); err == nil {
				t.Errorf("release %v succeeded", args)
			}
		})
	}
}

// readTarFile returns the file name of the tar.gz archive path.
func readTarFile(t *testing.T, path, name string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s holds no %s: %v", path, name, err)
		}
		if h.Name == name {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return string(data)
		}
	}
}

// extract copies the file name out of the archive at path (zip or tar.gz) to dst.
func extract(t *testing.T, path, name, dst string) {
	t.Helper()
	var data []byte
	if strings.HasSuffix(path, ".zip") {
		zr, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = zr.Close() }()
		f, err := zr.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if data, err = io.ReadAll(f); err != nil {
			t.Fatal(err)
		}
	} else {
		data = []byte(readTarFile(t, path, name))
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
}
