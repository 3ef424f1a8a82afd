package querylang

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPager(t *testing.T) {
	t.Parallel()
	type page struct {
		rows int
		next *int
	}
	cases := map[string]struct {
		reason   string
		expr     string
		pageSize int
		answers  []page   // the server's answers, in order
		want     []string // the queries asked
		wantKeep []int
	}{
		"single page": {reason: "null next offset ends paging",
			expr: `Task where a is 1`, pageSize: 0,
			answers: []page{{rows: 3}},
			want:    []string{`Task where a is 1 offset 0 limit 500`}, wantKeep: []int{3}},
		"follows next": {reason: "next offsets are followed",
			expr: `select id from Task`, pageSize: 2,
			answers: []page{{2, ip(2)}, {2, ip(4)}, {1, nil}},
			want: []string{`select id from Task offset 0 limit 2`, `select id from Task offset 2 limit 2`,
				`select id from Task offset 4 limit 2`},
			wantKeep: []int{2, 2, 1}},
		"embedded limit smaller": {reason: "the page size shrinks to the embedded limit, which is taken out",
			expr: `Task limit 3 offset 10`, pageSize: 500,
			answers: []page{{3, ip(13)}},
			want:    []string{`Task offset 10 limit 3`}, wantKeep: []int{3}},
		"limit reached mid page": {reason: "rows past the original limit are dropped",
			expr: `Task limit 5`, pageSize: 2,
			answers:  []page{{2, ip(2)}, {2, ip(4)}, {2, ip(6)}},
			want:     []string{`Task offset 0 limit 2`, `Task offset 2 limit 2`, `Task offset 4 limit 2`},
			wantKeep: []int{2, 2, 1}},
		"limit 0": {reason: "limit 0 asks once for nothing",
			expr: `User where username is jenkins limit 0`, pageSize: 500,
			answers: []page{{0, nil}},
			want:    []string{`User where username is jenkins offset 0 limit 0`}, wantKeep: []int{0}},
		"stuck server": {reason: "a next offset that does not advance stops paging",
			expr: `Task`, pageSize: 1,
			answers: []page{{1, ip(1)}, {1, ip(1)}},
			want:    []string{`Task offset 0 limit 1`, `Task offset 1 limit 1`}, wantKeep: []int{1, 1}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			q := mustParse(t, tc.expr)
			before := q.String()
			p := NewPager(q, tc.pageSize)
			var asked []string
			var kept []int
			for i := 0; i < len(tc.answers)+1; i++ {
				next, ok := p.Next()
				if !ok {
					break
				}
				asked = append(asked, next.String())
				if i >= len(tc.answers) {
					t.Fatalf("%s: pager asked for a page after the last answer", tc.reason)
				}
				kept = append(kept, p.Record(tc.answers[i].rows, tc.answers[i].next))
			}
			if diff := cmp.Diff(tc.want, asked); diff != "" {
				t.Errorf("%s: queries (-want +got):\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantKeep, kept); diff != "" {
				t.Errorf("%s: kept rows (-want +got):\n%s", tc.reason, diff)
			}
			total := 0
			for _, k := range kept {
				total += k
			}
			if p.Received() != total {
				t.Errorf("Received() = %d, want %d", p.Received(), total)
			}
			if q.String() != before {
				t.Errorf("NewPager changed the query: %q became %q", before, q.String())
			}
		})
	}
}
