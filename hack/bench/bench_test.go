package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestShowObjects(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason string
		n      int
		want   map[string]int
	}{
		"OneSequence": {reason: "a project, a sequence and its first shot with a task", n: 4, want: map[string]int{"Project": 1, "Sequence": 1, "Shot": 1, "Task": 1}},
		"Thousand": {reason: "four full sequences (1 + 40 shots + 160 tasks each), then a fifth cut short after 39 shots", n: 1000,
			want: map[string]int{"Project": 1, "Sequence": 5, "Shot": 199, "Task": 795}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			objs := showObjects("ns", "show", tc.n)
			got := map[string]int{}
			seen := map[string]bool{}
			for _, o := range objs {
				got[o.Spec.EntityType]++
				if seen[o.Name] {
					t.Errorf("%s: %s appears twice", tc.reason, o.Name)
				}
				if p, ok := o.Spec.References["parent"]; ok && !seen[p.Name] {
					t.Errorf("%s: %s comes before its parent %s", tc.reason, o.Name, p.Name)
				}
				seen[o.Name] = true
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: objects by type (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestPercentiles(t *testing.T) {
	t.Parallel()
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := map[string]struct {
		reason string
		in     []time.Duration
		want   Percentiles
	}{
		"Empty":   {reason: "nothing measured is all zeros", in: nil, want: Percentiles{}},
		"One":     {reason: "one value is every percentile", in: ms(7), want: Percentiles{N: 1, P50ms: 7, P99ms: 7, MaxMs: 7}},
		"Hundred": {reason: "1..100 ms, unsorted", in: append(ms(100, 1), ms(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99)...), want: Percentiles{N: 100, P50ms: 50, P99ms: 99, MaxMs: 100}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, percentiles(tc.in)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason  string
		args    []string
		wantErr bool
		sizes   []int
	}{
		"Defaults":        {reason: "1,000 and 10,000 objects", sizes: []int{1000, 10000}},
		"SortedUnique":    {reason: "sizes are sorted and deduplicated", args: []string{"--sizes", "500,100,500"}, sizes: []int{100, 500}},
		"UnknownScenario": {reason: "a typo is refused", args: []string{"--scenarios", "bulk,idel"}, wantErr: true},
		"BadSize":         {reason: "a size must be a number", args: []string{"--sizes", "1k"}, wantErr: true},
		"PlanWithoutBulk": {reason: "plan measures the bulk show", args: []string{"--scenarios", "plan"}, wantErr: true},
		"ShortResync":     {reason: "the operator's minimum resync is 1m", args: []string{"--poll-resync", "30s"}, wantErr: true},
		"Argument":        {reason: "no positional arguments", args: []string{"extra"}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o, err := parseFlags(tc.args, io.Discard)
			if (err != nil) != tc.wantErr {
				t.Fatalf("%s: err = %v, want error %v", tc.reason, err, tc.wantErr)
			}
			if err == nil {
				if diff := cmp.Diff(tc.sizes, o.Sizes); diff != "" {
					t.Errorf("%s: sizes (-want +got):\n%s", tc.reason, diff)
				}
			}
		})
	}
}

func TestPrintTableBatchingOff(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason string
		off    *BulkBaseline
		want   []string
	}{
		"Measured": {
			reason: "the baseline's requests and both ratios are printed",
			off:    &BulkBaseline{OperatorSeconds: 80, Requests: 2000, RequestsPerEntity: 2, TimeRatio: 0.5, RequestRatio: 0.1},
			want:   []string{"batching off: 2000 (2.0000 per entity)", "time 0.50×, requests 0.100×", "batching off: all Ready after 80.0 s"},
		},
		"NotMeasured": {
			reason: "without the baseline the table says so",
			want:   []string{"batching off: not measured"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var sb strings.Builder
			printTable(&sb, &results{Bulk: []BulkResult{{N: 1000, FloorSeconds: 10, OperatorSeconds: 40, Ratio: 4, Requests: 200, RequestsPerEntity: 0.2, BatchingOff: tc.off}}})
			for _, w := range tc.want {
				if !strings.Contains(sb.String(), w) {
					t.Errorf("%s: the table lacks %q:\n%s", tc.reason, w, sb.String())
				}
			}
			if tc.off == nil && strings.Contains(sb.String(), "batched / batching off") {
				t.Errorf("%s: a ratio line without a baseline:\n%s", tc.reason, sb.String())
			}
		})
	}
}
