package controllers

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/connection"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// Timeouts of the envtest scenarios: generous for a loaded machine, far below the resync
// interval, so a reconcile that only happens at resync time fails the test.
const (
	soon    = 20 * time.Second
	briefly = 10 * time.Second
)

func fcKey(namespace, name string) connection.Key {
	return connection.Key{Kind: connection.KindFtrackConnection, Namespace: namespace, Name: name}
}

// pooled waits for the pool to hold a Ready connection for key other than not, and returns it.
func pooled(t *testing.T, key connection.Key, not *connection.Connection) *connection.Connection {
	t.Helper()
	var c *connection.Connection
	waitFor(t, soon, "a ready pooled session for "+key.String(), func() error {
		got, ok := suiteConnections.Pool.Get(key)
		switch {
		case !ok:
			return errors.New("no session in the pool")
		case got == not:
			return errors.New("still the old session")
		case !got.Ready():
			return errors.New("session not ready")
		}
		c = got
		return nil
	})
	return c
}

// eventReasons returns the reasons of the Events recorded on obj.
func eventReasons(ctx context.Context, namespace, name string) ([]string, error) {
	var list eventsv1.EventList
	if err := k8sClient.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	var reasons []string
	for _, e := range list.Items {
		if e.Regarding.Name == name {
			reasons = append(reasons, e.Reason)
		}
	}
	return reasons, nil
}

func hasEvent(ctx context.Context, namespace, name, reason string) func() error {
	return func() error {
		reasons, err := eventReasons(ctx, namespace, name)
		if err != nil {
			return err
		}
		if !slices.Contains(reasons, reason) {
			return fmt.Errorf("no %s Event among %v", reason, reasons)
		}
		return nil
	}
}

func TestConnectionSecretAppearsLater(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ns := newNamespace(t, nil)
	key := fcKey(ns, "studio")
	createConnection(t, ns, key.Name, ftrackServer.URL, "ftrack-credentials")

	waitFor(t, soon, "SecretNotFound", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound))
	if _, err := suiteConnections.Pool.Acquire(ctx, k8sClient, ns, v1alpha1.ConnectionReference{Name: key.Name}); !errors.Is(err, connection.ErrNotReady) {
		t.Fatalf("Acquire before the Secret exists: got %v, want connection.ErrNotReady", err)
	}

	createSecret(t, ns, "ftrack-credentials", credentialsData(ftracktest.DefaultUser, ftracktest.DefaultAPIKey))
	waitFor(t, briefly, "Ready after the Secret appeared", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	waitFor(t, briefly, "EventHubConnected", conditionIs(ctx, key, v1alpha1.ConditionEventHubConnected, metav1.ConditionTrue, v1alpha1.ReasonConnected))

	st, _, err := connectionStatus(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	want := struct {
		Version     string
		Hash        string
		EntityTypes int32
		Connected   bool
	}{ftracktest.DefaultVersion, ftrackServer.Schema().Hash(), int32(ftrackServer.Schema().Len()), true}
	got := struct {
		Version     string
		Hash        string
		EntityTypes int32
		Connected   bool
	}{st.ServerVersion, st.SchemaHash, st.EntityTypes, st.LastConnectedTime != nil}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}

	c, err := suiteConnections.Pool.Acquire(ctx, k8sClient, ns, v1alpha1.ConnectionReference{Name: key.Name})
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	if c.Session().Closed() || c.ClientToken() == "" || c.Limiter() == nil || c.Schemas().Len() == 0 {
		t.Errorf("Acquire returned an unusable connection: closed %v, token %q", c.Session().Closed(), c.ClientToken())
	}
	waitFor(t, briefly, "a Connected Event", hasEvent(ctx, ns, key.Name, v1alpha1.EventReasonConnected))
}

func TestConnectionInvalidCredentialsBacksOff(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ns := newNamespace(t, nil)
	key := fcKey(ns, "studio")
	user := "nobody-" + ns // unique, so the emulator's request log tells this test's requests apart
	wrongKey := "wrong-key-" + ns
	secret := createSecret(t, ns, "creds", credentialsData(user, wrongKey))
	createConnection(t, ns, key.Name, ftrackServer.URL, secret.Name)

	waitFor(t, soon, "InvalidCredentials", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonInvalidCredentials))
	attempts := func() []time.Time {
		var at []time.Time
		for _, r := range ftrackServer.Requests() {
			if r.User == user {
				at = append(at, r.Time)
			}
		}
		return at
	}
	waitFor(t, soon, "four attempts", func() error {
		if n := len(attempts()); n < 4 {
			return fmt.Errorf("%d attempts", n)
		}
		return nil
	})
	// A retry loop would send the attempts back to back; back-off spaces them out, each gap
	// longer than the previous one's half.
	at := attempts()
	for i := 1; i < 4; i++ {
		gap := at[i].Sub(at[i-1])
		if gap < 300*time.Millisecond {
			t.Errorf("attempt %d came %s after the previous one; want back-off", i+1, gap)
		}
	}
	if total := at[3].Sub(at[0]); total < 1500*time.Millisecond {
		t.Errorf("4 attempts within %s; want exponential back-off", total)
	}

	// A fixed Secret is picked up at once, not after the back-off.
	secret.StringData = credentialsData(ftracktest.DefaultUser, ftracktest.DefaultAPIKey)
	if err := k8sClient.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	waitFor(t, briefly, "Ready after the Secret was fixed", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonConnected))
}

func TestConnectionKeyRotation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ns := newNamespace(t, nil)
	key := fcKey(ns, "studio")
	secret := createSecret(t, ns, "creds", credentialsData(ftracktest.DefaultUser, ftracktest.DefaultAPIKey))
	createConnection(t, ns, key.Name, ftrackServer.URL, secret.Name)
	old := pooled(t, key, nil)

	secret.StringData = credentialsData(rotatedUser, rotatedAPIKey)
	if err := k8sClient.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	replaced := pooled(t, key, old)
	if got := replaced.Session().APIUser(); got != rotatedUser {
		t.Errorf("new session acts as %q, want %q", got, rotatedUser)
	}
	if !old.Session().Closed() {
		t.Error("the old session is still open")
	}
	select {
	case <-old.Done():
	default:
		t.Error("the old connection's Done is not closed")
	}
	if _, err := old.Coalescer().Do(ctx, ftrack.QueryOp("select id from Project")); !errors.Is(err, connection.ErrCoalescerClosed) {
		t.Errorf("the old connection's coalescer still works: %v", err)
	}
	if replaced.Coalescer() == old.Coalescer() || replaced.Entities() == old.Entities() {
		t.Error("the new connection shares the old one's runtime")
	}
	if replaced.ClientToken() == old.ClientToken() {
		t.Error("the new session reuses the old client token")
	}
	waitFor(t, briefly, "a CredentialsChanged Event", hasEvent(ctx, ns, key.Name, v1alpha1.EventReasonCredentialsChanged))
	waitFor(t, briefly, "Ready", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonConnected))
}

// freeAddress returns a loopback address nothing listens on.
func freeAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// newFtrackServer starts an emulator of the test's own.
func newFtrackServer(t *testing.T, opts ...ftracktest.Option) *ftracktest.Server {
	t.Helper()
	s, err := ftracktest.NewServer(append([]ftracktest.Option{ftracktest.WithHeartbeatInterval(time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConnectionServerDownThenUp(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ns := newNamespace(t, nil)
	key := fcKey(ns, "studio")
	addr := freeAddress(t)
	secret := createSecret(t, ns, "creds", credentialsData(ftracktest.DefaultUser, ftracktest.DefaultAPIKey))
	createConnection(t, ns, key.Name, "http://"+addr, secret.Name)

	waitFor(t, soon, "ServerUnreachable while nothing listens", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonServerUnreachable))
	server := newFtrackServer(t, ftracktest.WithAddress(addr))
	waitFor(t, soon, "Ready once the server is up", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	waitFor(t, soon, "EventHubConnected", conditionIs(ctx, key, v1alpha1.ConditionEventHubConnected, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	first := pooled(t, key, nil)

	// The server goes away while the session is open: the event hub notices at once and the
	// flood gate shuts.
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, soon, "ServerUnreachable after the server stopped", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonServerUnreachable))
	waitFor(t, briefly, "EventHubConnected=False", conditionIs(ctx, key, v1alpha1.ConditionEventHubConnected, metav1.ConditionFalse, v1alpha1.ReasonDisconnected))
	if _, err := suiteConnections.Pool.Acquire(ctx, k8sClient, ns, v1alpha1.ConnectionReference{Name: key.Name}); !errors.Is(err, connection.ErrNotReady) {
		t.Fatalf("Acquire while the server is down: got %v, want connection.ErrNotReady", err)
	}

	newFtrackServer(t, ftracktest.WithAddress(addr))
	waitFor(t, 45*time.Second, "Ready once the server is back", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	waitFor(t, 45*time.Second, "EventHubConnected again", conditionIs(ctx, key, v1alpha1.ConditionEventHubConnected, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	if c := pooled(t, key, nil); c != first {
		t.Error("the session was replaced; a server outage should not need a new one")
	}
	st, _, err := connectionStatus(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if st.EventHubReconnects < 1 {
		t.Errorf("eventHubReconnects = %d, want at least 1", st.EventHubReconnects)
	}
}

func TestConnectionEventHubDropped(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ns := newNamespace(t, nil)
	key := fcKey(ns, "studio")
	server := newFtrackServer(t)
	secret := createSecret(t, ns, "creds", credentialsData(ftracktest.DefaultUser, ftracktest.DefaultAPIKey))
	createConnection(t, ns, key.Name, server.URL, secret.Name)
	waitFor(t, soon, "EventHubConnected", conditionIs(ctx, key, v1alpha1.ConditionEventHubConnected, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	entity := createEntity(t, ns, "shot", key.Name, "0f4a5c3e-0000-4000-8000-000000000001")
	triggers, stop := suiteConnections.Bridge.Subscribe(connection.DefaultTriggerBuffer)
	defer stop()

	if n := server.DropEventHubConnections(); n != 1 {
		t.Fatalf("dropped %d event hub connections, want 1", n)
	}
	waitFor(t, soon, "an EventHubDisconnected Event", hasEvent(ctx, ns, key.Name, v1alpha1.EventReasonEventHubDisconnected))
	waitFor(t, soon, "EventHubConnected again, reconnect counted", func() error {
		if err := conditionIs(ctx, key, v1alpha1.ConditionEventHubConnected, metav1.ConditionTrue, v1alpha1.ReasonConnected)(); err != nil {
			return err
		}
		st, _, err := connectionStatus(ctx, key)
		if err != nil {
			return err
		}
		if st.EventHubReconnects != 1 {
			return fmt.Errorf("eventHubReconnects = %d", st.EventHubReconnects)
		}
		return nil
	})
	// Events missed while disconnected are not replayed: every entity is enqueued once.
	waitForTrigger(t, triggers, ns, entity.Name)
}

// waitForTrigger waits for a trigger of the entity namespace/name.
func waitForTrigger(t *testing.T, triggers <-chan event.GenericEvent, namespace, name string) {
	t.Helper()
	timeout := time.After(soon)
	for {
		select {
		case ev := <-triggers:
			if ev.Object.GetNamespace() == namespace && ev.Object.GetName() == name {
				return
			}
		case <-timeout:
			t.Fatalf("no trigger for %s/%s within %s", namespace, name, soon)
		}
	}
}

func TestConnectionSecretOfAnotherNamespace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ns, other := newNamespace(t, nil), newNamespace(t, nil)
	createSecret(t, other, "creds", credentialsData(ftracktest.DefaultUser, ftracktest.DefaultAPIKey))

	// The API has no field for another namespace: the server drops it.
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(),
		"kind":       connection.KindFtrackConnection,
		"metadata":   map[string]any{"name": "studio", "namespace": ns},
		"spec": map[string]any{
			"serverURL": ftrackServer.URL,
			"secretRef": map[string]any{"name": "creds", "namespace": other},
		},
	}}
	if err := k8sClient.Create(ctx, u); err != nil {
		t.Fatalf("creating the connection: %v", err)
	}
	c := &v1alpha1.FtrackConnection{}
	c.Namespace, c.Name = ns, "studio"
	t.Cleanup(func() { deleteConnection(t, c) })
	if ref, _, _ := unstructured.NestedMap(u.Object, "spec", "secretRef"); ref["namespace"] != nil {
		t.Errorf("the API server kept secretRef.namespace: %v", ref)
	}
	waitFor(t, soon, "SecretNotFound", conditionIs(ctx, fcKey(ns, "studio"), v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound))
	if _, ok := suiteConnections.Pool.Get(fcKey(ns, "studio")); ok {
		t.Error("a session was opened with another namespace's Secret")
	}
}

func TestClusterConnectionAllowedNamespaces(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	secretNS := newNamespace(t, nil)
	listed := newNamespace(t, nil)
	labelled := newNamespace(t, map[string]string{"ftrack-operator.dev/test-team": secretNS})
	refused := newNamespace(t, nil)
	createSecret(t, secretNS, "creds", credentialsData(ftracktest.DefaultUser, ftracktest.DefaultAPIKey))
	c := &v1alpha1.ClusterFtrackConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "cluster-" + secretNS},
		Spec: v1alpha1.ClusterFtrackConnectionSpec{
			ConnectionSettings: v1alpha1.ConnectionSettings{ServerURL: ftrackServer.URL},
			SecretRef:          v1alpha1.ClusterCredentialsSecretReference{Namespace: secretNS, Name: "creds"},
			AllowedNamespaces: v1alpha1.AllowedNamespaces{
				Names:    []string{listed},
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"ftrack-operator.dev/test-team": secretNS}},
			},
		},
	}
	if err := k8sClient.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteConnection(t, c) })
	key := connection.Key{Kind: connection.KindClusterFtrackConnection, Name: c.Name}
	waitFor(t, soon, "Ready", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	ref := v1alpha1.ConnectionReference{Kind: connection.KindClusterFtrackConnection, Name: c.Name}

	tests := map[string]struct {
		reason    string
		namespace string
		ref       v1alpha1.ConnectionReference
		want      error
	}{
		"Listed":    {reason: "a namespace in names may use it", namespace: listed, ref: ref},
		"Labelled":  {reason: "a namespace the selector matches may use it", namespace: labelled, ref: ref},
		"Refused":   {reason: "any other namespace is refused", namespace: refused, ref: ref, want: connection.ErrNamespaceNotAllowed},
		"Missing":   {reason: "a connection that does not exist is not found", namespace: listed, ref: v1alpha1.ConnectionReference{Kind: connection.KindClusterFtrackConnection, Name: "absent"}, want: connection.ErrNotFound},
		"WrongKind": {reason: "a namespaced reference does not find the cluster connection", namespace: listed, ref: v1alpha1.ConnectionReference{Name: c.Name}, want: connection.ErrNotFound},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := suiteConnections.Pool.Acquire(ctx, k8sClient, tc.namespace, tc.ref)
			if !errors.Is(err, tc.want) {
				t.Fatalf("%s: Acquire error %v, want %v", tc.reason, err, tc.want)
			}
			if tc.want == nil && got == nil {
				t.Fatalf("%s: no connection", tc.reason)
			}
			if tc.want != nil && err.Error() == "" {
				t.Errorf("%s: empty message", tc.reason)
			}
		})
	}
	_, err := suiteConnections.Pool.Acquire(ctx, k8sClient, refused, ref)
	if want := fmt.Sprintf("ClusterFtrackConnection %q does not allow namespace %q: add it to spec.allowedNamespaces", c.Name, refused); err == nil || err.Error() != want {
		t.Errorf("message: got %v, want %q", err, want)
	}
}

func TestConnectionDeletionWaitsForEntities(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ns := newNamespace(t, nil)
	key := fcKey(ns, "studio")
	createSecret(t, ns, "creds", credentialsData(ftracktest.DefaultUser, ftracktest.DefaultAPIKey))
	conn := createConnection(t, ns, key.Name, ftrackServer.URL, "creds")
	c := pooled(t, key, nil)
	entities := []*v1alpha1.FtrackEntity{
		createEntity(t, ns, "a", key.Name, ""),
		createEntity(t, ns, "b", key.Name, ""),
	}
	if err := k8sClient.Delete(ctx, conn); err != nil {
		t.Fatal(err)
	}
	waitFor(t, soon, "InUse", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonInUse))
	st, _, err := connectionStatus(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if msg := findCondition(st, v1alpha1.ConditionReady).Message; msg != "Deletion waits: 2 FtrackEntity object(s) still use this connection." {
		t.Errorf("InUse message %q does not count the entities", msg)
	}
	if c.Session().Closed() {
		t.Error("the session was closed while entities still use it")
	}
	for _, e := range entities {
		if err := k8sClient.Delete(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, soon, "the connection gone", func() error {
		if err := k8sClient.Get(ctx, key.NamespacedName(), &v1alpha1.FtrackConnection{}); err == nil {
			return errors.New("still there")
		}
		return nil
	})
	if !c.Session().Closed() {
		t.Error("the session outlived its connection")
	}
	if _, ok := suiteConnections.Pool.Get(key); ok {
		t.Error("the pool still holds the connection")
	}
}

func findCondition(st *v1alpha1.ConnectionStatus, typ string) metav1.Condition {
	for _, c := range st.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return metav1.Condition{}
}

// createEntity creates a suspended FtrackEntity using the FtrackConnection conn; a non-empty
// id is written to status.id through the status subresource, as the entity reconciler would.
func createEntity(t *testing.T, namespace, name, conn, id string) *v1alpha1.FtrackEntity {
	t.Helper()
	e := &v1alpha1.FtrackEntity{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha1.FtrackEntitySpec{
			ConnectionRef: v1alpha1.ConnectionReference{Kind: connection.KindFtrackConnection, Name: conn},
			EntityType:    "Priority",
			// Suspended: the entity reconciler registered in the suite leaves it (and ftrack)
			// alone, so status.id stays what the test wrote.
			Suspend: true,
		},
	}
	if err := k8sClient.Create(t.Context(), e); err != nil {
		t.Fatalf("creating FtrackEntity %s/%s: %v", namespace, name, err)
	}
	t.Cleanup(func() { _ = client.IgnoreNotFound(k8sClient.Delete(context.Background(), e)) })
	if id != "" {
		base := e.DeepCopy()
		e.Status.ID = id
		if err := k8sClient.Status().Patch(t.Context(), e, client.MergeFrom(base)); err != nil {
			t.Fatalf("writing status.id of %s/%s: %v", namespace, name, err)
		}
	}
	return e
}

func TestConnectionValidation(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	yes := true
	tests := map[string]struct {
		reason  string
		mutate  func(*v1alpha1.FtrackConnection)
		wantErr string
	}{
		"Valid":      {reason: "an https URL and a Secret name are enough", mutate: func(*v1alpha1.FtrackConnection) {}},
		"FTP":        {reason: "only http and https", mutate: func(c *v1alpha1.FtrackConnection) { c.Spec.ServerURL = "ftp://studio" }, wantErr: "serverURL must start with http:// or https://"},
		"Userinfo":   {reason: "credentials belong in the Secret", mutate: func(c *v1alpha1.FtrackConnection) { c.Spec.ServerURL = "https://user:pw@studio.example" }, wantErr: "serverURL must not hold credentials"},
		"NotAURL":    {reason: "the URL must parse", mutate: func(c *v1alpha1.FtrackConnection) { c.Spec.ServerURL = "https://studio example/%zz" }, wantErr: "serverURL must be a URL"},
		"NoURL":      {reason: "the URL is required", mutate: func(c *v1alpha1.FtrackConnection) { c.Spec.ServerURL = "" }, wantErr: "spec.serverURL"},
		"NoSecret":   {reason: "the Secret name is required", mutate: func(c *v1alpha1.FtrackConnection) { c.Spec.SecretRef.Name = "" }, wantErr: "spec.secretRef.name"},
		"ZeroBudget": {reason: "a budget of zero would stop every request", mutate: func(c *v1alpha1.FtrackConnection) { c.Spec.RateLimit.RequestsPerSecond = -1 }, wantErr: "spec.rateLimit.requestsPerSecond"},
		"TLSBoth": {reason: "a CA bundle and no verification exclude each other", mutate: func(c *v1alpha1.FtrackConnection) {
			c.Spec.TLS = &v1alpha1.TLSSettings{InsecureSkipVerify: true, CABundleRef: &v1alpha1.CABundleReference{Kind: "ConfigMap", Name: "ca"}}
		}, wantErr: "caBundleRef and insecureSkipVerify exclude each other"},
		"CAKind": {reason: "a CA bundle comes from a Secret or a ConfigMap", mutate: func(c *v1alpha1.FtrackConnection) {
			c.Spec.TLS = &v1alpha1.TLSSettings{CABundleRef: &v1alpha1.CABundleReference{Kind: "Pod", Name: "ca"}}
		}, wantErr: "spec.tls.caBundleRef.kind"},
		"HubOff": {reason: "the event hub can be switched off", mutate: func(c *v1alpha1.FtrackConnection) {
			off := false
			c.Spec.EventHub.Enabled = &off
		}},
		"Insecure": {reason: "insecureSkipVerify alone is accepted (with a warning Event)", mutate: func(c *v1alpha1.FtrackConnection) {
			c.Spec.TLS = &v1alpha1.TLSSettings{InsecureSkipVerify: yes}
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := &v1alpha1.FtrackConnection{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "v-"},
				Spec: v1alpha1.FtrackConnectionSpec{
					ConnectionSettings: v1alpha1.ConnectionSettings{ServerURL: "https://studio.example"},
					SecretRef:          v1alpha1.CredentialsSecretReference{Name: "creds"},
				},
			}
			tc.mutate(c)
			err := k8sClient.Create(t.Context(), c)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("%s: %v", tc.reason, err)
				}
				t.Cleanup(func() { deleteConnection(t, c) })
				return
			}
			if err == nil {
				t.Cleanup(func() { deleteConnection(t, c) })
				t.Fatalf("%s: created, want an error naming %q", tc.reason, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %q does not name %q", tc.reason, err, tc.wantErr)
			}
		})
	}
}

func TestConnectionDefaults(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	c := createConnection(t, ns, "defaults", "https://studio.example", "creds")
	want := v1alpha1.FtrackConnectionSpec{
		ConnectionSettings: v1alpha1.ConnectionSettings{
			ServerURL:      "https://studio.example",
			EventHub:       v1alpha1.EventHubSettings{Enabled: ptrTo(true), Subscription: v1alpha1.DefaultEventHubSubscription},
			ResyncInterval: &metav1.Duration{Duration: v1alpha1.DefaultResyncInterval},
			RateLimit:      v1alpha1.RateLimit{RequestsPerSecond: v1alpha1.DefaultRequestsPerSecond, Burst: v1alpha1.DefaultBurst},
			Timeout:        &metav1.Duration{Duration: v1alpha1.DefaultRequestTimeout},
		},
		SecretRef: v1alpha1.CredentialsSecretReference{Name: "creds", SecretKeys: v1alpha1.SecretKeys{
			APIKeyKey: v1alpha1.DefaultAPIKeyKey, APIUserKey: v1alpha1.DefaultAPIUserKey,
		}},
	}
	if diff := cmp.Diff(want, c.Spec); diff != "" {
		t.Errorf("defaulted spec (-want +got):\n%s", diff)
	}
	// The operator's own defaults agree with the API server's.
	var empty v1alpha1.ConnectionSettings
	perSecond, burst := empty.RequestBudget()
	got := []any{empty.EventHubEnabled(), empty.EventHubSubscription(), empty.ResyncPeriod(), empty.RequestTimeout(), perSecond, burst,
		v1alpha1.SecretKeys{}.APIKey(), v1alpha1.SecretKeys{}.APIUser()}
	wantGo := []any{true, want.EventHub.Subscription, want.ResyncInterval.Duration, want.Timeout.Duration,
		float64(want.RateLimit.RequestsPerSecond), int(want.RateLimit.Burst), want.SecretRef.APIKeyKey, want.SecretRef.APIUserKey}
	if diff := cmp.Diff(wantGo, got); diff != "" {
		t.Errorf("Go defaults (-want +got):\n%s", diff)
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestConnectionInsecureTLSWarns(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ns := newNamespace(t, nil)
	key := fcKey(ns, "studio")
	createSecret(t, ns, "creds", credentialsData(ftracktest.DefaultUser, ftracktest.DefaultAPIKey))
	createConnection(t, ns, key.Name, ftrackServer.URL, "creds", func(c *v1alpha1.FtrackConnection) {
		c.Spec.TLS = &v1alpha1.TLSSettings{InsecureSkipVerify: true}
		off := false
		c.Spec.EventHub.Enabled = &off
	})
	waitFor(t, soon, "Ready", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonConnected))
	waitFor(t, briefly, "EventHubConnected=False Disabled", conditionIs(ctx, key, v1alpha1.ConditionEventHubConnected, metav1.ConditionFalse, v1alpha1.ReasonDisabled))
	waitFor(t, briefly, "an InsecureTLS Event", hasEvent(ctx, ns, key.Name, v1alpha1.EventReasonInsecureTLS))
}

// testCAPEM returns a self-signed CA certificate in PEM.
func testCAPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ftrack-operator test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestConnectionCABundle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ns := newNamespace(t, nil)
	key := fcKey(ns, "studio")
	createSecret(t, ns, "creds", credentialsData(ftracktest.DefaultUser, ftracktest.DefaultAPIKey))
	createConnection(t, ns, key.Name, ftrackServer.URL, "creds", func(c *v1alpha1.FtrackConnection) {
		c.Spec.TLS = &v1alpha1.TLSSettings{CABundleRef: &v1alpha1.CABundleReference{Kind: "ConfigMap", Name: "studio-ca"}}
	})
	waitFor(t, soon, "SecretNotFound while the CA bundle is missing", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound))

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "studio-ca"}, Data: map[string]string{"ca.crt": "not a certificate"}}
	if err := k8sClient.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	waitFor(t, soon, "InvalidTLS for a bundle without certificates", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonInvalidTLS))

	cm.Data["ca.crt"] = testCAPEM(t)
	if err := k8sClient.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	waitFor(t, soon, "Ready once the bundle is fixed", conditionIs(ctx, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonConnected))
}
