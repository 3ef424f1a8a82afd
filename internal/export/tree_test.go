package export

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteDirReplacesOnlyAnEarlierExport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tree")
	first := map[string][]byte{
		"kustomization.yaml":              []byte("resources: [show-a]\n"),
		"show-a/kustomization.yaml":       []byte("resources: [project.yaml, sq010]\n"),
		"show-a/project.yaml":             []byte("a\n"),
		"show-a/sq010/kustomization.yaml": []byte("resources: [sequence.yaml, sh010.yaml]\n"),
		"show-a/sq010/sequence.yaml":      []byte("sq\n"),
		"show-a/sq010/sh010.yaml":         []byte("sh\n"),
	}
	if err := WriteDir(dir, first); err != nil {
		t.Fatal(err)
	}
	// Someone adds a file of their own; in ftrack, the sequence goes.
	if err := os.WriteFile(filepath.Join(dir, "show-a", "NOTES.md"), []byte("ours\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	second := map[string][]byte{
		"kustomization.yaml":        []byte("resources: [show-a]\n"),
		"show-a/kustomization.yaml": []byte("resources: [project.yaml]\n"),
		"show-a/project.yaml":       []byte("a2\n"),
	}
	if err := WriteDir(dir, second); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "show-a", "sq010")); !os.IsNotExist(err) {
		t.Errorf("the directory of the deleted sequence is still there (%v)", err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "show-a", "NOTES.md")); err != nil || string(data) != "ours\n" {
		t.Errorf("a file the export did not write was touched: %q, %v", data, err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "show-a", "project.yaml")); string(data) != "a2\n" {
		t.Errorf("project.yaml = %q", data)
	}
	marker, _ := os.ReadFile(filepath.Join(dir, markerFile))
	if strings.Contains(string(marker), "sq010") || !strings.Contains(string(marker), "show-a/project.yaml") {
		t.Errorf("the marker does not list what the last export wrote:\n%s", marker)
	}
}

func TestWriteDirRefusesADirectoryNoExportWrote(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := WriteDir(dir, map[string][]byte{"kustomization.yaml": []byte("x\n")})
	if err == nil || !strings.Contains(err.Error(), "no export wrote it") {
		t.Fatalf("WriteDir into a directory of other files: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); !os.IsNotExist(err) {
		t.Error("a file was written all the same")
	}
	// A marker that names a path outside the tree is refused, not followed.
	if err := os.WriteFile(filepath.Join(dir, markerFile), []byte("../outside.yaml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteDir(dir, map[string][]byte{"kustomization.yaml": []byte("x\n")}); err == nil || !strings.Contains(err.Error(), "not below") {
		t.Errorf("a marker naming ../outside.yaml: %v", err)
	}
}
