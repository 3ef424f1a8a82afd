package cli

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ClusterReader returns a client of the cluster of a kubeconfig, chosen by kubectl's rules
// (an explicit file, else $KUBECONFIG, else ~/.kube/config; the context, else the current
// one), and the context's namespace, decoding with scheme. The commands that use it only
// read.
func ClusterReader(kubeconfig, kubeContext string, scheme *runtime.Scheme) (client.Reader, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	cfg := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext})
	rc, err := cfg.ClientConfig()
	if err != nil {
		return nil, "", err
	}
	ns, _, err := cfg.Namespace()
	if err != nil {
		return nil, "", err
	}
	c, err := client.New(rc, client.Options{Scheme: scheme})
	if err != nil {
		return nil, "", err
	}
	return c, ns, nil
}
