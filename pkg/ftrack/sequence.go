package ftrack

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// FileSequence is a numbered file sequence written as a pattern, the form CreateComponent
// takes (the clique notation of the Python client):
//
//	/path/plate.%04d.exr [1001-1100]
//	/path/plate.%d.exr [1-5, 7, 10-20]
//
// Head and Tail surround the index; Padding is the index's width (0: not padded).
type FileSequence struct {
	Head, Tail string
	Padding    int
	Indexes    []int
}

// maxSequenceMembers bounds the members a pattern may name: a typo such as [1-10000000]
// must not create millions of components.
const maxSequenceMembers = 100000

var sequencePattern = regexp.MustCompile(`^(.*)%(0(\d+))?d(.*) \[([^\]]*)\]$`)

// ErrNotASequence is returned by ParseFileSequence for a path that is not a sequence
// pattern (a single file).
var ErrNotASequence = errors.New("ftrack: not a file sequence pattern")

// ParseFileSequence parses pattern ("{head}%0Nd{tail} [{ranges}]"). A path without the
// pattern's form gives ErrNotASequence; a pattern with bad ranges gives an error that says
// what is wrong.
func ParseFileSequence(pattern string) (FileSequence, error) {
	m := sequencePattern.FindStringSubmatch(pattern)
	if m == nil {
		return FileSequence{}, fmt.Errorf("%w: %q", ErrNotASequence, pattern)
	}
	seq := FileSequence{Head: m[1], Tail: m[4]}
	if m[3] != "" {
		p, err := strconv.Atoi(m[3])
		if err != nil || p > 32 {
			return FileSequence{}, fmt.Errorf("ftrack: sequence %q: padding %s is not a width up to 32", pattern, m[3])
		}
		seq.Padding = p
	}
	seen := map[int]bool{}
	for part := range strings.SplitSeq(m[5], ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		start, err1 := strconv.Atoi(strings.TrimSpace(lo))
		end := start
		var err2 error
		if isRange {
			end, err2 = strconv.Atoi(strings.TrimSpace(hi))
		}
		if err1 != nil || err2 != nil || end < start {
			return FileSequence{}, fmt.Errorf("ftrack: sequence %q: %q is not an index or a range first-last", pattern, part)
		}
		if end-start >= maxSequenceMembers || len(seen)+end-start >= maxSequenceMembers {
			return FileSequence{}, fmt.Errorf("ftrack: sequence %q names more than %d files", pattern, maxSequenceMembers)
		}
		for i := start; i <= end; i++ {
			if !seen[i] {
				seen[i] = true
				seq.Indexes = append(seq.Indexes, i)
			}
		}
	}
	if len(seq.Indexes) == 0 {
		return FileSequence{}, fmt.Errorf("ftrack: sequence %q names no index", pattern)
	}
	slices.Sort(seq.Indexes)
	return seq, nil
}

// Index formats i as the sequence writes it in a member's path and name ("0042").
func (q FileSequence) Index(i int) string {
	return fmt.Sprintf("%0*d", q.Padding, i)
}

// Path is the path of member i.
func (q FileSequence) Path(i int) string { return q.Head + q.Index(i) + q.Tail }

// Expression is the sequence's path with its padding expression: "/path/plate.%04d.exr".
func (q FileSequence) Expression() string {
	if q.Padding > 0 {
		return fmt.Sprintf("%s%%0%dd%s", q.Head, q.Padding, q.Tail)
	}
	return q.Head + "%d" + q.Tail
}

// String is the sequence as a pattern, its indexes as ranges: "/p/a.%04d.exr [1-5, 7]".
func (q FileSequence) String() string {
	var parts []string
	for i := 0; i < len(q.Indexes); {
		j := i
		for j+1 < len(q.Indexes) && q.Indexes[j+1] == q.Indexes[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", q.Indexes[i], q.Indexes[j]))
		} else {
			parts = append(parts, strconv.Itoa(q.Indexes[i]))
		}
		i = j + 1
	}
	return q.Expression() + " [" + strings.Join(parts, ", ") + "]"
}
