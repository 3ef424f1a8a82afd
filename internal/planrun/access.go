package planrun

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/internal/manifests"
)

// Server is an ftrack server given on the command line (--server): every connection the
// manifests name is taken to reach it, with these credentials.
type Server struct {
	URL     string
	APIUser string
	APIKey  string
}

// overlay reads connections, Secrets and ConfigMaps from the input manifests first, then
// from the cluster (when there is one): what a pull request adds is used as it would be
// once merged.
type overlay struct {
	input   map[string]*unstructured.Unstructured // kind/namespace/name
	cluster client.Reader
}

func overlayKey(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

func newOverlay(objs []*unstructured.Unstructured, namespace string, cluster client.Reader) *overlay {
	o := &overlay{input: map[string]*unstructured.Unstructured{}, cluster: cluster}
	for _, u := range objs {
		ns := u.GetNamespace()
		switch u.GetKind() {
		case "ClusterFtrackConnection", "Namespace":
			ns = ""
		default:
			if ns == "" {
				ns = namespace
			}
		}
		o.input[overlayKey(u.GetKind(), ns, u.GetName())] = u
	}
	return o
}

// Get implements client.Reader for the kinds a connection reads.
func (o *overlay) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	kind := ""
	switch obj.(type) {
	case *v1alpha1.FtrackConnection:
		kind = "FtrackConnection"
	case *v1alpha1.ClusterFtrackConnection:
		kind = "ClusterFtrackConnection"
	case *corev1.Secret:
		kind = "Secret"
	case *corev1.ConfigMap:
		kind = "ConfigMap"
	case *corev1.Namespace:
		kind = "Namespace"
	}
	if u, ok := o.input[overlayKey(kind, key.Namespace, key.Name)]; ok {
		if err := manifests.Convert(u, obj); err != nil {
			return fmt.Errorf("%s %s in the manifests: %w", kind, key, err)
		}
		if s, ok := obj.(*corev1.Secret); ok {
			// kubectl apply turns stringData into data.
			for k, v := range s.StringData {
				if s.Data == nil {
					s.Data = map[string][]byte{}
				}
				s.Data[k] = []byte(v)
			}
		}
		return nil
	}
	if o.cluster == nil {
		return apierrors.NewNotFound(schema.GroupResource{Resource: strings.ToLower(kind)}, key.Name)
	}
	return o.cluster.Get(ctx, key, obj, opts...)
}

// List implements client.Reader; only namespaces are listed (for the label selectors of
// ClusterFtrackConnection), from the cluster.
func (o *overlay) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if o.cluster == nil {
		return nil
	}
	return o.cluster.List(ctx, list, opts...)
}

// opener opens one connection runtime per connection key (or one for every key when a
// server is given), without event hub.
type opener struct {
	reader     *overlay
	server     *Server
	newSession connection.SessionOpener
	log        logr.Logger
	pool       connection.Pool
	conns      map[connection.Key]*connection.Connection
	errs       map[connection.Key]error
}

// get returns the connection of the objects in namespace that name ref, or why there is none.
func (o *opener) get(ctx context.Context, namespace string, ref v1alpha1.ConnectionReference) (*connection.Connection, error) {
	key := connection.KeyFor(namespace, ref)
	if o.server != nil {
		key = connection.Key{Kind: "Server", Name: o.server.URL}
	}
	if c, ok := o.conns[key]; ok {
		return c, nil
	}
	if err, ok := o.errs[key]; ok {
		return nil, err
	}
	c, err := o.open(ctx, key, namespace, ref)
	if err != nil {
		o.errs[key] = err
		return nil, err
	}
	o.conns[key] = c
	return c, nil
}

func (o *opener) open(ctx context.Context, key connection.Key, namespace string, ref v1alpha1.ConnectionReference) (*connection.Connection, error) {
	spec := connection.Spec{Key: key, Log: o.log, NewSession: o.newSession}
	if o.server != nil {
		settings := &v1alpha1.ConnectionSettings{ServerURL: o.server.URL}
		spec.Settings = settings
		spec.Credentials = connection.Credentials{APIUser: o.server.APIUser, APIKey: o.server.APIKey}
	} else {
		var obj client.Object = &v1alpha1.FtrackConnection{}
		if key.Kind == connection.KindClusterFtrackConnection {
			obj = &v1alpha1.ClusterFtrackConnection{}
		}
		if err := o.reader.Get(ctx, key.NamespacedName(), obj); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("%s %q is neither in the manifests nor in the cluster", key.Kind, key.Name)
			}
			return nil, fmt.Errorf("reading %s %q: %w", key.Kind, key.Name, err)
		}
		if cc, ok := obj.(*v1alpha1.ClusterFtrackConnection); ok {
			allowed, err := connection.NamespaceAllowed(ctx, o.reader, cc.Spec.AllowedNamespaces, namespace)
			if err != nil {
				return nil, err
			}
			if !allowed {
				return nil, fmt.Errorf("ClusterFtrackConnection %q does not allow namespace %q", key.Name, namespace)
			}
		}
		co, _ := connection.ObjectOf(obj)
		creds, _, err := connection.LoadCredentials(ctx, o.reader, co)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", key.Kind, key.Name, err)
		}
		spec.Settings, spec.Credentials = co.Settings, creds
	}
	c, err := o.pool.Open(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("%s %q: opening a session with %s: %w", key.Kind, key.Name, spec.Settings.ServerURL, err)
	}
	return c, nil
}

// close closes every connection opened.
func (o *opener) close() {
	for _, c := range o.conns {
		c.Close()
	}
}
