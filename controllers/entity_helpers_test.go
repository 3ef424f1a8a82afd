package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// isolatedNamespaces are namespaces whose FtrackEntity objects the suite's entity reconciler
// leaves to a manager of the test's own.
var isolatedNamespaces sync.Map

// suiteRESTConfig reaches the suite's API server, for managers of a test's own.
var suiteRESTConfig *rest.Config

// testEnvConfig returns the suite's REST configuration.
func testEnvConfig() *rest.Config { return rest.CopyConfig(suiteRESTConfig) }

func init() {
	testReconcilers = append(testReconcilers, func(mgr ctrl.Manager, c *Connections) error {
		suiteRESTConfig = mgr.GetConfig()
		return (&EntityReconciler{
			Client:   mgr.GetClient(),
			Pool:     c.Pool,
			Bridge:   c.Bridge,
			Recorder: mgr.GetEventRecorder("ftrack-operator"),
			// As many as a busy namespace would use, so that reconciles share batches.
			MaxConcurrentReconciles: 50,
			Filter: func(o client.Object) bool {
				_, isolated := isolatedNamespaces.Load(o.GetNamespace())
				return !isolated
			},
		}).SetupWithManager(mgr)
	})
}

// entityFixture is a namespace with a Ready connection to an emulator.
type entityFixture struct {
	t      *testing.T
	ns     string
	server *ftracktest.Server
	conn   string
	// clusterConn says that conn is a ClusterFtrackConnection.
	clusterConn bool
}

// newEntityFixture makes a namespace and a connection to srv (the suite's emulator when
// nil) and waits until the connection is Ready.
func newEntityFixture(t *testing.T, srv *ftracktest.Server) *entityFixture {
	t.Helper()
	if srv == nil {
		srv = ftrackServer
	}
	ns := newNamespace(t, nil)
	createSecret(t, ns, "creds", credentialsData(ftracktest.DefaultUser, ftracktest.DefaultAPIKey))
	createConnection(t, ns, "studio", srv.URL, "creds")
	key := connection.Key{Kind: connection.KindFtrackConnection, Namespace: ns, Name: "studio"}
	waitFor(t, 30*time.Second, "connection Ready", conditionIs(t.Context(), key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	// Out-of-band changes are noticed through the event hub.
	waitFor(t, 30*time.Second, "event hub connected", conditionIs(t.Context(), key, v1alpha1.ConditionEventHubConnected, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	// Runs before the connection's cleanup, which waits for the entities that use it.
	t.Cleanup(func() { deleteAllEntities(t, ns) })
	return &entityFixture{t: t, ns: ns, server: srv, conn: "studio"}
}

// newEmulator starts an emulator of the test's own.
func newEmulator(t *testing.T, opts ...ftracktest.Option) *ftracktest.Server {
	t.Helper()
	srv, err := ftracktest.NewServer(opts...)
	if err != nil {
		t.Fatalf("ftracktest.NewServer: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// js turns a Go value into a spec JSON value.
func js(v any) apiextensionsv1.JSON {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return apiextensionsv1.JSON{Raw: data}
}

// attrs turns a map into spec attributes.
func attrs(m map[string]any) map[string]apiextensionsv1.JSON {
	out := make(map[string]apiextensionsv1.JSON, len(m))
	for k, v := range m {
		out[k] = js(v)
	}
	return out
}

// entity returns an FtrackEntity of the fixture's namespace and connection.
func (f *entityFixture) entity(name, typ string, mutate ...func(*v1alpha1.FtrackEntity)) *v1alpha1.FtrackEntity {
	kind := connection.KindFtrackConnection
	if f.clusterConn {
		kind = connection.KindClusterFtrackConnection
	}
	e := &v1alpha1.FtrackEntity{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name},
		Spec: v1alpha1.FtrackEntitySpec{
			ConnectionRef: v1alpha1.ConnectionReference{Kind: kind, Name: f.conn},
			EntityType:    typ,
		},
	}
	for _, m := range mutate {
		m(e)
	}
	return e
}

// create creates objects in the API server.
func (f *entityFixture) create(objs ...*v1alpha1.FtrackEntity) {
	f.t.Helper()
	for _, o := range objs {
		if err := k8sClient.Create(f.t.Context(), o); err != nil {
			f.t.Fatalf("creating FtrackEntity %s: %v", o.Name, err)
		}
	}
}

// get reads an FtrackEntity.
func (f *entityFixture) get(name string) (*v1alpha1.FtrackEntity, error) {
	var e v1alpha1.FtrackEntity
	err := k8sClient.Get(context.Background(), types.NamespacedName{Namespace: f.ns, Name: name}, &e)
	return &e, err
}

// waitCondition waits until the object's condition typ has status and, when not empty,
// reason, for the object's current generation.
func (f *entityFixture) waitCondition(timeout time.Duration, name, typ string, want metav1.ConditionStatus, reason string) *v1alpha1.FtrackEntity {
	f.t.Helper()
	var last *v1alpha1.FtrackEntity
	waitFor(f.t, timeout, fmt.Sprintf("FtrackEntity %s %s=%s %s", name, typ, want, reason), func() error {
		e, err := f.get(name)
		if err != nil {
			return err
		}
		last = e
		c := meta.FindStatusCondition(e.Status.Conditions, typ)
		if c == nil || c.Status != want || (reason != "" && c.Reason != reason) || c.ObservedGeneration != e.Generation {
			return fmt.Errorf("conditions:\n%s", conditionsText(e.Status.Conditions))
		}
		return nil
	})
	return last
}

// waitReady waits until the objects are Ready.
func (f *entityFixture) waitReady(timeout time.Duration, names ...string) {
	f.t.Helper()
	for _, n := range names {
		f.waitCondition(timeout, n, v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	}
}

// update changes an object with a retry on conflicts.
func (f *entityFixture) update(name string, mutate func(*v1alpha1.FtrackEntity)) {
	f.t.Helper()
	for attempt := 0; attempt < 10; attempt++ {
		e, err := f.get(name)
		if err != nil {
			f.t.Fatalf("reading %s: %v", name, err)
		}
		mutate(e)
		if err = k8sClient.Update(f.t.Context(), e); err == nil {
			return
		}
	}
	f.t.Fatalf("updating %s: too many conflicts", name)
}

// session opens a second ftrack session on the fixture's emulator, for changes made
// outside the operator.
func (f *entityFixture) session() *ftrack.Session {
	f.t.Helper()
	s, err := ftrack.NewSession(f.t.Context(),
		ftrack.WithServerURL(f.server.URL),
		ftrack.WithAPIUser(ftracktest.DefaultUser),
		ftrack.WithAPIKey(ftracktest.DefaultAPIKey),
		ftrack.WithoutSchemaCache(),
		ftrack.WithPluginPaths(),
	)
	if err != nil {
		f.t.Fatalf("NewSession: %v", err)
	}
	f.t.Cleanup(func() { _ = s.Close() })
	return s
}

// kstatusOf computes the kstatus status of an object.
func kstatusOf(t *testing.T, e *v1alpha1.FtrackEntity) status.Status {
	t.Helper()
	e = e.DeepCopy()
	e.SetGroupVersionKind(schema.GroupVersionKind{Group: v1alpha1.GroupVersion.Group, Version: v1alpha1.GroupVersion.Version, Kind: "FtrackEntity"})
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(e)
	if err != nil {
		t.Fatalf("converting to unstructured: %v", err)
	}
	res, err := status.Compute(&unstructured.Unstructured{Object: u})
	if err != nil {
		t.Fatalf("kstatus: %v", err)
	}
	return res.Status
}

// liveKstatus computes the kstatus status of an FtrackEntity as the API server serves it, as
// Flux and Argo CD read it: a typed object loses the defaulted observedGeneration of 0.
func liveKstatus(t *testing.T, namespace, name string) status.Status {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: v1alpha1.GroupVersion.Group, Version: v1alpha1.GroupVersion.Version, Kind: "FtrackEntity"})
	if err := k8sClient.Get(t.Context(), types.NamespacedName{Namespace: namespace, Name: name}, u); err != nil {
		t.Fatalf("reading %s/%s: %v", namespace, name, err)
	}
	res, err := status.Compute(u)
	if err != nil {
		t.Fatalf("kstatus: %v", err)
	}
	return res.Status
}

// writeCount is the number of create, update and delete operations the emulator received.
func writeCount(s *ftracktest.Server) int {
	return s.RequestCount("create") + s.RequestCount("update") + s.RequestCount("delete")
}

// deleteAllEntities deletes the FtrackEntity objects of a namespace and waits until they are
// gone.
func deleteAllEntities(t *testing.T, ns string) {
	ctx := context.Background()
	if err := k8sClient.DeleteAllOf(ctx, &v1alpha1.FtrackEntity{}, client.InNamespace(ns)); err != nil {
		t.Errorf("deleting the entities of %s: %v", ns, err)
		return
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var list v1alpha1.FtrackEntityList
		if err := k8sClient.List(ctx, &list, client.InNamespace(ns)); err == nil && len(list.Items) == 0 {
			return
		}
		timer := time.NewTimer(50 * time.Millisecond)
		<-timer.C
	}
	t.Errorf("the entities of %s were not deleted within 60s", ns)
}
