package cmd

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRunStandalone(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	stdoutR, stdoutW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- RunStandalone(ctx, []string{"--listen", "127.0.0.1:0", "--api-user", "ops", "--api-key", "k3y", "--latency", "1ms"}, stdoutW, io.Discard)
		stdoutW.Close()
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdoutR)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdoutR)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(30 * time.Second):
		t.Fatal("no listening line within 30s")
	}
	const prefix = "ftrack emulator listening on "
	if !strings.HasPrefix(line, prefix+"http://127.0.0.1:") {
		t.Fatalf("first line = %q, want %q…", line, prefix)
	}
	url := strings.TrimPrefix(line, prefix)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/api", strings.NewReader(`[{"action":"query_server_information"}]`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("ftrack-user", "ops")
	req.Header.Set("ftrack-api-key", "k3y")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"version"`) {
		t.Errorf("query_server_information: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(line, "k3y") {
		t.Error("the API key was printed")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunStandalone returned %v after cancel, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("RunStandalone did not stop within 30s of cancel")
	}
}

func TestRunStandaloneFlagErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		args   []string
	}{
		"UnknownFlag":     {"unknown flags are refused", []string{"--nope"}},
		"NegativeLatency": {"negative latency is refused", []string{"--latency", "-1s"}},
		"MissingSchema":   {"a missing schema file is an error", []string{"--schema", "/nonexistent/schema.json"}},
		"ExtraArgs":       {"positional arguments are refused", []string{"extra"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := RunStandalone(t.Context(), tc.args, io.Discard, io.Discard); err == nil {
				t.Errorf("%s: RunStandalone(%q) = nil, want an error", tc.reason, tc.args)
			}
		})
	}
}
