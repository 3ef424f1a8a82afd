package ftrack

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Cache stores values by string key. Implementations must be safe for
// concurrent use.
//
// Get reports whether key is present. Set stores value under key,
// replacing any previous value. Remove deletes key and reports whether it
// was present. Keys lists the stored keys in no particular order.
type Cache interface {
	Get(key string) (value any, ok bool)
	Set(key string, value any)
	Remove(key string) bool
	Keys() []string
}

// MemoryCache is a Cache held in memory.
type MemoryCache struct {
	mu sync.RWMutex
	m  map[string]any
}

// NewMemoryCache returns an empty MemoryCache.
func NewMemoryCache() *MemoryCache { return &MemoryCache{m: make(map[string]any)} }

// Get implements Cache.
func (c *MemoryCache) Get(key string) (any, bool) {
	c.mu.RLock()
	v, ok := c.m[key]
	c.mu.RUnlock()
	return v, ok
}

// Set implements Cache.
func (c *MemoryCache) Set(key string, value any) {
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]any)
	}
	c.m[key] = value
	c.mu.Unlock()
}

// Remove implements Cache.
func (c *MemoryCache) Remove(key string) bool {
	c.mu.Lock()
	_, ok := c.m[key]
	delete(c.m, key)
	c.mu.Unlock()
	return ok
}

// Keys implements Cache.
func (c *MemoryCache) Keys() []string {
	c.mu.RLock()
	keys := make([]string, 0, len(c.m))
	for k := range c.m {
		keys = append(keys, k)
	}
	c.mu.RUnlock()
	return keys
}

// Len returns the number of stored values.
func (c *MemoryCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// Clear removes every value.
func (c *MemoryCache) Clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// LayeredCache searches its layers top-down. A value found in a lower layer
// is written back to every layer above it. Set writes every layer; Remove
// removes from every layer.
type LayeredCache struct {
	layers []Cache
}

// NewLayeredCache returns a LayeredCache over layers, the first on top. Nil
// layers are skipped.
func NewLayeredCache(layers ...Cache) *LayeredCache {
	l := &LayeredCache{}
	for _, c := range layers {
		if c != nil {
			l.layers = append(l.layers, c)
		}
	}
	return l
}

// Layers returns the layers, top first.
func (l *LayeredCache) Layers() []Cache { return slices.Clone(l.layers) }

// Get implements Cache, back-filling the layers above the one that held the
// value.
func (l *LayeredCache) Get(key string) (any, bool) {
	for i, c := range l.layers {
		if v, ok := c.Get(key); ok {
			for j := i - 1; j >= 0; j-- {
				l.layers[j].Set(key, v)
			}
			return v, true
		}
	}
	return nil, false
}

// Set implements Cache.
func (l *LayeredCache) Set(key string, value any) {
	for _, c := range l.layers {
		c.Set(key, value)
	}
}

// Remove implements Cache. It reports whether any layer held key.
func (l *LayeredCache) Remove(key string) bool {
	found := false
	for _, c := range l.layers {
		if c.Remove(key) {
			found = true
		}
	}
	return found
}

// Keys implements Cache: the union of all layers' keys.
func (l *LayeredCache) Keys() []string {
	seen := make(map[string]struct{})
	var keys []string
	for _, c := range l.layers {
		for _, k := range c.Keys() {
			if _, ok := seen[k]; !ok {
				seen[k] = struct{}{}
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// FileCache is a Cache persisted in one file of JSON lines. Values must be
// JSON encodable; Get returns them as decoded by encoding/json (entities come
// back as their encoded form and are rebuilt by the Session). Every Set and
// Remove appends one line; Compact and Close rewrite the file atomically
// (temporary file and rename). I/O errors are kept and returned by Err; the
// cache keeps working in memory.
type FileCache struct {
	mu   sync.Mutex
	path string
	m    map[string]json.RawMessage
	f    *os.File
	dead int
	err  error
}

type fileCacheRecord struct {
	Key     string          `json:"k"`
	Value   json.RawMessage `json:"v,omitempty"`
	Deleted bool            `json:"d,omitempty"`
}

// OpenFileCache opens or creates the cache file at path.
func OpenFileCache(path string) (*FileCache, error) {
	c := &FileCache{path: path, m: make(map[string]json.RawMessage)}
	data, err := os.ReadFile(path) //nolint:gosec // G304: the cache file is the caller's choice
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("ftrack: open file cache: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 64<<20)
	for sc.Scan() {
		var r fileCacheRecord
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			c.dead++
			continue // a torn last line after a crash
		}
		if r.Deleted {
			delete(c.m, r.Key)
			c.dead++
			continue
		}
		if _, ok := c.m[r.Key]; ok {
			c.dead++
		}
		c.m[r.Key] = r.Value
	}
	if err := c.rewrite(); err != nil {
		return nil, err
	}
	return c, nil
}

// Path returns the file path.
func (c *FileCache) Path() string { return c.path }

// Err returns the last I/O error, if any.
func (c *FileCache) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Get implements Cache.
func (c *FileCache) Get(key string) (any, bool) {
	c.mu.Lock()
	raw, ok := c.m[key]
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, false
	}
	return v, true
}

// Set implements Cache. A value that cannot be encoded is not stored and
// the error is kept for Err.
func (c *FileCache) Set(key string, value any) {
	raw, err := json.Marshal(value)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.err = fmt.Errorf("ftrack: file cache: encode %q: %w", key, err)
		return
	}
	if _, ok := c.m[key]; ok {
		c.dead++
	}
	c.m[key] = raw
	c.append(fileCacheRecord{Key: key, Value: raw})
}

// Remove implements Cache.
func (c *FileCache) Remove(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok {
		return false
	}
	delete(c.m, key)
	c.dead += 2
	c.append(fileCacheRecord{Key: key, Deleted: true})
	return true
}

// Keys implements Cache.
func (c *FileCache) Keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, 0, len(c.m))
	for k := range c.m {
		keys = append(keys, k)
	}
	return keys
}

// Compact rewrites the file with only the live values.
func (c *FileCache) Compact() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rewrite()
}

// Close compacts the file and closes it. Close is idempotent.
func (c *FileCache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil {
		return c.err
	}
	err := c.rewrite()
	if c.f != nil {
		if cerr := c.f.Close(); err == nil {
			err = cerr
		}
		c.f = nil
	}
	return err
}

func (c *FileCache) append(r fileCacheRecord) {
	if c.f == nil {
		return
	}
	line, err := json.Marshal(r)
	if err == nil {
		_, err = c.f.Write(append(line, '\n'))
	}
	if err != nil {
		c.err = fmt.Errorf("ftrack: file cache: write: %w", err)
	}
}

// rewrite writes the live values to a temporary file and renames it over
// the cache file, then reopens it for appending. Called with c.mu held.
func (c *FileCache) rewrite() error {
	if c.f != nil {
		_ = c.f.Close()
		c.f = nil
	}
	dir := filepath.Dir(c.path)
	tmp, err := os.CreateTemp(dir, filepath.Base(c.path)+".tmp*")
	if err != nil {
		c.err = fmt.Errorf("ftrack: file cache: %w", err)
		return c.err
	}
	w := bufio.NewWriter(tmp)
	keys := make([]string, 0, len(c.m))
	for k := range c.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		line, _ := json.Marshal(fileCacheRecord{Key: k, Value: c.m[k]})
		_, _ = w.Write(append(line, '\n'))
	}
	err = w.Flush()
	if err == nil {
		err = tmp.Close()
	} else {
		_ = tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		c.err = fmt.Errorf("ftrack: file cache: %w", err)
		return c.err
	}
	c.dead = 0
	f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		c.err = fmt.Errorf("ftrack: file cache: %w", err)
		return c.err
	}
	c.f = f
	return nil
}

// KeyMaker turns items into a cache key.
type KeyMaker interface {
	Key(items ...any) (string, error)
}

// StringKeyMaker makes keys from the fmt %v form of each item, joined by
// Separator. Identities print as Python tuples: ('Task', ['id']).
type StringKeyMaker struct {
	Separator string
}

// Key implements KeyMaker.
func (m StringKeyMaker) Key(items ...any) (string, error) {
	if len(items) == 1 {
		switch v := items[0].(type) {
		case Identity:
			return v.String(), nil
		case string:
			return v, nil
		}
	}
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteString(m.Separator)
		}
		fmt.Fprint(&b, it)
	}
	return b.String(), nil
}

// ObjectKeyMaker makes keys from the JSON encoding of each item (map keys
// sorted), so structurally equal values give equal keys. Items are joined
// by a NUL byte.
type ObjectKeyMaker struct{}

// Key implements KeyMaker.
func (ObjectKeyMaker) Key(items ...any) (string, error) {
	var b bytes.Buffer
	for i, it := range items {
		if i > 0 {
			b.WriteByte(0)
		}
		raw, err := json.Marshal(it)
		if err != nil {
			return "", fmt.Errorf("ftrack: object key: %w", err)
		}
		b.Write(raw)
	}
	return b.String(), nil
}
