package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestReleaseBuildLinksTheManagerOnly: the release build (-tags release, as the Dockerfile
// builds it) links none of the development tools — dev, the emulator, envtest, kustomize,
// the plugin interpreter — while the default build (go run . dev from a checkout) does.
func TestReleaseBuildLinksTheManagerOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("lists the dependencies of two builds")
	}
	forbidden := []string{
		"github.com/ftrack-operator/ftrack-operator/internal/dev",
		"github.com/ftrack-operator/ftrack-operator/internal/testenv",
		"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest",
		"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/plugin",
		"sigs.k8s.io/controller-runtime/pkg/envtest",
		"sigs.k8s.io/kustomize",
		"github.com/traefik/yaegi",
	}
	deps := func(tags ...string) []string {
		t.Helper()
		args := append([]string{"list", "-deps"}, tags...)
		out, err := exec.CommandContext(t.Context(), "go", append(args, ".")...).Output()
		if err != nil {
			t.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		return strings.Fields(string(out))
	}
	linked := func(pkgs []string, prefix string) bool {
		for _, p := range pkgs {
			if p == prefix || strings.HasPrefix(p, prefix+"/") {
				return true
			}
		}
		return false
	}
	release := deps("-tags", "release")
	for _, f := range forbidden {
		if linked(release, f) {
			t.Errorf("the release build links %s", f)
		}
	}
	if !linked(release, "github.com/ftrack-operator/ftrack-operator/internal/manager") {
		t.Error("the release build does not link the manager")
	}
	// The list must be able to find what it looks for: the development build has it.
	if dev := deps(); !linked(dev, "github.com/ftrack-operator/ftrack-operator/internal/dev") || !linked(dev, "sigs.k8s.io/controller-runtime/pkg/envtest") {
		t.Error("the development build links neither dev nor envtest: the check above proves nothing")
	}
}
