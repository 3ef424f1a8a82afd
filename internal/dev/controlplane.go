package dev

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
)

// devControlPlane is the etcd and kube-apiserver pair of the dev command, with the operator's
// CRDs installed.
type devControlPlane struct {
	config  *rest.Config
	env     *envtest.Environment
	runDir  string
	once    sync.Once
	stopErr error
}

// startDevControlPlane builds the control-plane binaries when they are missing (hack/envtest.sh
// prints its progress on stderr), starts them through the parent-death shims of
// dev_reaper_linux.go, and installs the CRDs of config/crd/bases. The shims, etcd's data and the
// apiserver's certificates live in stateDir/run-<pid>, removed by Stop; run directories of dev
// processes that no longer exist (killed, so they could not clean up) are removed first.
func startDevControlPlane(ctx context.Context, root, stateDir string) (*devControlPlane, error) {
	assets, err := testenv.BinaryAssets()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, err
	}
	removeStaleRunDirs(stateDir)
	cp := &devControlPlane{runDir: filepath.Join(stateDir, fmt.Sprintf("run-%d", os.Getpid()))}
	for _, sub := range []string{"etcd", "apiserver"} {
		if err := os.MkdirAll(filepath.Join(cp.runDir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	apiserver, etcd := filepath.Join(assets, "kube-apiserver"), filepath.Join(assets, "etcd")
	if devShimSupported {
		shims := filepath.Join(cp.runDir, "bin")
		if err := makeDevShims(shims, assets); err != nil {
			_ = cp.Stop()
			return nil, err
		}
		apiserver, etcd = filepath.Join(shims, "kube-apiserver"), filepath.Join(shims, "etcd")
	}
	cp.env = &envtest.Environment{
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{Path: apiserver, CertDir: filepath.Join(cp.runDir, "apiserver")},
			Etcd:      &envtest.Etcd{Path: etcd, DataDir: filepath.Join(cp.runDir, "etcd")},
		},
		CRDDirectoryPaths: []string{filepath.Join(root, "config", "crd", "bases")},
		// The admission webhooks run in the dev process, as they run in the manager of a
		// cluster: envtest points their configurations at a local port with a certificate
		// of its own (see webhookServer).
		WebhookInstallOptions: envtest.WebhookInstallOptions{Paths: []string{filepath.Join(root, "config", "webhook", "manifests.yaml")}},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := cp.env.Start()
	if err != nil {
		_ = cp.Stop()
		return nil, fmt.Errorf("starting the control plane: %w", err)
	}
	cp.config = cfg
	return cp, nil
}

// removeStaleRunDirs removes the run directories of stateDir whose dev process is gone.
func removeStaleRunDirs(stateDir string) {
	dirs, _ := filepath.Glob(filepath.Join(stateDir, "run-*"))
	for _, dir := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(dir), "run-"))
		if err != nil || pid == os.Getpid() || processExists(pid) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

// processExists reports whether a process with this pid exists.
func processExists(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

// makeDevShims creates dir holding kube-apiserver and etcd links to this executable and the
// marker that points the shims at the real binaries in assets.
func makeDevShims(dir, assets string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this executable for the control-plane shims: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	marker, err := json.Marshal(devShimTarget{Assets: assets, Parent: os.Getpid()})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, devShimMarker), marker, 0o600); err != nil {
		return err
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if err := os.Symlink(self, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("linking the %s shim: %w", name, err)
		}
	}
	return nil
}

// webhookServer returns where the admission webhooks must serve: host, port and the
// directory of the serving certificate envtest made.
func (cp *devControlPlane) webhookServer() (string, int, string) {
	o := cp.env.WebhookInstallOptions
	return o.LocalServingHost, o.LocalServingPort, o.LocalServingCertDir
}

// Stop stops kube-apiserver and etcd and removes the run directory. It is safe to call more
// than once.
func (cp *devControlPlane) Stop() error {
	cp.once.Do(func() {
		if cp.config != nil {
			cp.stopErr = cp.env.Stop()
		}
		cp.stopErr = errors.Join(cp.stopErr, os.RemoveAll(cp.runDir))
	})
	return cp.stopErr
}

// writeKubeConfig writes a kubeconfig for an administrator of the control plane to path, with
// namespace as the default namespace of its context, readable only by the user.
func (cp *devControlPlane) writeKubeConfig(path, namespace string) error {
	user, err := cp.env.ControlPlane.AddUser(envtest.User{Name: "ftrack-operator-dev", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("adding the kubeconfig user: %w", err)
	}
	raw, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("rendering the kubeconfig: %w", err)
	}
	kc, err := clientcmd.Load(raw)
	if err != nil {
		return fmt.Errorf("reading the kubeconfig: %w", err)
	}
	if c, ok := kc.Contexts[kc.CurrentContext]; ok && namespace != "" {
		c.Namespace = namespace
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	out, err := clientcmd.Write(*kc)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
