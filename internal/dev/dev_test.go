package dev

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
	"github.com/ftrack-operator/ftrack-operator/internal/cli"
	"github.com/ftrack-operator/ftrack-operator/internal/jsclient"
	"github.com/ftrack-operator/ftrack-operator/internal/manager"
	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
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
			err := Run(t.Context(), tc.args, &strings.Builder{}, &strings.Builder{})
			if err == nil {
				t.Fatalf("%s: dev %q succeeded", tc.reason, tc.args)
			}
			if code := cli.ExitCode(err); code != 2 {
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
	if !errors.As(err, &nre) || cli.ExitCode(err) != 1 {
		t.Errorf("exit code %d, want 1", cli.ExitCode(err))
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
	out := &testenv.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"--listen", "127.0.0.1:0", "--state-dir", stateDir, "--until-ready", "--timeout", "4m"}, out, out)
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
		k8s, err := client.New(cfg, client.Options{Scheme: manager.Scheme()})
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
			if err := <-done; err == nil || !strings.Contains(err.Error(), "interrupted with") {
				t.Errorf("an interrupted --until-ready returned %v, want the interruption reported", err)
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
	// The banner counts what the progress lines count.
	var applied, pending, ready, total int
	for _, line := range strings.Split(out.String(), "\n") {
		if i := strings.Index(line, "samples "); i >= 0 && strings.Contains(line, " objects from ") {
			_, _ = fmt.Sscanf(strings.TrimSpace(line[i+len("samples "):]), "%d objects", &applied)
			if j := strings.Index(line, "; "); j >= 0 {
				_, _ = fmt.Sscanf(line[j+2:], "%d more", &pending)
			}
		}
		if i := strings.Index(line, "] "); i >= 0 && strings.Contains(line, " Ready (") {
			_, _ = fmt.Sscanf(line[i+2:], "%d/%d Ready", &ready, &total)
		}
	}
	if applied == 0 || applied+pending != total {
		t.Errorf("the banner says %d objects and %d more, the progress counts %d:\n%s", applied, pending, total, out)
	}
	if _, err := os.Stat(kubeconfig); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the kubeconfig of a stopped control plane is left behind: %v", err)
	}
}

// TestDevUntilReadyNamespaced converges the samples with the manager acting as the
// namespaced install's ServiceAccount (config/namespaced: Secrets only in the watched
// namespaces); TestDevUntilReady does it with config/default's, dev's default.
func TestDevUntilReadyNamespaced(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	t.Setenv("FTRACK_SERVER", "")
	stateDir := filepath.Join(t.TempDir(), ".dev")
	out := &testenv.Buffer{}
	// A process of its own: controller-runtime allows one manager of each controller name
	// per process, and TestDevUntilReady runs one in this process.
	cmd := exec.CommandContext(t.Context(), operatorBinary(t), "dev", "--listen", "127.0.0.1:0", "--state-dir", stateDir, "--until-ready", "--timeout", "4m", "--install", "namespaced")
	cmd.Dir = moduleRoot(t)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		log, _ := os.ReadFile(filepath.Join(stateDir, "manager.log"))
		t.Fatalf("dev --install namespaced --until-ready: %v\noutput:\n%s\nmanager log (end):\n%s", err, out, tail(string(log), 4000))
	}
	if !strings.Contains(out.String(), "every sample is Ready") {
		t.Errorf("dev did not report that every sample is Ready:\n%s", out)
	}
	log, err := os.ReadFile(filepath.Join(stateDir, "manager.log"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(log), "forbidden") {
		t.Errorf("the namespaced manager met a forbidden request:\n%s", tail(string(log), 4000))
	}
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// TestDevProcess runs 'ftrack-operator dev' as a separate process, as 'make dev' does: the
// official JavaScript client lists the sample project's shots from the printed URL, the README's
// walkthrough works as written, and Ctrl-C (SIGINT) leaves no process behind.
func TestDevProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	if !devShimSupported {
		t.Skip("the process checks read /proc")
	}
	p := startDevProcess(t, operatorBinary(t))
	kids := childrenOf(t, p.cmd.Process.Pid)
	comms := map[string]bool{}
	for _, comm := range kids {
		comms[comm] = true
	}
	if !comms["etcd"] || !comms["kube-apiserver"] {
		t.Fatalf("dev's child processes are %v, want etcd and kube-apiserver among them", kids)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	readyErr := waitSamplesReady(ctx, p.kubeClient(t), 4*time.Minute)

	t.Run("JavaScriptClientListsShots", func(t *testing.T) {
		if readyErr != nil {
			t.Fatalf("the samples are not Ready: %v", readyErr)
		}
		cmd := jsclient.Command(ctx, t, "list-shots.mjs")
		cmd.Env = append(cleanEnv(), readFtrackEnv(t, filepath.Join(p.stateDir, "ftrack.env"))...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("list-shots.mjs: %v\n%s", err, out)
		}
		want := "sq010/sh010 In progress 1001\nsq010/sh020 Not started 1009\nsq020/sh010 Pending review 1001\n"
		if diff := cmp.Diff(want, string(out)); diff != "" {
			t.Errorf("the JavaScript client lists other shots (-want +got):\n%s", diff)
		}
	})

	t.Run("Plan", func(t *testing.T) {
		if readyErr != nil {
			t.Fatalf("the samples are not Ready: %v", readyErr)
		}
		bin := operatorBinary(t)
		kubeconfig := filepath.Join(p.stateDir, "kubeconfig")
		secret := filepath.Join(p.stateDir, "ftrack.env")
		plan := func(samples string) (string, int) {
			cmd := exec.CommandContext(ctx, bin, "plan", "-k", samples, "--kubeconfig", kubeconfig, "--server", p.url, "--secret", secret, "--no-color")
			cmd.Env = cleanEnv()
			out, err := cmd.Output()
			code := 0
			var exitErr *exec.ExitError
			if errors.As(err, &exitErr) {
				code = exitErr.ExitCode()
			} else if err != nil {
				t.Fatalf("plan: %v", err)
			}
			return string(out), code
		}
		samples := filepath.Join(moduleRoot(t), "config", "samples")
		if out, code := plan(samples); code != 0 || !strings.Contains(out, "Plan: 0 to create, 0 to update, 0 to delete, 0 invalid.") {
			t.Fatalf("plan of the applied samples: exit %d, want 0 with no changes:\n%s", code, out)
		}
		// One sample's status changes, as a pull request would change it.
		edited := filepath.Join(t.TempDir(), "samples")
		if err := copyTree(samples, edited); err != nil {
			t.Fatal(err)
		}
		shot := filepath.Join(edited, "show-gullwing", "sq010", "sh020.yaml")
		data, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		changed := strings.Replace(string(data), `query: Status where name is "Not started"`, `query: Status where name is "In progress"`, 1)
		if changed == string(data) {
			t.Fatal("the sample shot sq010-sh020 no longer has the status the test changes")
		}
		if err := os.WriteFile(shot, []byte(changed), 0o600); err != nil {
			t.Fatal(err)
		}
		out, code := plan(edited)
		if code != 2 {
			t.Fatalf("plan after the edit: exit %d, want 2:\n%s", code, out)
		}
		var changes []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "~ ") || strings.HasPrefix(l, "+ ") || strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "    ") {
				changes = append(changes, l)
			}
		}
		want := []string{"~ update Shot gullwing / sq010 / sh020", `    references.status: Status "Not started" → Status "In progress"`}
		if diff := cmp.Diff(want, changes); diff != "" {
			t.Fatalf("the plan of the edit (-want +got):\n%s\n%s", diff, out)
		}
		// Applied, the operator writes what the plan said: planning again changes nothing.
		apply := exec.CommandContext(ctx, "kubectl", "--kubeconfig", kubeconfig, "apply", "-f", shot)
		apply.Env = cleanEnv()
		if out, err := apply.CombinedOutput(); err != nil {
			t.Fatalf("kubectl apply: %v\n%s", err, out)
		}
		waitFor(t, time.Minute, "the plan of the applied edit is empty", func() error {
			if out, code := plan(edited); code != 0 {
				return fmt.Errorf("exit %d:\n%s", code, out)
			}
			return nil
		})
	})

	t.Run("READMEWalkthrough", func(t *testing.T) {
		if readyErr != nil {
			t.Fatalf("the samples are not Ready: %v", readyErr)
		}
		env := cleanEnv()
		// A kubectl built next to the control plane, if the cache has one, comes first.
		if assets, err := testenv.BinaryAssets(); err == nil {
			if _, err := os.Stat(filepath.Join(assets, "kubectl")); err == nil {
				env = append(env, "PATH="+assets+string(os.PathListSeparator)+os.Getenv("PATH"))
				t.Setenv("PATH", assets+string(os.PathListSeparator)+os.Getenv("PATH"))
			}
		}
		for _, tool := range []string{"kubectl", "curl", "bash"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("the walkthrough needs %s, which is not on PATH", tool)
			}
		}
		if _, err := exec.LookPath("node"); err != nil {
			t.Skip("the walkthrough needs node, which is not on PATH")
		}
		script := walkthroughScript(t)
		work := mirrorCheckout(t, p.stateDir)
		cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = work
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the README walkthrough failed: %v\nscript:\n%s\noutput:\n%s", err, script, out)
		}
		t.Logf("walkthrough output:\n%s", out)
	})

	t.Run("READMEAdopt", func(t *testing.T) {
		if readyErr != nil {
			t.Fatalf("the samples are not Ready: %v", readyErr)
		}
		readmeAdopt(ctx, t, filepath.Join(p.stateDir, "kubeconfig"))
	})

	// Ctrl-C: dev stops the manager, the control plane and the emulator, then exits 0.
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("dev exited with %v after SIGINT, want status 0", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("dev did not exit within 2 minutes of SIGINT")
	}
	if left := waitGone(kids, 10*time.Second); len(left) > 0 {
		t.Errorf("processes survived dev's exit: %v", left)
	}
	if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(p.url, "http://"), time.Second); err == nil {
		_ = conn.Close()
		t.Errorf("the emulator still accepts connections on %s", p.url)
	}
	for _, name := range []string{"kubeconfig", "ftrack.env"} {
		if _, err := os.Stat(filepath.Join(p.stateDir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is left behind after a clean stop: %v", name, err)
		}
	}
	if runs, _ := filepath.Glob(filepath.Join(p.stateDir, "run-*")); len(runs) > 0 {
		t.Errorf("the control plane's run directory is left behind: %v", runs)
	}
}

// TestDevSignalsLeaveNoProcess stops dev with SIGTERM, which it handles like Ctrl-C, and with
// SIGKILL, which it cannot handle: the kernel's parent-death signal must still stop etcd and
// kube-apiserver, and the next start removes what the killed dev left on disk.
func TestDevSignalsLeaveNoProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	if !devShimSupported {
		t.Skip("no parent-death signal on this system")
	}
	cases := map[string]struct {
		reason   string
		signal   syscall.Signal
		clean    bool // dev exits 0 and removes its run directory itself
		leftRuns int
	}{
		"SIGTERM": {reason: "SIGTERM, as from a service manager or a CI timeout, stops dev cleanly", signal: syscall.SIGTERM, clean: true},
		"SIGKILL": {reason: "SIGKILL gives dev no chance; the kernel stops the control plane", signal: syscall.SIGKILL, leftRuns: 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := startDevProcess(t, operatorBinary(t))
			kids := childrenOf(t, p.cmd.Process.Pid)
			if len(kids) < 2 {
				t.Fatalf("dev's child processes are %v, want etcd and kube-apiserver", kids)
			}
			if err := p.cmd.Process.Signal(tc.signal); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-p.done:
				if (err == nil) != tc.clean {
					t.Errorf("%s: dev exited with %v", tc.reason, err)
				}
			case <-time.After(2 * time.Minute):
				t.Fatalf("%s: dev did not exit within 2 minutes", tc.reason)
			}
			if left := waitGone(kids, 30*time.Second); len(left) > 0 {
				for pid := range left {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
				t.Fatalf("%s: processes survived dev for 30s: %v", tc.reason, left)
			}
			runs, _ := filepath.Glob(filepath.Join(p.stateDir, "run-*"))
			if len(runs) != tc.leftRuns {
				t.Fatalf("%s: run directories after dev exited: %v, want %d", tc.reason, runs, tc.leftRuns)
			}
			// The next dev start removes what a killed one could not.
			removeStaleRunDirs(p.stateDir)
			if left, _ := filepath.Glob(filepath.Join(p.stateDir, "run-*")); len(left) > 0 {
				t.Errorf("%s: run directories survive the next start's sweep: %v", tc.reason, left)
			}
		})
	}
}

// readFtrackEnv reads the export lines of the ftrack.env file dev writes.
func readFtrackEnv(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("dev wrote no client settings: %v", err)
	}
	var env []string
	for line := range strings.Lines(string(raw)) {
		if kv, ok := strings.CutPrefix(strings.TrimSpace(line), "export "); ok && !strings.HasPrefix(kv, "FTRACK_OPERATOR_METRICS=") {
			env = append(env, kv)
		}
	}
	if len(env) != 3 {
		t.Fatalf("%s has %d settings, want FTRACK_SERVER, FTRACK_API_USER and FTRACK_API_KEY:\n%s", path, len(env), raw)
	}
	return env
}

// Markers around the README's walkthrough; the shell blocks between them are run as written.
const (
	walkthroughBegin = "<!-- walkthrough:begin -->"
	walkthroughEnd   = "<!-- walkthrough:end -->"
)

// walkthroughScript extracts the ```sh blocks between the walkthrough markers of README.md.
func walkthroughScript(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(moduleRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := extractWalkthrough(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return script
}

// extractWalkthrough returns the shell blocks between the walkthrough markers of a Markdown
// document, joined.
func extractWalkthrough(doc string) (string, error) {
	_, rest, ok := strings.Cut(doc, walkthroughBegin)
	if !ok {
		return "", fmt.Errorf("no %s marker", walkthroughBegin)
	}
	body, _, ok := strings.Cut(rest, walkthroughEnd)
	if !ok {
		return "", fmt.Errorf("no %s marker after %s", walkthroughEnd, walkthroughBegin)
	}
	var script strings.Builder
	in := false
	for line := range strings.Lines(body) {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && (trimmed == "```sh" || trimmed == "```bash"):
			in = true
		case in && trimmed == "```":
			in = false
		case in:
			script.WriteString(line)
		}
	}
	if in {
		return "", errors.New("a shell block of the walkthrough is not closed")
	}
	if script.Len() == 0 {
		return "", errors.New("the walkthrough has no ```sh block")
	}
	return script.String(), nil
}

// mirrorCheckout returns a directory that looks like the checkout (links to its top-level
// entries) but whose .dev is stateDir, so that commands written for the checkout reach the dev
// environment under test and never a developer's own.
func mirrorCheckout(t *testing.T, stateDir string) string {
	t.Helper()
	root := moduleRoot(t)
	work := t.TempDir()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case ".dev", ".git":
			continue
		case "testdata":
			// npm refuses a package reached through a symbolic link; copy the few files.
			if err := copyTree(filepath.Join(root, e.Name()), filepath.Join(work, e.Name())); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.Symlink(filepath.Join(root, e.Name()), filepath.Join(work, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(stateDir, filepath.Join(work, ".dev")); err != nil {
		t.Fatal(err)
	}
	return work
}

// copyTree copies the regular files under src to dst, leaving out node_modules.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir() && d.Name() == "node_modules":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, raw, 0o600)
	})
}

func TestExtractWalkthrough(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason  string
		doc     string
		want    string
		wantErr bool
	}{
		"Blocks": {
			reason: "only sh and bash blocks between the markers are taken, in order",
			doc:    "```sh\nmake dev\n```\n" + walkthroughBegin + "\ntext\n```sh\nkubectl get ftrackentities\n```\n```yaml\nkind: X\n```\n```bash\necho done\n```\n" + walkthroughEnd + "\n```sh\nrm -rf /\n```\n",
			want:   "kubectl get ftrackentities\necho done\n",
		},
		"NoMarkers":   {reason: "a README without markers is an error, not an empty walkthrough", doc: "```sh\nls\n```\n", wantErr: true},
		"NoEnd":       {reason: "an unterminated walkthrough is an error", doc: walkthroughBegin + "\n```sh\nls\n```\n", wantErr: true},
		"Unclosed":    {reason: "an unclosed block is an error", doc: walkthroughBegin + "\n```sh\nls\n" + walkthroughEnd, wantErr: true},
		"EmptyBlocks": {reason: "a walkthrough without commands is an error", doc: walkthroughBegin + "\ntext\n" + walkthroughEnd, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := extractWalkthrough(tc.doc)
			if (err != nil) != tc.wantErr {
				t.Fatalf("%s: error = %v, want error %v", tc.reason, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: script differs (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

// TestREADMEHasAWalkthrough keeps the README's walkthrough extractable for TestDevProcess.
func TestREADMEHasAWalkthrough(t *testing.T) {
	t.Parallel()
	script := walkthroughScript(t)
	for _, want := range []string{"kubectl", ".dev/kubeconfig", "ftrackentities"} {
		if !strings.Contains(script, want) {
			t.Errorf("the walkthrough does not use %q:\n%s", want, script)
		}
	}
}

// TestGoClientGuideExampleRuns runs the complete programs of docs/go-client.md (shots, and
// publishing) and compares their output with the output the guide shows.
func TestGoClientGuideExampleRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program")
	}
	t.Parallel()
	for name, markers := range map[string][2]string{"Shots": {"example", "output"}, "Publish": {"publish", "publish-output"}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runGuideExample(t, markers[0], markers[1])
		})
	}
}

// runGuideExample runs the Go program of docs/go-client.md between the markers
// <!-- program:begin/end --> and compares its output with the text between
// <!-- output:begin/end -->.
func runGuideExample(t *testing.T, programMarker, outputMarker string) {
	root := moduleRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "docs", "go-client.md"))
	if err != nil {
		t.Fatal(err)
	}
	program, err := fencedBetween(string(raw), "<!-- "+programMarker+":begin -->", "<!-- "+programMarker+":end -->", "go")
	if err != nil {
		t.Fatal(err)
	}
	want, err := fencedBetween(string(raw), "<!-- "+outputMarker+":begin -->", "<!-- "+outputMarker+":end -->", "text")
	if err != nil {
		t.Fatal(err)
	}
	// Inside the module so that it builds against this checkout's packages, under .dev, which
	// ./... leaves out and git ignores.
	if err := os.MkdirAll(filepath.Join(root, ".dev"), 0o700); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(filepath.Join(root, ".dev"), "go-client-guide-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(program), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", "./.dev/"+filepath.Base(dir))
	cmd.Dir = root
	cmd.Env = cleanEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run of the guide's program: %v\n%s", err, stderr.String())
	}
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("the program's output differs from the guide's (-guide +program):\n%s", diff)
	}
}

// pluginDir builds kubectl-ftrack into a new directory and returns it, for PATH.
func pluginDir(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	build := exec.CommandContext(t.Context(), "go", "build", "-o", filepath.Join(bin, "kubectl-ftrack"), "./cmd/kubectl-ftrack")
	build.Dir = moduleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building kubectl-ftrack: %v\n%s", err, out)
	}
	return bin
}

// readmeAdopt runs the README's "Adopt an existing site" script as written, against a site
// that holds a show nobody manages yet and the cluster of kubeconfig: the export is applied,
// every object becomes Ready, nothing but ownership marks reaches ftrack, and the plan is
// empty.
func readmeAdopt(ctx context.Context, t *testing.T, kubeconfig string) {
	readme, err := os.ReadFile(filepath.Join(moduleRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := fencedBetween(string(readme), "<!-- adopt:begin -->", "<!-- adopt:end -->", "sh")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ftracktest.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	s, err := ftrack.NewSession(ctx, ftrack.WithServerURL(srv.URL), ftrack.WithAPIUser(ftracktest.DefaultUser),
		ftrack.WithAPIKey(ftracktest.DefaultAPIKey), ftrack.WithoutSchemaCache(), ftrack.WithPluginPaths())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	const pid, qid, hid = "00000000-0000-4000-8000-00000000a001", "00000000-0000-4000-8000-00000000a002", "00000000-0000-4000-8000-00000000a003"
	if _, err := s.Do(ctx,
		ftrack.CreateOp("Project", map[string]any{"id": pid, "name": "gullwing", "full_name": "Gullwing", "project_schema_id": builtin.DefaultProjectSchemaID}),
		ftrack.CreateOp("Sequence", map[string]any{"id": qid, "name": "sq010", "parent_id": pid}),
		ftrack.CreateOp("Shot", map[string]any{"id": hid, "name": "sh010", "parent_id": qid, "description": "Harbour at dawn"}),
		ftrack.CreateOp("Task", map[string]any{"name": "comp", "parent_id": hid, "type_id": builtin.CompositingTypeID}),
		ftrack.CreateOp("Metadata", map[string]any{"parent_id": hid, "parent_type": "Shot", "key": "lens", "value": "35mm"}),
	); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(cleanEnv(), "PATH="+pluginDir(t)+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+kubeconfig,
		"FTRACK_SERVER="+srv.URL, "FTRACK_API_USER="+ftracktest.DefaultUser, "FTRACK_API_KEY="+ftracktest.DefaultAPIKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's adoption example failed: %v\nscript:\n%s\noutput:\n%s", err, script, out)
	}
	if !strings.Contains(string(out), "Plan: 0 to create, 0 to update, 0 to delete, 0 invalid.") {
		t.Errorf("the plan of the adopted export is not empty:\n%s", out)
	}
	for _, op := range []string{"update", "delete"} {
		if n := srv.RequestCount(op); n != 0 {
			t.Errorf("adopting the export sent %d %s requests", n, op)
		}
	}
	for _, m := range srv.All("Metadata") {
		if m["key"] != "lens" && m["key"] != v1alpha1.MetadataManagedBy {
			t.Errorf("adopting the export created metadata %v in ftrack; only ownership marks may be created", m["key"])
		}
	}
	// An object is adopted once its parent is: one batch of marks per level of the tree
	// (project and site objects, sequence, shot, task) at most.
	if n := srv.RequestCount("create"); n > 4 {
		t.Errorf("adopting 4 levels of entities and the site objects they use sent %d create requests, want the marks batched", n)
	}
}

// fencedBetween returns the body of the first ```lang block between the begin and end markers
// of a Markdown document.
func fencedBetween(doc, begin, end, lang string) (string, error) {
	_, rest, ok := strings.Cut(doc, begin)
	if !ok {
		return "", fmt.Errorf("no %s marker", begin)
	}
	section, _, ok := strings.Cut(rest, end)
	if !ok {
		return "", fmt.Errorf("no %s marker after %s", end, begin)
	}
	_, body, ok := strings.Cut(section, "```"+lang+"\n")
	if !ok {
		return "", fmt.Errorf("no ```%s block between %s and %s", lang, begin, end)
	}
	body, _, ok = strings.Cut(body, "```")
	if !ok {
		return "", fmt.Errorf("the ```%s block between %s and %s is not closed", lang, begin, end)
	}
	return body, nil
}

// TestArgoCDHealthChecks runs the README's Argo CD health checks the way Argo CD runs them
// (gopher-lua, the object as the global obj, the script's returned table) against objects in
// every state the operator writes.
func TestArgoCDHealthChecks(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(moduleRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block, err := fencedBetween(string(raw), "<!-- argocd-health:begin -->", "<!-- argocd-health:end -->", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal([]byte(block), &cm); err != nil {
		t.Fatalf("the README's argocd-cm data does not parse: %v", err)
	}
	scripts := map[string]string{
		"FtrackEntity":     cm.Data["resource.customizations.health.ftrack-operator.dev_FtrackEntity"],
		"FtrackConnection": cm.Data["resource.customizations.health.ftrack-operator.dev_FtrackConnection"],
	}
	for kind, s := range scripts {
		if s == "" {
			t.Fatalf("the README has no Argo CD health check for %s", kind)
		}
	}
	cond := func(typ, status, reason, message string) map[string]any {
		return map[string]any{"type": typ, "status": status, "reason": reason, "message": message}
	}
	object := func(generation, observed float64, conds ...map[string]any) map[string]any {
		o := map[string]any{"metadata": map[string]any{"name": "sq010", "generation": generation}}
		if conds != nil {
			list := make([]any, len(conds))
			for i, c := range conds {
				list[i] = c
			}
			o["status"] = map[string]any{"observedGeneration": observed, "conditions": list}
		}
		return o
	}
	cases := map[string]struct {
		reason      string
		kind        string
		obj         map[string]any
		wantStatus  string
		wantMessage string
	}{
		"EntityNew": {
			reason: "an object without status waits for the operator",
			kind:   "FtrackEntity", obj: object(1, 0),
			wantStatus: "Progressing", wantMessage: "Waiting for the operator",
		},
		"EntitySynced": {
			reason: "Ready=True for the current generation is Healthy",
			kind:   "FtrackEntity", obj: object(2, 2, cond("Ready", "True", "Synced", "Shot is in sync"), cond("Synced", "True", "Synced", "")),
			wantStatus: "Healthy", wantMessage: "Shot is in sync",
		},
		"EntityStale": {
			reason: "a Ready status of an older generation is still Progressing",
			kind:   "FtrackEntity", obj: object(3, 2, cond("Ready", "True", "Synced", "")),
			wantStatus: "Progressing", wantMessage: "Waiting for the operator",
		},
		"EntityWaiting": {
			reason: "a reference that is not Ready yet is Progressing with the reason",
			kind:   "FtrackEntity", obj: object(1, 1, cond("Ready", "False", "ReferenceNotReady", "waiting for sq010"), cond("Reconciling", "True", "ReferenceNotReady", "waiting for sq010")),
			wantStatus: "Progressing", wantMessage: "ReferenceNotReady: waiting for sq010",
		},
		"EntityStalled": {
			reason: "a terminal spec error is Degraded, whatever the order of the conditions",
			kind:   "FtrackEntity", obj: object(1, 1, cond("Ready", "False", "UnknownEntityType", "entityType Shto is unknown"), cond("Stalled", "True", "UnknownEntityType", "entityType Shto is unknown")),
			wantStatus: "Degraded", wantMessage: "UnknownEntityType: entityType Shto is unknown",
		},
		"ConnectionNew": {
			reason: "a connection without status is connecting",
			kind:   "FtrackConnection", obj: object(1, 0),
			wantStatus: "Progressing", wantMessage: "Connecting",
		},
		"ConnectionReady": {
			reason: "a Ready connection is Healthy",
			kind:   "FtrackConnection", obj: object(1, 1, cond("Ready", "True", "Connected", "Connected as pipeline-bot")),
			wantStatus: "Healthy", wantMessage: "Connected as pipeline-bot",
		},
		"ConnectionRefused": {
			reason: "refused credentials are Degraded with the reason",
			kind:   "FtrackConnection", obj: object(1, 1, cond("Ready", "False", "InvalidCredentials", "the server refused the API key")),
			wantStatus: "Degraded", wantMessage: "InvalidCredentials: the server refused the API key",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			status, message, err := runHealthCheck(scripts[tc.kind], tc.obj)
			if err != nil {
				t.Fatalf("%s: %v", tc.reason, err)
			}
			if diff := cmp.Diff([2]string{tc.wantStatus, tc.wantMessage}, [2]string{status, message}); diff != "" {
				t.Errorf("%s: health differs (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

// runHealthCheck runs an Argo CD health script with obj as the global obj and returns the
// status and message of the table it returns.
func runHealthCheck(script string, obj map[string]any) (status, message string, err error) {
	l := lua.NewState()
	defer l.Close()
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return "", "", err
	}
	hs, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", fmt.Errorf("the script returned %s, want a table", l.Get(-1).Type())
	}
	return lua.LVAsString(hs.RawGetString("status")), lua.LVAsString(hs.RawGetString("message")), nil
}

// toLua converts a JSON-shaped Go value to a Lua value, as Argo CD passes objects to health
// scripts: objects and arrays become tables, arrays 1-based.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := l.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(l, e))
		}
		return t
	case []any:
		t := l.NewTable()
		for _, e := range v {
			t.Append(toLua(l, e))
		}
		return t
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	default:
		return lua.LNil
	}
}

// TestDevAgainstAServer runs dev --until-ready against a server of the test's own instead of
// its emulator, as a studio would against its ftrack site: the samples end up on that server,
// and the API key from --secret appears nowhere in dev's output.
func TestDevAgainstAServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	const user, key = "pipeline-bot", "s3cr3t-key-of-the-studio"
	site, err := ftracktest.NewServer(ftracktest.WithUser(user, key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = site.Close() })
	dir := t.TempDir()
	secret := filepath.Join(dir, "pipeline-bot.env")
	if err := os.WriteFile(secret, []byte("FTRACK_API_USER="+user+"\nFTRACK_API_KEY="+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, operatorBinary(t), "dev", "--server", site.URL, "--secret", secret,
		"--state-dir", filepath.Join(dir, ".dev"), "--until-ready", "--timeout", "4m")
	cmd.Dir = moduleRoot(t)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dev --server --until-ready: %v\n%s", err, out)
	}
	if strings.Contains(string(out), key) {
		t.Errorf("dev printed the API key:\n%s", out)
	}
	if log, err := os.ReadFile(filepath.Join(dir, ".dev", "manager.log")); err != nil || strings.Contains(string(log), key) {
		t.Errorf("the manager log is unreadable (%v) or holds the API key", err)
	}
	var projects []string
	for _, p := range site.All("Project") {
		projects = append(projects, fmt.Sprint(p["name"]))
	}
	if diff := cmp.Diff([]string{"gullwing"}, projects); diff != "" {
		t.Errorf("projects on the server differ (-want +got):\n%s", diff)
	}
	if got := site.Count("Shot"); got != 3 {
		t.Errorf("the server holds %d shots, want 3", got)
	}
}

// TestREADMEPlanInCI runs the README's CI example as written, with kubectl-ftrack built and
// on the PATH and the job's environment pointing at an emulator: the plan of the samples
// (all new there) is written as Markdown and the job passes.
func TestREADMEPlanInCI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the kubectl plugin")
	}
	for _, tool := range []string{"kubectl", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the CI example needs %s, which is not on PATH", tool)
		}
	}
	root := moduleRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := fencedBetween(string(readme), "<!-- plan-ci:begin -->", "<!-- plan-ci:end -->", "sh")
	if err != nil {
		t.Fatal(err)
	}
	bin := pluginDir(t)
	srv, err := ftracktest.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	work := t.TempDir()
	if err := copyTree(filepath.Join(root, "config"), filepath.Join(work, "config")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = work
	cmd.Env = append(cleanEnv(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"FTRACK_SERVER="+srv.URL, "FTRACK_API_USER="+ftracktest.DefaultUser, "FTRACK_API_KEY="+ftracktest.DefaultAPIKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's CI example failed: %v\n%s", err, out)
	}
	md, err := os.ReadFile(filepath.Join(work, "plan.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### ftrack plan", "| + create | Project gullwing |", "to create, 0 to update, 0 to delete, 0 invalid"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("plan.md lacks %q:\n%s", want, md)
		}
	}
	if n := srv.RequestCount("create") + srv.RequestCount("update") + srv.RequestCount("delete"); n != 0 {
		t.Errorf("the plan sent %d writes to ftrack", n)
	}
}
