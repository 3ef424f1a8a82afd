package connection

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestRequestAction(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason string
		url    string
		body   string
		want   string
	}{
		"OneAction":   {reason: "a batch of one action is labelled with it", url: "http://h/api", body: `[{"action":"query","expression":"Task"}]`, want: "query"},
		"SameActions": {reason: "a batch of one kind of action is labelled with it", url: "http://h/api", body: `[{"action":"create"},{"action":"create"}]`, want: "create"},
		"Mixed":       {reason: "a mixed batch is labelled batch", url: "http://h/api", body: `[{"action":"create"},{"action":"update"}]`, want: ActionBatch},
		"Unknown":     {reason: "unknown actions do not become label values", url: "http://h/api", body: `[{"action":"x-secret"}]`, want: ActionBatch},
		"Empty":       {reason: "an empty batch is labelled batch", url: "http://h/api", body: `[]`, want: ActionBatch},
		"NotJSON":     {reason: "an unreadable body is labelled batch", url: "http://h/api", body: `{`, want: ActionBatch},
		"ServerPath":  {reason: "a server under a path prefix", url: "http://h/ftrack/api", body: `[{"action":"delete"}]`, want: "delete"},
		"Hub":         {reason: "anything but /api is the event hub", url: "http://h/socket.io/1/", want: ActionEventHub},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodPost, tc.url, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if got := requestAction(req); got != tc.want {
				t.Errorf("%s: requestAction = %q, want %q", tc.reason, got, tc.want)
			}
			// The body the transport sends is untouched.
			if req.Body != nil {
				data, _ := io.ReadAll(req.Body)
				if !bytes.Equal(data, []byte(tc.body)) {
					t.Errorf("the request body changed to %q", data)
				}
			}
		})
	}
}

// counterValue reads a counter.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}
