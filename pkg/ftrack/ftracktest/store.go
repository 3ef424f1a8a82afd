package ftracktest

import (
	"maps"
	"slices"
	"strings"
)

// record is one stored entity: its concrete type and its scalar attributes
// (foreign keys included), keyed by API attribute name. Values are string,
// float64, bool, time.Time, nil or decoded JSON for variable attributes.
type record struct {
	typ  *entityType
	key  string
	seq  uint64
	data map[string]any
}

// id returns the value of the id attribute, or "" for types keyed otherwise.
func (r *record) id() string {
	s, _ := r.data["id"].(string)
	return s
}

// store holds all records. It is not safe for concurrent use: the Server
// serialises access with its lock. Every change goes through insert, replace
// or remove so that the undo log can roll a batch back.
type store struct {
	byType map[string]map[string]*record
	// index maps an indexed attribute ("id", "*_id") and a value to records.
	index map[string]map[string]map[*record]struct{}
	// unique maps a uniqueness key (see uniqueKey) to the records holding it.
	unique map[string]map[*record]struct{}
	seq    uint64
	undo   []func()
	// logging is true while a batch runs and changes must be undoable.
	logging bool
}

func newStore() *store {
	return &store{
		byType: map[string]map[string]*record{},
		index:  map[string]map[string]map[*record]struct{}{},
		unique: map[string]map[*record]struct{}{},
	}
}

func indexed(attr string) bool {
	return attr == "id" || strings.HasSuffix(attr, "_id")
}

func recordKey(t *entityType, data map[string]any) string {
	pk := t.s.PrimaryKey
	if len(pk) == 1 {
		return keyPart(data[pk[0]])
	}
	parts := make([]string, len(pk))
	for i, k := range pk {
		parts[i] = keyPart(data[k])
	}
	return strings.Join(parts, "\x1f")
}

func keyPart(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return stringify(x)
	}
}

// uniqueKey returns the key under which ftrack keeps r's name unique:
// project names, context names among siblings and usernames.
func uniqueKey(t *entityType, data map[string]any) (string, bool) {
	switch {
	case t.is("Project"):
		name, _ := data["name"].(string)
		return "project\x00" + name, true
	case t.is("Context"):
		parent, _ := data["parent_id"].(string)
		if parent == "" {
			return "", false
		}
		name, _ := data["name"].(string)
		return "context\x00" + parent + "\x00" + name, true
	case t.name == "User":
		name, _ := data["username"].(string)
		return "user\x00" + name, true
	}
	return "", false
}

// holders returns the records holding uniqueness key k.
func (s *store) holders(k string) []*record {
	var out []*record
	for r := range s.unique[k] {
		out = append(out, r)
	}
	sortBySeq(out)
	return out
}

func (s *store) addIndex(r *record) {
	if k, ok := uniqueKey(r.typ, r.data); ok {
		set := s.unique[k]
		if set == nil {
			set = map[*record]struct{}{}
			s.unique[k] = set
		}
		set[r] = struct{}{}
	}
	for attr, v := range r.data {
		if !indexed(attr) {
			continue
		}
		sv, ok := v.(string)
		if !ok {
			continue
		}
		byVal := s.index[attr]
		if byVal == nil {
			byVal = map[string]map[*record]struct{}{}
			s.index[attr] = byVal
		}
		set := byVal[sv]
		if set == nil {
			set = map[*record]struct{}{}
			byVal[sv] = set
		}
		set[r] = struct{}{}
	}
}

func (s *store) dropIndex(r *record) {
	if k, ok := uniqueKey(r.typ, r.data); ok {
		if set := s.unique[k]; set != nil {
			delete(set, r)
			if len(set) == 0 {
				delete(s.unique, k)
			}
		}
	}
	for attr, v := range r.data {
		if !indexed(attr) {
			continue
		}
		sv, ok := v.(string)
		if !ok {
			continue
		}
		if set := s.index[attr][sv]; set != nil {
			delete(set, r)
			if len(set) == 0 {
				delete(s.index[attr], sv)
			}
		}
	}
}

func (s *store) lookup(t *entityType, key string) *record {
	return s.byType[t.name][key]
}

// find returns the record of t (or one of its concrete subtypes) with key.
func (s *store) find(t *entityType, key string) *record {
	for _, c := range t.concrete {
		if r := s.byType[c.name][key]; r != nil {
			return r
		}
	}
	return nil
}

func (s *store) insert(t *entityType, data map[string]any) *record {
	s.seq++
	r := &record{typ: t, key: recordKey(t, data), seq: s.seq, data: data}
	m := s.byType[t.name]
	if m == nil {
		m = map[string]*record{}
		s.byType[t.name] = m
	}
	m[r.key] = r
	s.addIndex(r)
	if s.logging {
		s.undo = append(s.undo, func() {
			s.dropIndex(r)
			delete(s.byType[t.name], r.key)
		})
	}
	return r
}

// replace swaps the attributes of r for data (a fresh map; the old map is
// kept by the undo log).
func (s *store) replace(r *record, data map[string]any) {
	old := r.data
	s.dropIndex(r)
	r.data = data
	s.addIndex(r)
	if s.logging {
		s.undo = append(s.undo, func() {
			s.dropIndex(r)
			r.data = old
			s.addIndex(r)
		})
	}
}

func (s *store) remove(r *record) {
	s.dropIndex(r)
	delete(s.byType[r.typ.name], r.key)
	if s.logging {
		s.undo = append(s.undo, func() {
			s.byType[r.typ.name][r.key] = r
			s.addIndex(r)
		})
	}
}

func (s *store) begin() {
	s.undo = s.undo[:0]
	s.logging = true
}

func (s *store) commit() {
	s.undo = s.undo[:0]
	s.logging = false
}

func (s *store) rollback() {
	for i := len(s.undo) - 1; i >= 0; i-- {
		s.undo[i]()
	}
	s.undo = s.undo[:0]
	s.logging = false
}

// byIndex returns the records whose attr equals value, restricted to the
// concrete types of t (nil t: all types), in insertion order.
func (s *store) byIndex(t *entityType, attr, value string) []*record {
	set := s.index[attr][value]
	out := make([]*record, 0, len(set))
	for r := range set {
		if t == nil || r.typ.is(t.name) {
			out = append(out, r)
		}
	}
	sortBySeq(out)
	return out
}

// all returns every record of t's concrete types in insertion order.
func (s *store) all(t *entityType) []*record {
	var out []*record
	for _, c := range t.concrete {
		for _, r := range s.byType[c.name] {
			out = append(out, r)
		}
	}
	sortBySeq(out)
	return out
}

func (s *store) count(t *entityType) int {
	n := 0
	for _, c := range t.concrete {
		n += len(s.byType[c.name])
	}
	return n
}

func sortBySeq(rs []*record) {
	slices.SortFunc(rs, func(a, b *record) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
}

func cloneData(m map[string]any) map[string]any {
	return maps.Clone(m)
}
