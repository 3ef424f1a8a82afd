package querylang

// DefaultPageSize is the page size the Python client uses when none is
// given.
const DefaultPageSize = 500

// Pager walks the pages of a query the way the Python client's QueryResult
// does (ftrack-protocol.md §4.5): it takes the offset and limit out of the
// query, asks for pages of min(page size, limit) rows with an
// "offset <n> limit <size>" suffix, follows metadata.next.offset, and stops
// when the server says there is no next page or the original limit is
// reached.
//
// Unlike the Python client it also stops when the server's next offset does
// not move forward, so a misbehaving server cannot make it loop forever.
//
// A Pager is not safe for concurrent use.
type Pager struct {
	base     *Query
	next     int // offset of the next page, valid while !done
	size     int
	limit    int // -1 when the query had no limit
	received int
	done     bool
}

// NewPager returns a Pager over q. A pageSize of zero or less means
// DefaultPageSize. q is not modified.
func NewPager(q *Query, pageSize int) *Pager {
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	p := &Pager{base: q.WithoutPaging(), size: pageSize, limit: -1}
	if q.Offset != nil {
		p.next = *q.Offset
	}
	if q.Limit != nil {
		p.limit = *q.Limit
		p.size = min(p.size, p.limit)
	}
	return p
}

// Next returns the query for the next page, or nil and false when paging is
// complete. Call Record with the answer before calling Next again.
func (p *Pager) Next() (*Query, bool) {
	if p.done {
		return nil, false
	}
	return p.base.WithPaging(p.next, p.size), true
}

// Record takes the answer to the query Next returned: how many rows it
// held and its metadata.next.offset (nil for null). It returns how many of
// those rows to keep, which is fewer than rows only when they go past the
// original limit.
func (p *Pager) Record(rows int, nextOffset *int) (keep int) {
	keep = max(rows, 0)
	if p.limit >= 0 && p.received+keep >= p.limit {
		keep = p.limit - p.received
		p.done = true
	} else if nextOffset == nil || *nextOffset <= p.next {
		p.done = true
	} else {
		p.next = *nextOffset
	}
	p.received += keep
	return keep
}

// Received returns the number of rows kept so far.
func (p *Pager) Received() int { return p.received }
