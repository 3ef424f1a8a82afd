package event_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ftrack-operator/ftrack-operator/internal/jsclient"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// TestJavaScriptInterop runs testdata/js/interop.mjs (at the module root) with the
// official JavaScript client (@ftrack/api, pinned in its package-lock.json)
// against the emulator: an event published by the JS client reaches a Go
// subscriber whose reply reaches the JS publisher, and the other way round.
// It installs the client with npm ci when node_modules is missing and is
// skipped only when node is not on PATH.
func TestJavaScriptInterop(t *testing.T) {
	const user, key = "interop", "interop-api-key"
	srv, err := ftracktest.NewServer(ftracktest.WithUser(user, key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })

	h, err := event.NewHub(srv.URL, user, key, event.WithBackoff(10*time.Millisecond, 100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	fromJS := make(chan event.Event, 100)
	_, err = h.Subscribe("topic=interop.from-js", func(_ context.Context, d *event.Delivery) (any, error) {
		fromJS <- d.Event
		x, _ := d.Event.Data["x"].(float64)
		return map[string]any{"answer": x * 2, "from": "go"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := jsclient.Command(ctx, t, "interop.mjs")
	cmd.Env = append(os.Environ(), "FTRACK_SERVER="+srv.URL, "FTRACK_API_USER="+user, "FTRACK_API_KEY="+key)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	waitLine := func(want string) {
		t.Helper()
		for line := range lines {
			t.Logf("js: %s", line)
			if line == want {
				return
			}
		}
		_ = cmd.Wait()
		t.Fatalf("interop.mjs ended before printing %s:\n%s", want, stderr.String())
	}
	waitLine("READY")

	// Go asks, JS answers. The JS subscription may still be on its way to
	// the server, so ask until a reply arrives.
	var reply event.Event
	for i := 0; ; i++ {
		askCtx, askCancel := context.WithTimeout(ctx, 500*time.Millisecond)
		reply, err = h.PublishAndWaitForReply(askCtx, event.NewEvent("interop.from-go", map[string]any{"x": 5}))
		askCancel()
		if err == nil {
			break
		}
		if i > 60 {
			t.Fatalf("no reply from the JavaScript client: %v\n%s", err, stderr.String())
		}
	}
	if reply.Data["answer"] != float64(10) || reply.Data["from"] != "js" {
		t.Errorf("reply from JS: %v", reply.Data)
	}
	if reply.Target != "id="+h.ID() || reply.Source["applicationId"] != "interop.js" {
		t.Errorf("reply from JS has target %q and source %v, want id=<hub id> from interop.js", reply.Target, reply.Source)
	}

	waitLine("GOT-GO-REPLY")
	waitLine("DONE")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("interop.mjs: %v\n%s", err, stderr.String())
	}
	select {
	case ev := <-fromJS:
		if ev.Source["applicationId"] != "interop.js" {
			t.Errorf("event from JS has source %v", ev.Source)
		}
	default:
		t.Error("the Go subscriber never saw the JS event")
	}
}
