package dev

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/internal/manager"
	"github.com/ftrack-operator/ftrack-operator/internal/testenv"
)

// binDir holds the ftrack-operator binary built for the process tests; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	// The tests' own clients log nothing; dev replaces this with its manager log.
	ctrl.SetLogger(logr.Discard())
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// operatorBinary builds the ftrack-operator binary once per test run.
func operatorBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := testenv.ModuleRoot()
		if err != nil {
			buildErr = err
			return
		}
		if binDir, err = os.MkdirTemp("", "ftrack-operator-test-"); err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(binDir, "ftrack-operator")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// moduleRoot returns the module root or fails the test.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// cleanEnv is the test's environment without the variables that would send dev to a real
// ftrack server or kubectl to another cluster.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "FTRACK_") || strings.HasPrefix(kv, "KUBECONFIG=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// devProcess is 'ftrack-operator dev' running as a child process of the test.
type devProcess struct {
	cmd      *exec.Cmd
	stateDir string
	url      string
	output   *testenv.Buffer
	done     chan error
}

// startDevProcess starts the dev command of bin with the emulator on a free port and its state
// under a temporary .dev directory, and waits until it reports that everything is up.
func startDevProcess(t *testing.T, bin string) *devProcess {
	t.Helper()
	p := &devProcess{stateDir: filepath.Join(t.TempDir(), ".dev"), output: &testenv.Buffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, "dev", "--listen", "127.0.0.1:0", "--state-dir", p.stateDir)
	p.cmd.Dir = moduleRoot(t)
	p.cmd.Env = cleanEnv()
	p.cmd.Stderr = p.output
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	up := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		var url string
		for sc.Scan() {
			line := sc.Text()
			_, _ = fmt.Fprintln(p.output, line)
			if u, ok := strings.CutPrefix(strings.TrimSpace(line), "ftrack emulator"); ok {
				url = strings.TrimSpace(u)
			}
			if strings.HasPrefix(line, "Press Ctrl-C") {
				up <- url
			}
		}
		close(up)
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			if err := <-p.done; err != nil {
				t.Logf("dev stopped: %v", err)
			}
		}
		if t.Failed() {
			t.Logf("dev output:\n%s", p.output)
		}
	})
	select {
	case url, ok := <-up:
		if !ok || url == "" {
			t.Fatalf("dev exited or printed no emulator URL before it was up:\n%s", p.output)
		}
		p.url = url
	case <-time.After(15 * time.Minute): // a cold cache builds the control plane first
		t.Fatalf("dev was not up within 15 minutes:\n%s", p.output)
	}
	return p
}

// kubeClient returns a client reading the kubeconfig dev wrote.
func (p *devProcess) kubeClient(t *testing.T) client.Client {
	t.Helper()
	return kubeClientFrom(t, filepath.Join(p.stateDir, "kubeconfig"))
}

func kubeClientFrom(t *testing.T, kubeconfig string) client.Client {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatalf("reading the kubeconfig dev wrote: %v", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// childrenOf lists the pids whose parent is pid, with their command names.
func childrenOf(t *testing.T, pid int) map[int]string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to find child processes: %v", err)
	}
	kids := map[int]string{}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, comm, state, ok := procStat(child)
		if ok && ppid == pid && state != "Z" {
			kids[child] = comm
		}
	}
	return kids
}

// procStat reads the parent pid, command name and state of pid from /proc.
func procStat(pid int) (ppid int, comm, state string, ok bool) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, "", "", false
	}
	s := string(raw)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return 0, "", "", false
	}
	fields := strings.Fields(s[closing+1:])
	if len(fields) < 2 {
		return 0, "", "", false
	}
	ppid, err = strconv.Atoi(fields[1])
	return ppid, s[open+1 : closing], fields[0], err == nil
}

// alive reports whether pid is a process that has not exited (zombies count as exited).
func alive(pid int) bool {
	_, _, state, ok := procStat(pid)
	return ok && state != "Z"
}

// waitGone polls until none of pids is alive, for at most timeout; it returns the survivors.
func waitGone(pids map[int]string, timeout time.Duration) map[int]string {
	deadline := time.Now().Add(timeout)
	for {
		left := map[int]string{}
		for pid, comm := range pids {
			if alive(pid) {
				left[pid] = comm
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(100 * time.Millisecond) // polling /proc; nothing to wait on
	}
}

// errEntityReconcilerMissing says that no FtrackEntity reconciler wrote any status.
var errEntityReconcilerMissing = errors.New("no FtrackEntity has any condition although the connection is Ready: the FtrackEntity reconciler is not registered in manager.go yet")

// waitSamplesReady waits until every sample is Ready. It returns errEntityReconcilerMissing
// when, a minute after the connection became Ready, no FtrackEntity has a condition at all.
func waitSamplesReady(ctx context.Context, k8s client.Client, timeout time.Duration) error {
	objs, err := renderSamples(filepath.Join(mustRoot(), "config", "samples"))
	if err != nil {
		return err
	}
	progress := newDevProgress(k8s, trackedObjects(objs), io.Discard)
	deadline := time.Now().Add(timeout)
	var connReadySince time.Time
	for {
		state, err := progress.poll(ctx, nil)
		if err == nil && state.allReady() {
			return nil
		}
		conn, entities := state.byKind["FtrackConnection"], state.byKind["FtrackEntity"]
		if conn[0] == conn[1] && connReadySince.IsZero() {
			connReadySince = time.Now()
		}
		if !connReadySince.IsZero() && time.Since(connReadySince) > time.Minute && entities[0] == 0 && noEntityCondition(state) {
			return errEntityReconcilerMissing
		}
		if time.Now().After(deadline) {
			return &notReadyError{timeout: timeout, notReady: state.notReady}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(devProgressInterval):
		}
	}
}

// noEntityCondition reports whether no FtrackEntity in s has a Ready condition.
func noEntityCondition(s devState) bool {
	for _, r := range s.notReady {
		if r.obj.kind == "FtrackEntity" && (r.reason != "" || r.message != "") {
			return false
		}
	}
	return true
}

func mustRoot() string {
	root, err := testenv.ModuleRoot()
	if err != nil {
		panic(err)
	}
	return root
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
		timer := time.NewTimer(200 * time.Millisecond)
		<-timer.C
	}
	t.Fatalf("%s: not reached within %s: %v", what, timeout, err)
}
