package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/controllers"
	"github.com/ftrack-operator/ftrack-operator/internal/badspecs"
	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
	"github.com/ftrack-operator/ftrack-operator/internal/webhook"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// The suite: a control plane with the webhook configurations of config/webhook installed,
// an emulator holding what the bad-spec cases rely on, and warnings collected per client.
var (
	env      *testenv.Environment
	scheme   *runtime.Scheme
	emulator *ftracktest.Server
	k8s      client.Client
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	root, err := testenv.ModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env, err = testenv.Start(context.Background(), testenv.WithWebhooks(filepath.Join(root, "config", "webhook", "manifests.yaml")))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	scheme = runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	if k8s, err = client.New(env.Config, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if emulator, err = ftracktest.NewServer(ftracktest.WithSeed(badspecs.Seed()...)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = emulator.Close() }()
	return m.Run()
}

// startManager runs the operator's manager with its webhooks on the served port, until the
// returned function is called.
func startManager(t *testing.T) (stop func()) {
	t.Helper()
	host, port, certDir := env.WebhookServer()
	skip := true
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Client:                 controllers.ClientOptions(),
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: &skip, MaxConcurrentReconciles: 10},
		WebhookServer:          ctrlwebhook.NewServer(ctrlwebhook.Options{Host: host, Port: port, CertDir: certDir}),
	})
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	conns, err := controllers.SetupConnections(mgr)
	if err != nil {
		t.Fatal(err)
	}
	if err := controllers.SetupEntities(mgr, conns); err != nil {
		t.Fatal(err)
	}
	if err := webhook.Setup(mgr, conns.Pool); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("manager: %v", err)
				}
			case <-time.After(time.Minute):
				t.Error("the manager did not stop within a minute")
			}
		})
	}
	t.Cleanup(stop)
	waitFor(t, 30*time.Second, "the webhook server", func() error {
		return mgr.GetWebhookServer().StartedChecker()(nil)
	})
	return stop
}

// namespace makes a namespace with a Ready connection named "studio" to the emulator.
func namespace(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "webhook-"}}
	if err := k8s.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "creds"},
		StringData: map[string]string{"apiUser": ftracktest.DefaultUser, "apiKey": ftracktest.DefaultAPIKey}}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	conn := &v1alpha1.FtrackConnection{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "studio"},
		Spec: v1alpha1.FtrackConnectionSpec{
			ConnectionSettings: v1alpha1.ConnectionSettings{ServerURL: emulator.URL},
			SecretRef:          v1alpha1.CredentialsSecretReference{Name: "creds"},
		}}
	if err := k8s.Create(ctx, conn); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "connection Ready", func() error {
		var c v1alpha1.FtrackConnection
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(conn), &c); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady) {
			return errors.New("not Ready")
		}
		return nil
	})
	return ns.Name
}

func entity(ns, name, typ string, mutate func(*v1alpha1.FtrackEntity)) *v1alpha1.FtrackEntity {
	e := &v1alpha1.FtrackEntity{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.FtrackEntitySpec{
			ConnectionRef: v1alpha1.ConnectionReference{Kind: "FtrackConnection", Name: "studio"},
			EntityType:    typ,
		},
	}
	mutate(e)
	return e
}

// warningsClient returns a client whose warnings from the API server are collected.
func warningsClient(t *testing.T) (client.Client, *warningLog) {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	w := &warningLog{}
	cfg.WarningHandler = w
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c, w
}

type warningLog struct {
	mu  sync.Mutex
	msg []string
}

func (w *warningLog) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msg = append(w.msg, text)
}

func (w *warningLog) all() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.msg, "\n")
}

func writes() int {
	return emulator.RequestCount("create") + emulator.RequestCount("update") + emulator.RequestCount("delete")
}

// waitFor polls cond until it returns nil or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		timer := time.NewTimer(50 * time.Millisecond)
		<-timer.C
	}
	t.Fatalf("%s: not reached within %s: %v", what, timeout, err)
}

// TestAdmission runs every check through one manager: the bad specs are refused with the
// reconciler's reason and message and nothing reaches ftrack; what may work later is
// allowed with a warning; a new object gets its id in the create.
func TestAdmission(t *testing.T) {
	startManager(t)
	ns := namespace(t)
	ctx := t.Context()
	// The target of the wrong-type reference: a valid shot, suspended so that it writes nothing.
	target := entity(ns, badspecs.TargetName, "Shot", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sh010"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: badspecs.ParentID}}
		e.Spec.Suspend = true
	})
	if err := k8s.Create(ctx, target); err != nil {
		t.Fatalf("creating the target of the wrong-type reference: %v", err)
	}

	t.Run("BadSpecsRefused", func(t *testing.T) {
		before := writes()
		cases := badspecs.Cases()
		t.Logf("%d kinds of invalid spec", len(cases))
		for _, tc := range cases {
			t.Run(tc.Name, func(t *testing.T) {
				err := k8s.Create(ctx, entity(ns, strings.ToLower(tc.Name), tc.Type, tc.Mutate))
				if !apierrors.IsInvalid(err) {
					t.Fatalf("%s: Create = %v, want the webhook's refusal", tc.Reason, err)
				}
				if msg := err.Error(); !strings.Contains(msg, tc.WantReason) || !strings.Contains(msg, tc.WantMessage) {
					t.Errorf("%s: refusal %q lacks %s / %q", tc.Reason, msg, tc.WantReason, tc.WantMessage)
				}
				var e v1alpha1.FtrackEntity
				if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: strings.ToLower(tc.Name)}, &e); !apierrors.IsNotFound(err) {
					t.Errorf("%s: the refused object was stored (%v)", tc.Reason, err)
				}
			})
		}
		if n := writes() - before; n != 0 {
			t.Errorf("%d writes reached ftrack for refused objects", n)
		}
	})

	t.Run("IDAssignedInTheCreate", func(t *testing.T) {
		e := entity(ns, "sq100", "Sequence", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sq100"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: badspecs.ParentID}}
		})
		if err := k8s.Create(ctx, e); err != nil {
			t.Fatal(err)
		}
		id := e.Annotations[v1alpha1.AnnotationEntityID]
		if id == "" {
			t.Fatal("the create stored no id annotation")
		}
		waitFor(t, 30*time.Second, "the sequence created with the id of the create", func() error {
			if _, ok := emulator.Get("Sequence", id); !ok {
				return fmt.Errorf("no Sequence %s in ftrack", id)
			}
			return nil
		})
		adopted := entity(ns, "adopt", "Project", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Adopt = &v1alpha1.AdoptSpec{ID: badspecs.ParentID}
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"full_name": "Seeded"})
		})
		if err := k8s.Create(ctx, adopted); err != nil {
			t.Fatal(err)
		}
		if got := adopted.Annotations[v1alpha1.AnnotationEntityID]; got != badspecs.ParentID {
			t.Errorf("an adopting object got id %q, want adopt.id %s", got, badspecs.ParentID)
		}
	})

	t.Run("LaterIsAWarning", func(t *testing.T) {
		c, w := warningsClient(t)
		e := entity(ns, "sh200", "Shot", func(e *v1alpha1.FtrackEntity) {
			e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sh200"})
			e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {Name: "sq200"}}
			e.Spec.CustomAttributes = badspecs.Attrs(map[string]any{"cut_in_frame": 1001})
		})
		if err := c.Create(ctx, e); err != nil {
			t.Fatalf("an object whose parent and custom attribute may come later was refused: %v", err)
		}
		for _, want := range []string{`FtrackEntity "sq200" does not exist yet`, `custom attribute configuration with key "cut_in_frame"`} {
			if !strings.Contains(w.all(), want) {
				t.Errorf("warnings %q lack %q", w.all(), want)
			}
		}
	})

	t.Run("ConnectionChangeRefused", func(t *testing.T) {
		var e v1alpha1.FtrackEntity
		waitFor(t, 30*time.Second, "sq100 Ready", func() error {
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "sq100"}, &e); err != nil {
				return err
			}
			if e.Status.ID == "" {
				return errors.New("no status.id yet")
			}
			return nil
		})
		e.Spec.ConnectionRef.Name = "other"
		err := k8s.Update(ctx, &e)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.connectionRef") {
			t.Errorf("changing the connection of an object with an id: %v, want a refusal naming spec.connectionRef", err)
		}
	})
}

// TestAdmissionNeverBlocks: with no webhook server (the manager stopped), objects are
// still created, and the reconciler does the right thing once it runs again.
func TestAdmissionNeverBlocks(t *testing.T) {
	stop := startManager(t)
	ns := namespace(t)
	stop()
	ctx := t.Context()
	e := entity(ns, "sq300", "Sequence", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "sq300"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"parent": {ID: badspecs.ParentID}}
	})
	bad := entity(ns, "bad", "Project", func(e *v1alpha1.FtrackEntity) {
		e.Spec.Attributes = badspecs.Attrs(map[string]any{"name": "p", "ful_name": "P"})
		e.Spec.References = map[string]v1alpha1.EntityReference{"project_schema": {ID: builtin.DefaultProjectSchemaID}}
	})
	for _, o := range []*v1alpha1.FtrackEntity{e, bad} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatalf("creating %s with the webhooks down: %v", o.Name, err)
		}
	}
	if e.Annotations[v1alpha1.AnnotationEntityID] != "" {
		t.Errorf("an id was assigned with the webhook down")
	}
	startManager(t)
	waitFor(t, 30*time.Second, "sq300 created by the reconciler", func() error {
		var got v1alpha1.FtrackEntity
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(e), &got); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.ConditionReady) {
			return errors.New("not Ready")
		}
		if _, ok := emulator.Get("Sequence", got.Status.ID); !ok {
			return fmt.Errorf("no Sequence %s", got.Status.ID)
		}
		return nil
	})
	waitFor(t, 30*time.Second, "the bad object Stalled by the reconciler", func() error {
		var got v1alpha1.FtrackEntity
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(bad), &got); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.ConditionStalled) {
			return errors.New("not Stalled")
		}
		return nil
	})
}
