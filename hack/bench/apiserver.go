package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// apiCounts are the kube-apiserver's requests by verb and resource ("PATCH
// ftrackentities/status"), read from its apiserver_request_total metric.
type apiCounts map[string]float64

// writeVerbs are the verbs that change what the API server stores.
var writeVerbs = map[string]bool{"POST": true, "CREATE": true, "PUT": true, "UPDATE": true, "PATCH": true, "APPLY": true, "DELETE": true}

// readAPICounts reads the API server's request counters.
func readAPICounts(ctx context.Context, cfg *rest.Config) (apiCounts, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the API server's metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading the API server's metrics: %s", resp.Status)
	}
	out := apiCounts{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < 0 {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			continue
		}
		labels := parseLabels(line[len("apiserver_request_total{"):end])
		res := labels["resource"]
		if res == "" {
			continue
		}
		if sub := labels["subresource"]; sub != "" {
			res += "/" + sub
		}
		out[labels["verb"]+" "+res] += v
	}
	return out, sc.Err()
}

// parseLabels parses the labels of a Prometheus text sample (values without escapes, as
// the API server's are).
func parseLabels(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		out[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return out
}

// writesSince returns the write requests counted after base, without the zero ones.
func (c apiCounts) writesSince(base apiCounts) apiCounts {
	out := apiCounts{}
	for k, v := range c {
		verb, _, _ := strings.Cut(k, " ")
		if !writeVerbs[verb] {
			continue
		}
		if d := v - base[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// total is the sum of the counts.
func (c apiCounts) total() float64 {
	var t float64
	for _, v := range c {
		t += v
	}
	return t
}

// String lists the counts, largest first.
func (c apiCounts) String() string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if c[keys[i]] != c[keys[j]] {
			return c[keys[i]] > c[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %.0f", k, c[k])
	}
	return strings.Join(parts, ", ")
}

// profileAPIServer writes a CPU profile of kube-apiserver over the next d to path.
func profileAPIServer(ctx context.Context, cfg *rest.Config, d time.Duration, path string) error {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", strings.TrimSuffix(cfg.Host, "/"), int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("profiling kube-apiserver: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profiling kube-apiserver: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing the kube-apiserver profile: %w", err)
	}
	return f.Close()
}
