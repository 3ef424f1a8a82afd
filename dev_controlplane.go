package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

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
	shimDir string
	once    sync.Once
	stopErr error
}

// startDevControlPlane builds the control-plane binaries when they are missing (hack/envtest.sh
// prints its progress on stderr), starts them through the parent-death shims of
// dev_reaper_linux.go, and installs the CRDs of config/crd/bases. stateDir holds the shims.
func startDevControlPlane(ctx context.Context, root, stateDir string) (*devControlPlane, error) {
	assets, err := testenv.BinaryAssets()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cp := &devControlPlane{}
	apiserver, etcd := filepath.Join(assets, "kube-apiserver"), filepath.Join(assets, "etcd")
	if devShimSupported {
		if cp.shimDir, err = makeDevShims(stateDir, assets); err != nil {
			return nil, err
		}
		apiserver, etcd = filepath.Join(cp.shimDir, "kube-apiserver"), filepath.Join(cp.shimDir, "etcd")
	}
	cp.env = &envtest.Environment{
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{Path: apiserver},
			Etcd:      &envtest.Etcd{Path: etcd},
		},
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
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

// makeDevShims creates a fresh directory under stateDir holding kube-apiserver and etcd links to
// this executable and the marker that points the shims at the real binaries in assets.
func makeDevShims(stateDir, assets string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding this executable for the control-plane shims: %w", err)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(stateDir, "shims-")
	if err != nil {
		return "", err
	}
	marker, err := json.Marshal(devShimTarget{Assets: assets, Parent: os.Getpid()})
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, devShimMarker), marker, 0o600); err != nil {
		return "", err
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if err := os.Symlink(self, filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("linking the %s shim: %w", name, err)
		}
	}
	return dir, nil
}

// Stop stops kube-apiserver and etcd, removes their data and the shims. It is safe to call more
// than once.
func (cp *devControlPlane) Stop() error {
	cp.once.Do(func() {
		if cp.config != nil {
			cp.stopErr = cp.env.Stop()
		}
		if cp.shimDir != "" {
			cp.stopErr = errors.Join(cp.stopErr, os.RemoveAll(cp.shimDir))
		}
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
