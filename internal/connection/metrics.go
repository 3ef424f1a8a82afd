package connection

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
)

// Metric label values for requests whose batch actions are not one kind.
const (
	// ActionBatch labels an /api request whose operations have different actions.
	ActionBatch = "batch"
	// ActionEventHub labels the event hub's HTTP requests (handshake and WebSocket upgrade).
	ActionEventHub = "event_hub"
	// StatusError labels a request that got no HTTP answer.
	StatusError = "error"
)

var (
	// ftrackRequests counts the HTTP requests sent to ftrack servers.
	ftrackRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "ftrack_operator",
		Name:      "ftrack_requests_total",
		Help:      "HTTP requests sent to ftrack servers, by connection, action and HTTP status. An /api batch is labelled with its operations' action when they share one, else \"batch\"; event hub requests are labelled \"event_hub\".",
	}, []string{"connection", "action", "status"})

	// ftrackRequestDuration observes the latency of those requests, rate-limit wait excluded.
	ftrackRequestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "ftrack_operator",
		Name:      "ftrack_request_duration_seconds",
		Help:      "Latency of HTTP requests to ftrack servers until the answer's headers arrived, by connection and action; time spent waiting for the request budget is not included.",
		Buckets:   []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"connection", "action"})

	// ftrackRateLimitWait observes how long requests waited for the connection's budget.
	ftrackRateLimitWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "ftrack_operator",
		Name:      "ftrack_rate_limit_wait_seconds",
		Help:      "Time requests waited for their connection's request budget.",
		Buckets:   []float64{0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30},
	}, []string{"connection"})

	// eventHubConnected is 1 while a connection's event hub socket is up.
	eventHubConnected = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "ftrack_operator",
		Name:      "event_hub_connected",
		Help:      "1 while the connection's event hub socket is up, else 0.",
	}, []string{"connection"})

	// eventsReceived counts event hub events by connection and outcome.
	eventsReceived = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "ftrack_operator",
		Name:      "events_received_total",
		Help:      "ftrack.update events received from the event hub, by connection and outcome: \"enqueued\" (reconciles triggered), \"echo\" (the operator's own write), \"unmanaged\" (no FtrackEntity holds the ids).",
	}, []string{"connection", "outcome"})

	// DriftDetected counts changes made in ftrack outside the operator, by connection and
	// what was done: "corrected" or "reported".
	DriftDetected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "ftrack_operator",
		Name:      "drift_detected_total",
		Help:      "Differences between ftrack and an FtrackEntity's spec made outside the operator, by connection and what was done: corrected or reported.",
	}, []string{"connection", "action"})

	// batchOperations observes how many operations each coalesced /api batch carried.
	batchOperations = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "ftrack_operator",
		Name:      "batch_operations",
		Help:      "Operations per /api batch sent by a connection's commit coalescer.",
		Buckets:   []float64{1, 2, 5, 10, 20, 50, 100, 250},
	}, []string{"connection"})

	// eventLag observes how long an event took from its arrival to its reconcile triggers.
	eventLag = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "ftrack_operator",
		Name:      "event_lag_seconds",
		Help:      "Time from an event's arrival at the operator's event hub socket (or from its sent time, when the server gives one) until its reconcile triggers were queued; it grows when reconciles cannot keep up.",
		Buckets:   []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120},
	}, []string{"connection"})
)

func init() {
	metrics.Registry.MustRegister(ftrackRequests, ftrackRequestDuration, ftrackRateLimitWait,
		eventHubConnected, eventsReceived, eventLag, DriftDetected, batchOperations)
}

// ForgetMetrics removes the series of a connection that is gone.
func ForgetMetrics(connection string) {
	l := prometheus.Labels{"connection": connection}
	ftrackRequests.DeletePartialMatch(l)
	ftrackRequestDuration.DeletePartialMatch(l)
	ftrackRateLimitWait.DeletePartialMatch(l)
	eventHubConnected.DeletePartialMatch(l)
	eventsReceived.DeletePartialMatch(l)
	eventLag.DeletePartialMatch(l)
	DriftDetected.DeletePartialMatch(l)
	batchOperations.DeletePartialMatch(l)
}

// budgetTransport is the RoundTripper below a pooled session's authentication: every HTTP
// request of the session, the event hub's included, first waits for the connection's request
// budget, then is counted and timed. It sees the requests after the session added the
// credentials headers and never records a header.
//
// A 429 answer holds the whole connection back: no request of the session, whichever
// reconcile or the event hub sends it, leaves before the server's Retry-After hint has passed.
type budgetTransport struct {
	connection string
	limiter    *rate.Limiter
	base       http.RoundTripper
	// holdUntil is the Unix time in nanoseconds before which no request may leave.
	holdUntil atomic.Int64
	// unauthorized, when set, is called when the server refuses the credentials of an /api
	// request (401): whichever reconcile sent it, the connection stops being Ready at once.
	unauthorized atomic.Pointer[func()]
}

// hold makes requests wait until at least until.
func (t *budgetTransport) hold(until time.Time) {
	for {
		cur := t.holdUntil.Load()
		if until.UnixNano() <= cur || t.holdUntil.CompareAndSwap(cur, until.UnixNano()) {
			return
		}
	}
}

// waitHold waits for a Retry-After hold to pass, or for ctx.
func (t *budgetTransport) waitHold(ctx context.Context) error {
	for {
		d := time.Until(time.Unix(0, t.holdUntil.Load()))
		if d <= 0 {
			return nil
		}
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// RoundTrip implements http.RoundTripper.
func (t *budgetTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	if err := t.waitHold(req.Context()); err != nil {
		ftrackRequests.WithLabelValues(t.connection, requestAction(req), StatusError).Inc()
		return nil, err
	}
	if err := t.limiter.Wait(req.Context()); err != nil {
		ftrackRequests.WithLabelValues(t.connection, requestAction(req), StatusError).Inc()
		return nil, err
	}
	// A 429 may have arrived while this request waited for the budget.
	if err := t.waitHold(req.Context()); err != nil {
		ftrackRequests.WithLabelValues(t.connection, requestAction(req), StatusError).Inc()
		return nil, err
	}
	waited := time.Since(start)
	ftrackRateLimitWait.WithLabelValues(t.connection).Observe(waited.Seconds())
	action := requestAction(req)
	sent := time.Now()
	resp, err := t.base.RoundTrip(req)
	ftrackRequestDuration.WithLabelValues(t.connection, action).Observe(time.Since(sent).Seconds())
	status := StatusError
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			if d := ftrack.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); d > 0 {
				t.hold(time.Now().Add(d))
			}
		case http.StatusUnauthorized:
			if fn := t.unauthorized.Load(); fn != nil && action != ActionEventHub {
				(*fn)()
			}
		}
	}
	ftrackRequests.WithLabelValues(t.connection, action, status).Inc()
	return resp, err
}

// maxActionScan bounds how much of a request body is decoded to find its actions.
const maxActionScan = 1 << 20

// requestAction returns the metric label of a request: the action shared by every operation
// of an /api batch, "batch" when they differ (or the body cannot be read without consuming
// it), "event_hub" for anything that is not /api.
func requestAction(req *http.Request) string {
	if !strings.HasSuffix(req.URL.Path, "/api") {
		return ActionEventHub
	}
	if req.GetBody == nil || req.ContentLength > maxActionScan {
		return ActionBatch
	}
	body, err := req.GetBody()
	if err != nil {
		return ActionBatch
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, maxActionScan))
	if err != nil {
		return ActionBatch
	}
	var ops []struct {
		Action string `json:"action"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&ops); err != nil || len(ops) == 0 {
		return ActionBatch
	}
	action := ops[0].Action
	for _, op := range ops[1:] {
		if op.Action != action {
			return ActionBatch
		}
	}
	if !knownAction(action) {
		return ActionBatch
	}
	return action
}

// knownAction keeps the action label's values bounded.
func knownAction(a string) bool {
	switch a {
	case "query", "create", "update", "delete", "query_server_information", "query_schemas",
		"reset_remote", "configure_totp", "get_upload_metadata", "complete_multipart_upload",
		"permissions", "generate_signed_url", "encode_media", "delayed_job", "get_widget_url",
		"send_user_invite", "send_review_session_invite", "call_action":
		return true
	}
	return false
}
