package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestDevTargetFromFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := filepath.Join(dir, "ftrack.env")
	if err := os.WriteFile(secret, []byte("# studio bot\nexport FTRACK_API_USER=pipeline-bot\nFTRACK_API_KEY=\"s3cr3t-from-file\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secretKeys := filepath.Join(dir, "secret.env")
	if err := os.WriteFile(secretKeys, []byte("apiUser=bot\napiKey=s3cr3t-from-keys\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.env")
	if err := os.WriteFile(bad, []byte("FTRACK_API_KEY s3cr3t-bad-line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		reason  string
		opts    devOptions
		env     map[string]string
		want    devTarget
		wantErr string
	}{
		"Emulator": {
			reason: "without a server, dev runs the emulator with its default user",
			want:   devTarget{creds: credentials{user: "ftracktest", key: "ftracktest-api-key"}},
		},
		"ServerFlagWithEnvCredentials": {
			reason: "--server takes its credentials from FTRACK_API_USER and FTRACK_API_KEY",
			opts:   devOptions{server: "https://studio.ftrackapp.com/"},
			env:    map[string]string{"FTRACK_API_USER": "bot", "FTRACK_API_KEY": "s3cr3t-env"},
			want:   devTarget{server: "https://studio.ftrackapp.com", creds: credentials{user: "bot", key: "s3cr3t-env"}},
		},
		"ServerFromEnv": {
			reason: "FTRACK_SERVER stands in for --server",
			env:    map[string]string{"FTRACK_SERVER": "http://ftrack.local", "FTRACK_API_USER": "bot", "FTRACK_API_KEY": "s3cr3t-env"},
			want:   devTarget{server: "http://ftrack.local", creds: credentials{user: "bot", key: "s3cr3t-env"}},
		},
		"SecretFile": {
			reason: "--secret wins over the environment and accepts export and quotes",
			opts:   devOptions{server: "https://studio.ftrackapp.com", secretFile: secret},
			env:    map[string]string{"FTRACK_API_USER": "env-user", "FTRACK_API_KEY": "s3cr3t-env"},
			want:   devTarget{server: "https://studio.ftrackapp.com", creds: credentials{user: "pipeline-bot", key: "s3cr3t-from-file"}},
		},
		"SecretFileWithSecretKeys": {
			reason: "--secret accepts the Secret's own key names",
			opts:   devOptions{server: "https://studio.ftrackapp.com", secretFile: secretKeys},
			want:   devTarget{server: "https://studio.ftrackapp.com", creds: credentials{user: "bot", key: "s3cr3t-from-keys"}},
		},
		"MissingKey": {
			reason:  "a real server without an API key is refused before anything starts",
			opts:    devOptions{server: "https://studio.ftrackapp.com"},
			env:     map[string]string{"FTRACK_API_USER": "bot"},
			wantErr: "FTRACK_API_KEY",
		},
		"BadScheme": {
			reason:  "only http and https servers are accepted",
			opts:    devOptions{server: "ftp://studio"},
			wantErr: "http:// or https://",
		},
		"SecretWithoutServer": {
			reason:  "--secret alone would be silently ignored by the emulator",
			opts:    devOptions{secretFile: secret},
			wantErr: "--secret needs --server",
		},
		"UnreadableSecret": {
			reason:  "a missing --secret file is an error",
			opts:    devOptions{server: "https://studio.ftrackapp.com", secretFile: filepath.Join(dir, "missing")},
			wantErr: "reading --secret",
		},
		"MalformedSecret": {
			reason:  "a line without = is refused without echoing it",
			opts:    devOptions{server: "https://studio.ftrackapp.com", secretFile: bad},
			wantErr: "line 1: want KEY=VALUE",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := devTargetFromFlags(tc.opts, func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("%s: error = %v, want one containing %q", tc.reason, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cr3t") {
					t.Errorf("%s: the error shows an API key: %v", tc.reason, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(devTarget{}, credentials{})); diff != "" {
				t.Errorf("%s: target differs (-want +got):\n%s", tc.reason, diff)
			}
			if strings.Contains(got.creds.String(), got.creds.key) {
				t.Errorf("%s: credentials.String() shows the key: %q", tc.reason, got.creds.String())
			}
		})
	}
}

func TestRunDevRefusesBadCommandLines(t *testing.T) {
	cases := map[string]struct {
		reason string
		args   []string
	}{
		"UnknownFlag":     {"unknown flags are refused", []string{"--nope"}},
		"ExtraArgument":   {"positional arguments are refused", []string{"now"}},
		"NegativeTimeout": {"a timeout must be positive", []string{"--timeout", "-1s"}},
		"BadServer":       {"a server URL needs a scheme", []string{"--server", "studio.ftrackapp.com"}},
	}
	t.Setenv("FTRACK_SERVER", "")
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := run(t.Context(), append([]string{"dev"}, tc.args...), &strings.Builder{}, &strings.Builder{})
			if err == nil {
				t.Fatalf("%s: dev %q succeeded", tc.reason, tc.args)
			}
			if code := exitCode(err); code != 2 {
				t.Errorf("%s: exit code %d, want 2 (usage)", tc.reason, code)
			}
		})
	}
}

func TestReadinessOf(t *testing.T) {
	t.Parallel()
	obj := trackedObject{kind: "FtrackEntity", namespace: "studio", name: "sq010"}
	cond := func(status, reason, message string, gen int64) map[string]any {
		return map[string]any{"type": "Ready", "status": status, "reason": reason, "message": message, "observedGeneration": gen}
	}
	cases := map[string]struct {
		reason     string
		generation int64
		status     map[string]any
		want       readiness
	}{
		"NoStatus": {
			reason:     "an object nobody reconciled yet is not Ready",
			generation: 1,
			want:       readiness{obj: obj},
		},
		"Ready": {
			reason:     "Ready=True for the current generation is Ready",
			generation: 2,
			status:     map[string]any{"observedGeneration": int64(2), "conditions": []any{cond("True", "Synced", "", 2)}},
			want:       readiness{obj: obj, ready: true, reason: "Synced"},
		},
		"NotReady": {
			reason:     "Ready=False carries its reason and message",
			generation: 1,
			status:     map[string]any{"observedGeneration": int64(1), "conditions": []any{cond("False", "ReferenceNotReady", "parent gullwing is not Ready", 1)}},
			want:       readiness{obj: obj, reason: "ReferenceNotReady", message: "parent gullwing is not Ready"},
		},
		"StaleStatus": {
			reason:     "a Ready status of an older generation is not Ready (kstatus would say InProgress)",
			generation: 3,
			status:     map[string]any{"observedGeneration": int64(2), "conditions": []any{cond("True", "Synced", "", 2)}},
			want:       readiness{obj: obj, reason: "Stale", message: "Ready describes generation 2, the object is at 3"},
		},
		"StaleCondition": {
			reason:     "a Ready condition of an older generation is not Ready even if status.observedGeneration moved",
			generation: 3,
			status:     map[string]any{"observedGeneration": int64(3), "conditions": []any{cond("True", "Synced", "", 2)}},
			want:       readiness{obj: obj, reason: "Stale", message: "Ready describes generation 2, the object is at 3"},
		},
		"OtherConditionsIgnored": {
			reason:     "only the Ready condition counts",
			generation: 1,
			status:     map[string]any{"conditions": []any{map[string]any{"type": "Synced", "status": "True", "reason": "Synced"}}},
			want:       readiness{obj: obj},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u := &unstructured.Unstructured{Object: map[string]any{}}
			u.SetGeneration(tc.generation)
			if tc.status != nil {
				u.Object["status"] = tc.status
			}
			got := readinessOf(u, obj)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(readiness{}, trackedObject{})); diff != "" {
				t.Errorf("%s: readiness differs (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestNotReadyErrorNamesEveryObject(t *testing.T) {
	t.Parallel()
	err := error(&notReadyError{timeout: 5 * time.Minute, notReady: []readiness{
		{obj: trackedObject{kind: "FtrackEntity", namespace: "studio", name: "sq010"}, reason: "ReferenceNotReady", message: "parent gullwing is not Ready"},
		{obj: trackedObject{kind: "FtrackConnection", namespace: "studio", name: "studio"}},
	}})
	want := "2 samples are not Ready after 5m0s:\n" +
		"  FtrackEntity studio/sq010: ReferenceNotReady: parent gullwing is not Ready\n" +
		"  FtrackConnection studio/studio: no Ready condition yet"
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("message differs (-want +got):\n%s", diff)
	}
	var nre *notReadyError
	if !errors.As(err, &nre) || exitCode(err) != 1 {
		t.Errorf("exit code %d, want 1", exitCode(err))
	}
}

// TestSamplesFollowTheStudioConventions renders config/samples and checks what a studio
// relies on: one connection with a credentials Secret reference, every entity on it, every
// reference by name pointing at a sample, and no raw ftrack ids (queries by name instead).
func TestSamplesFollowTheStudioConventions(t *testing.T) {
	t.Parallel()
	objs, err := renderSamples(filepath.Join(moduleRoot(t), "config", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	names := map[string]bool{}
	types := map[string]int{}
	for _, o := range objs {
		kinds[o.GetKind()]++
		if o.GetKind() == "FtrackEntity" {
			names[o.GetName()] = true
			typ, _, _ := unstructured.NestedString(o.Object, "spec", "entityType")
			types[typ]++
		}
	}
	wantKinds := map[string]int{"Namespace": 1, "FtrackConnection": 1, "FtrackEntity": 13}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("kinds rendered differ (-want +got):\n%s", diff)
	}
	wantTypes := map[string]int{"CustomAttributeConfiguration": 1, "Project": 1, "Sequence": 2, "Shot": 3, "Task": 6}
	if diff := cmp.Diff(wantTypes, types); diff != "" {
		t.Errorf("entity types differ (-want +got):\n%s", diff)
	}
	secrets, err := connectionSecrets(objs, "http://127.0.0.1:8765")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]credentialsSecret{{namespace: "studio", name: "ftrack-credentials", userKey: "apiUser", keyKey: "apiKey"}}, secrets, cmp.AllowUnexported(credentialsSecret{})); diff != "" {
		t.Errorf("credentials Secrets differ (-want +got):\n%s", diff)
	}
	for _, o := range objs {
		if o.GetNamespace() != "studio" && o.GetKind() != "Namespace" {
			t.Errorf("%s %s is in namespace %q, want studio", o.GetKind(), o.GetName(), o.GetNamespace())
		}
		if o.GetKind() != "FtrackEntity" {
			continue
		}
		if conn, _, _ := unstructured.NestedString(o.Object, "spec", "connectionRef", "name"); conn != "studio" {
			t.Errorf("FtrackEntity %s uses connection %q, want studio", o.GetName(), conn)
		}
		refs, _, _ := unstructured.NestedMap(o.Object, "spec", "references")
		for attr, r := range refs {
			ref, _ := r.(map[string]any)
			if name, ok := ref["name"].(string); ok && !names[name] {
				t.Errorf("FtrackEntity %s: references.%s names %q, which is not a sample", o.GetName(), attr, name)
			}
			if id, ok := ref["id"]; ok {
				t.Errorf("FtrackEntity %s: references.%s uses the raw id %v; samples find entities by query", o.GetName(), attr, id)
			}
		}
	}
}

// TestDevUntilReady runs 'dev --until-ready' in process: the control plane, the emulator, the
// samples and the manager, until every sample is Ready.
func TestDevUntilReady(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	t.Setenv("FTRACK_SERVER", "")
	stateDir := filepath.Join(t.TempDir(), ".dev")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--listen", "127.0.0.1:0", "--state-dir", stateDir, "--until-ready", "--timeout", "4m"}, out, out)
	}()
	// Watch from the outside too, to tell a missing FtrackEntity reconciler from a broken one.
	kubeconfig := filepath.Join(stateDir, "kubeconfig")
	watchErr := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(15 * time.Minute)
		for {
			if _, err := os.Stat(kubeconfig); err == nil {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				watchErr <- errors.New("no kubeconfig appeared")
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			watchErr <- err
			return
		}
		k8s, err := client.New(cfg, client.Options{Scheme: newScheme()})
		if err != nil {
			watchErr <- err
			return
		}
		watchErr <- waitSamplesReady(ctx, k8s, 5*time.Minute)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev --until-ready: %v\noutput:\n%s", err, out)
		}
	case err := <-watchErr:
		if errors.Is(err, errEntityReconcilerMissing) {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("dev did not stop cleanly: %v", err)
			}
			t.Skipf("%v; the control plane, the emulator, the samples and the connection work", err)
		}
		if err := <-done; err != nil {
			t.Fatalf("dev --until-ready: %v\noutput:\n%s", err, out)
		}
	}
	if !strings.Contains(out.String(), "every sample is Ready") {
		t.Errorf("dev did not report that every sample is Ready:\n%s", out)
	}
	if _, err := os.Stat(kubeconfig); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the kubeconfig of a stopped control plane is left behind: %v", err)
	}
}
