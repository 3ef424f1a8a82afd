// Package testenv starts the envtest control plane (kube-apiserver and etcd, built from source by
// hack/envtest.sh) with the operator's CRDs installed, for tests and for the dev command.
package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ModuleRoot returns the directory of the operator's go.mod, found by walking up from the
// working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(data, []byte("module github.com/ftrack-operator/ftrack-operator\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: no go.mod of github.com/ftrack-operator/ftrack-operator above the working directory")
		}
		dir = parent
	}
}

var (
	assetsOnce sync.Once
	assetsDir  string
	assetsErr  error
)

// BinaryAssets returns the directory holding kube-apiserver and etcd: KUBEBUILDER_ASSETS when it
// is set, else the cache that hack/envtest.sh fills (building the binaries on first use).
func BinaryAssets() (string, error) {
	assetsOnce.Do(func() {
		if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
			assetsDir = dir
			return
		}
		root, err := ModuleRoot()
		if err != nil {
			assetsErr = err
			return
		}
		cmd := exec.Command("bash", filepath.Join(root, "hack", "envtest.sh"))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			assetsErr = fmt.Errorf("testenv: building the control plane with hack/envtest.sh: %w", err)
			return
		}
		assetsDir = strings.TrimSpace(string(out))
	})
	return assetsDir, assetsErr
}

// Environment is a running control plane.
type Environment struct {
	// Config reaches the kube-apiserver as an administrator.
	Config *rest.Config
	env    *envtest.Environment
	once   sync.Once
}

// Option changes how Start starts the control plane.
type Option func(*envtest.Environment)

// WithAPIServerArgs sets kube-apiserver flags (name without the dashes → value), for
// example max-mutating-requests-inflight to stand in for a busy shared cluster.
func WithAPIServerArgs(args map[string]string) Option {
	return func(env *envtest.Environment) {
		cfg := env.ControlPlane.GetAPIServer().Configure()
		for k, v := range args {
			cfg.Set(k, v)
		}
	}
}

// WithCRDs installs the CRDs of the files or directories paths too.
func WithCRDs(paths ...string) Option {
	return func(env *envtest.Environment) {
		env.CRDDirectoryPaths = append(env.CRDDirectoryPaths, paths...)
	}
}

// WithWebhooks installs the webhook configurations of the files or directories paths,
// pointed at a local webhook server with a serving certificate of envtest's (see
// Environment.WebhookServer).
func WithWebhooks(paths ...string) Option {
	return func(env *envtest.Environment) {
		env.WebhookInstallOptions.Paths = append(env.WebhookInstallOptions.Paths, paths...)
	}
}

// Start starts etcd and kube-apiserver with the CRDs of config/crd/bases installed. Stop it with
// Stop. It needs no *testing.T, so it works from TestMain.
func Start(ctx context.Context, opts ...Option) (*Environment, error) {
	assets, err := BinaryAssets()
	if err != nil {
		return nil, err
	}
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	for _, o := range opts {
		o(env)
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("testenv: starting the control plane: %w", err)
	}
	if err := ctx.Err(); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &Environment{Config: cfg, env: env}, nil
}

// WebhookServer returns where the webhook configurations installed by WithWebhooks expect
// the webhook server: host, port and the directory of its certificate (tls.crt, tls.key).
func (e *Environment) WebhookServer() (host string, port int, certDir string) {
	o := e.env.WebhookInstallOptions
	return o.LocalServingHost, o.LocalServingPort, o.LocalServingCertDir
}

// Stop stops the control plane and removes its data. It is safe to call more than once.
func (e *Environment) Stop() error {
	var err error
	e.once.Do(func() { err = e.env.Stop() })
	return err
}

// KubeConfig returns a kubeconfig file's contents for an administrator of the control plane.
func (e *Environment) KubeConfig() ([]byte, error) {
	return e.UserKubeConfig("ftrack-operator-admin", "system:masters")
}

// WriteKubeConfig writes an administrator's kubeconfig file to path (mode 0600).
func (e *Environment) WriteKubeConfig(path string) error {
	data, err := e.KubeConfig()
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// UserKubeConfig returns a kubeconfig file's contents for the user name in groups; what the
// user may do is what RBAC grants them.
func (e *Environment) UserKubeConfig(name string, groups ...string) ([]byte, error) {
	user, err := e.env.ControlPlane.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, fmt.Errorf("testenv: adding user %s: %w", name, err)
	}
	return user.KubeConfig()
}

// Buffer is a bytes.Buffer safe for concurrent writers: the output of a process, or a log
// several goroutines write, that a test reads.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WithoutCRDs starts the control plane with no CRD installed: for tests that install the
// operator themselves, as a cluster administrator would. Paths given to WithCRDs after it
// are installed.
func WithoutCRDs() Option {
	return func(env *envtest.Environment) {
		env.CRDDirectoryPaths = nil
	}
}

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// Helm returns the helm binary the tests use: $HELM when it is set (make test sets it), else
// bin/helm-<HELM_VERSION of the Makefile> under the module's root, built with go install on
// first use, as make does.
func Helm() (string, error) {
	helmOnce.Do(func() {
		if p := os.Getenv("HELM"); p != "" {
			helmPath = p
			return
		}
		root, err := ModuleRoot()
		if err != nil {
			helmErr = err
			return
		}
		makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
		if err != nil {
			helmErr = err
			return
		}
		var version string
		for line := range strings.SplitSeq(string(makefile), "\n") {
			if v, ok := strings.CutPrefix(line, "HELM_VERSION ?= "); ok {
				version = strings.TrimSpace(v)
			}
		}
		if version == "" {
			helmErr = errors.New("testenv: the Makefile sets no HELM_VERSION")
			return
		}
		bin := filepath.Join(root, "bin")
		helmPath = filepath.Join(bin, "helm-"+version)
		if _, err := os.Stat(helmPath); err == nil {
			return
		}
		if err := os.MkdirAll(bin, 0o755); err != nil {
			helmErr = err
			return
		}
		tmp, err := os.MkdirTemp(bin, ".helm-build-")
		if err != nil {
			helmErr = err
			return
		}
		defer func() { _ = os.RemoveAll(tmp) }()
		cmd := exec.Command("go", "install", "helm.sh/helm/v4/cmd/helm@"+version)
		cmd.Env = append(os.Environ(), "GOBIN="+tmp)
		if out, err := cmd.CombinedOutput(); err != nil {
			helmErr = fmt.Errorf("testenv: building helm %s (go install): %w\n%s", version, err, out)
			return
		}
		helmErr = os.Rename(filepath.Join(tmp, "helm"), helmPath)
	})
	return helmPath, helmErr
}
