package connection

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
)

// Defaults of the CommitCoalescer.
const (
	// DefaultCoalesceWindow is how long the coalescer waits for more operations after the
	// first one of a batch arrived.
	DefaultCoalesceWindow = 20 * time.Millisecond
	// DefaultMaxCoalesceWindow is the longest a busy connection gathers a batch (see
	// CommitCoalescer).
	DefaultMaxCoalesceWindow = 500 * time.Millisecond
	// markWindow and markMaxWindow are the windows of a connection's second coalescer,
	// which carries the writes that only set ownership marks: adopting a show sends one per
	// entity, nothing but the object's own status waits on them, and a stream of them
	// gathers for up to markMaxWindow (a lone one leaves after markWindow).
	markWindow    = 200 * time.Millisecond
	markMaxWindow = time.Second
	// DefaultMaxBatchOperations is the largest number of operations sent in one request.
	DefaultMaxBatchOperations = 250
	// DefaultMaxReadIDs is the largest number of ids read by one query.
	DefaultMaxReadIDs = 200
	// bulkUnits is the number of units a batch must have carried for the next one to
	// gather as a bulk change's: corrections of a few out-of-band changes that met in one
	// batch are not a bulk change, and each of them waits for the short window only.
	bulkUnits = 4
	// quietWindows is how many windows without new work end the gathering of a busy
	// connection's batch.
	quietWindows = 3
	// DefaultMaxInFlight is how many batches may be under way at once. While they are
	// (waiting for the request budget, or for the server), new work gathers into the next
	// batch, so batches grow as the connection gets busy.
	DefaultMaxInFlight = 2
)

// ErrCoalescerClosed is returned for work submitted to, or pending in, a closed coalescer.
var ErrCoalescerClosed = errors.New("commit coalescer closed")

// BatchFunc sends one /api batch and returns one result per operation, as
// (*ftrack.Session).Do does.
type BatchFunc func(ctx context.Context, batch ...ftrack.Op) ([]any, error)

// CommitCoalescer shares /api requests between the concurrent reconciles of one connection.
// Work that arrives within a short window (or until a batch is full) is sent as one batch,
// and each caller gets back the results of its own operations. ftrack runs a batch as one
// transaction, so when a batch fails because of an operation in it, the batch is split in
// halves and each half sent again, until the failing unit is alone: one bad operation fails
// only its own caller. Reads of entities by id are merged into one query per entity type and
// projection (`select … from T where id in (…)`).
//
// The window adapts to the load. When it ends, the coalescer keeps gathering, up to the
// maximum window, while the connection is busy: the request budget has no token now (the
// batch would only wait for it in the transport), or the previous batch carried at least
// bulkUnits units (a bulk change is under way) and work is still arriving — the batch leaves
// once none has arrived for quietWindows windows, or for quietWindows times the recent gap
// between arrivals when work arrives more slowly than that (a busy API server paces the
// reconciles): a slow stream fills its batches too. A batch that is full leaves at once. When
// batches carry fewer units, the short window applies: a lone change leaves after one window.
//
// A CommitCoalescer is safe for concurrent use. Close it when its connection goes.
type CommitCoalescer struct {
	call   BatchFunc
	window time.Duration
	// maxWindow bounds how long a busy connection gathers one batch.
	maxWindow time.Duration
	// limiter, when set, is the connection's request budget: while it has no token, the
	// batch keeps gathering.
	limiter *rate.Limiter
	maxOps  int
	maxRead int
	// maxInFlight bounds the batches under way.
	maxInFlight int
	// observe, when set, is told the size of every batch sent.
	observe func(ops int)

	mu       sync.Mutex
	pending  []*coalescedUnit
	reads    map[readKey]*readGroup
	nOps     int
	inFlight int
	timer    *time.Timer
	// started is when the first pending unit of the next batch arrived.
	started time.Time
	// lastArrival is when work last arrived.
	lastArrival time.Time
	// gap is the moving average of the time between arrivals that came within the maximum
	// window of each other: how steadily work is arriving.
	gap time.Duration
	// bulk is set when a batch carried bulkUnits units or more, and cleared when no work
	// arrived for the maximum window: a bulk change is under way.
	bulk    bool
	closed  bool
	wg      sync.WaitGroup
	baseCtx context.Context
	cancel  context.CancelFunc
}

// CoalescerOption configures a CommitCoalescer.
type CoalescerOption func(*CommitCoalescer)

// WithCoalesceWindow sets the window (default DefaultCoalesceWindow).
func WithCoalesceWindow(d time.Duration) CoalescerOption {
	return func(c *CommitCoalescer) {
		if d > 0 {
			c.window = d
		}
	}
}

// WithMaxCoalesceWindow sets the longest a busy connection gathers one batch (default
// DefaultMaxCoalesceWindow). A value not above the window turns the adaptation off; a value
// not above zero is ignored.
func WithMaxCoalesceWindow(d time.Duration) CoalescerOption {
	return func(c *CommitCoalescer) {
		if d > 0 {
			c.maxWindow = d
		}
	}
}

// WithLimiter gives the coalescer the connection's request budget, the limiter its
// transport waits on: while it has no token, batches keep gathering. Nil is ignored.
func WithLimiter(l *rate.Limiter) CoalescerOption {
	return func(c *CommitCoalescer) {
		if l != nil {
			c.limiter = l
		}
	}
}

// WithMaxInFlight sets how many batches may be under way at once (default
// DefaultMaxInFlight); a value not above zero is ignored.
func WithMaxInFlight(n int) CoalescerOption {
	return func(c *CommitCoalescer) {
		if n > 0 {
			c.maxInFlight = n
		}
	}
}

// WithMaxBatchOperations sets the largest batch (default DefaultMaxBatchOperations).
func WithMaxBatchOperations(n int) CoalescerOption {
	return func(c *CommitCoalescer) {
		if n > 0 {
			c.maxOps = n
		}
	}
}

// WithBatchObserver calls fn with the number of operations of every batch sent.
func WithBatchObserver(fn func(ops int)) CoalescerOption {
	return func(c *CommitCoalescer) { c.observe = fn }
}

// NewCommitCoalescer returns a coalescer that sends its batches with call, usually the
// Call method of a connection's session (whose transport waits for the connection's request
// budget, so every batch counts against it).
func NewCommitCoalescer(call BatchFunc, opts ...CoalescerOption) *CommitCoalescer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &CommitCoalescer{
		call:        call,
		window:      DefaultCoalesceWindow,
		maxWindow:   DefaultMaxCoalesceWindow,
		maxOps:      DefaultMaxBatchOperations,
		maxRead:     DefaultMaxReadIDs,
		maxInFlight: DefaultMaxInFlight,
		reads:       map[readKey]*readGroup{},
		baseCtx:     ctx,
		cancel:      cancel,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// coalescedUnit is the work of one caller: operations that must go in the same batch, in
// order (a create and the metadata of the created entity, for example).
type coalescedUnit struct {
	ctx  context.Context
	ops  []ftrack.Op
	done chan unitResult
	// read is set for a merged read; its results are spread to the readers.
	read *readGroup
}

type unitResult struct {
	results []any
	err     error
}

// readKey groups reads that can share one query.
type readKey struct {
	entityType  string
	projections string
}

// readGroup is one pending query of several ids.
type readGroup struct {
	key     readKey
	ids     []string
	waiters map[string][]chan readResult
}

type readResult struct {
	entity *ftrack.Entity
	err    error
}

// Do sends ops as part of a coalesced batch and returns their results, one per operation.
// The operations of one call always travel in the same batch, in order. An error is the
// server's answer to this call's operations (or to the request that carried them).
func (c *CommitCoalescer) Do(ctx context.Context, ops ...ftrack.Op) ([]any, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	u := &coalescedUnit{ctx: ctx, ops: ops, done: make(chan unitResult, 1)}
	if err := c.enqueue(u, len(ops)); err != nil {
		return nil, err
	}
	select {
	case r := <-u.done:
		return r.results, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Read returns the entity of entityType with the given id, with the attributes named in
// projections, or nil when there is none. Reads arriving together are merged into one
// query per type and projection list.
func (c *CommitCoalescer) Read(ctx context.Context, entityType string, projections []string, id string) (*ftrack.Entity, error) {
	p := slices.Clone(projections)
	slices.Sort(p)
	p = slices.Compact(p)
	key := readKey{entityType: entityType, projections: strings.Join(p, ", ")}
	ch := make(chan readResult, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrCoalescerClosed
	}
	g := c.reads[key]
	if g == nil || len(g.ids) >= c.maxRead {
		g = &readGroup{key: key, waiters: map[string][]chan readResult{}}
		c.reads[key] = g
		c.pending = append(c.pending, &coalescedUnit{ctx: c.baseCtx, read: g, done: make(chan unitResult, 1)})
		c.nOps++
	}
	if _, ok := g.waiters[id]; !ok {
		g.ids = append(g.ids, id)
	}
	g.waiters[id] = append(g.waiters[id], ch)
	c.arrivedLocked(time.Now())
	c.armLocked()
	c.mu.Unlock()
	select {
	case r := <-ch:
		return r.entity, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Direct sends ops as a request of their own, without gathering them with other work: for
// a caller that has gathered a large read itself and sends its parts side by side. The
// request still waits for the connection's budget in its transport.
func (c *CommitCoalescer) Direct(ctx context.Context, ops ...ftrack.Op) ([]any, error) {
	return c.call(ctx, ops...)
}

// enqueue adds u to the pending batch.
func (c *CommitCoalescer) enqueue(u *coalescedUnit, n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrCoalescerClosed
	}
	c.pending = append(c.pending, u)
	c.nOps += n
	c.arrivedLocked(time.Now())
	c.armLocked()
	return nil
}

// arrivedLocked records that work arrived at now.
func (c *CommitCoalescer) arrivedLocked(now time.Time) {
	if d := now.Sub(c.lastArrival); !c.lastArrival.IsZero() && d < c.maxWindow {
		c.gap = (c.gap + d) / 2
	} else {
		c.gap, c.bulk = 0, false
	}
	c.lastArrival = now
}

// armLocked starts the window timer, or flushes at once when the batch is full.
func (c *CommitCoalescer) armLocked() {
	if c.nOps >= c.maxOps {
		c.flushLocked(false)
		return
	}
	if c.timer == nil {
		if c.started.IsZero() {
			c.started = time.Now()
		}
		c.timer = time.AfterFunc(c.window, c.flush)
	}
}

func (c *CommitCoalescer) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer = nil
	if d := c.extendLocked(); d > 0 {
		c.timer = time.AfterFunc(d, c.flush)
		return
	}
	c.flushLocked(false)
}

// extendLocked returns how much longer the pending batch should gather, or 0 when it
// should leave now.
func (c *CommitCoalescer) extendLocked() time.Duration {
	if c.closed || len(c.pending) == 0 || c.started.IsZero() {
		return 0
	}
	left := c.maxWindow - time.Since(c.started)
	if left <= 0 {
		return 0
	}
	if c.limiter != nil && c.limiter.Tokens() < 1 {
		return min(c.window, left)
	}
	if !c.bulk {
		return 0
	}
	// A stream that arrives more slowly than the windows (a busy or slow API server paces
	// the reconciles) keeps its batches full: the quiet gap grows with the arrival gap.
	quiet := min(max(quietWindows*c.window, quietWindows*c.gap), c.maxWindow) - time.Since(c.lastArrival)
	if quiet <= 0 {
		return 0
	}
	return min(quiet, left)
}

// flushLocked hands the pending units to a sender goroutine, unless maxInFlight batches
// are under way already (and force is false): the pending work then leaves when one of them
// ends.
func (c *CommitCoalescer) flushLocked(force bool) {
	if !force && c.inFlight >= c.maxInFlight {
		return
	}
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	units := c.pending
	c.pending = nil
	c.nOps = 0
	c.started = time.Time{}
	// Reads of a group flushed now cannot take more ids.
	for _, u := range units {
		if u.read != nil && c.reads[u.read.key] == u.read {
			delete(c.reads, u.read.key)
		}
	}
	if len(units) == 0 {
		return
	}
	carried := 0
	for _, u := range units {
		if u.read != nil {
			carried += len(u.read.waiters)
		} else {
			carried++
		}
	}
	if carried >= bulkUnits {
		c.bulk = true
	}
	c.inFlight++
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.send(units)
		c.mu.Lock()
		c.inFlight--
		if len(c.pending) > 0 && c.timer == nil {
			c.flushLocked(c.closed)
		}
		c.mu.Unlock()
	}()
}

// send sends units as one batch, or as several when they hold more than maxOps operations,
// and delivers the results.
func (c *CommitCoalescer) send(units []*coalescedUnit) {
	live := units[:0:0]
	for _, u := range units {
		if u.ctx.Err() != nil && u.read == nil {
			u.done <- unitResult{err: u.ctx.Err()}
			continue
		}
		live = append(live, u)
	}
	for len(live) > 0 {
		n, ops := 0, 0
		for n < len(live) && (n == 0 || ops+unitSize(live[n]) <= c.maxOps) {
			ops += unitSize(live[n])
			n++
		}
		c.sendBatch(live[:n])
		live = live[n:]
	}
}

func unitSize(u *coalescedUnit) int {
	if u.read != nil {
		return 1
	}
	return len(u.ops)
}

// sendBatch sends units as one request; when the server refuses the batch because of one
// of its operations, it bisects.
func (c *CommitCoalescer) sendBatch(units []*coalescedUnit) {
	var batch []ftrack.Op
	for _, u := range units {
		if u.read != nil {
			batch = append(batch, readOperation(u.read))
			continue
		}
		batch = append(batch, u.ops...)
	}
	if c.observe != nil {
		c.observe(len(batch))
	}
	results, err := c.call(c.baseCtx, batch...)
	if err != nil {
		if len(units) > 1 && ftrack.IsRefused(err) {
			half := len(units) / 2
			c.sendBatch(units[:half])
			c.sendBatch(units[half:])
			return
		}
		for _, u := range units {
			deliver(u, nil, err)
		}
		return
	}
	i := 0
	for _, u := range units {
		n := unitSize(u)
		deliver(u, results[i:i+n], nil)
		i += n
	}
}

// deliver hands a unit its results.
func deliver(u *coalescedUnit, results []any, err error) {
	if u.read == nil {
		u.done <- unitResult{results: results, err: err}
		return
	}
	g := u.read
	found := map[string]*ftrack.Entity{}
	if err == nil {
		entities, perr := ftrack.Entities(results[0])
		if perr != nil {
			err = perr
		}
		for _, e := range entities {
			found[e.ID()] = e
		}
	}
	for id, chans := range g.waiters {
		for _, ch := range chans {
			ch <- readResult{entity: found[id], err: err}
		}
	}
}

// readOperation is the query of a read group.
func readOperation(g *readGroup) ftrack.Op {
	return ftrack.QueryOp(fmt.Sprintf("select %s from %s where %s limit %d", g.key.projections, g.key.entityType, ftrack.In("id", g.ids), len(g.ids)))
}

// Close stops accepting work, cancels the batches under way (their callers get the error)
// and waits for them to end.
// It implements io.Closer so that the session pool closes it with its connection.
func (c *CommitCoalescer) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.flushLocked(true)
	c.mu.Unlock()
	// Batches still waiting (for a Retry-After pause, or the server) end now.
	c.cancel()
	c.wg.Wait()
	return nil
}
