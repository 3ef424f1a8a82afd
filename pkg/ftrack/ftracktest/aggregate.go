package ftracktest

import (
	"strings"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/internal/querylang"
)

// runAggregate answers "select count(id), status_id from Task group by
// status_id": one plain row per group with the group-by values and
// <func>_<path> aggregates. Like the real server it needs the strict API.
func (b *batch) runAggregate(action string, t *entityType, q *querylang.Query) (map[string]any, error) {
	if !b.strict {
		return nil, validationError("Aggregate queries (group by) need the strict API: send the header ftrack-strict-api: true")
	}
	for _, p := range q.Select {
		if p.Func == "" && !containsPath(q.GroupBy, p.Path) {
			return nil, validationError("%q must be grouped by or aggregated", p.Path.String())
		}
	}
	rows, err := b.filter(t, q.Where)
	if err != nil {
		return nil, err
	}
	type group struct {
		keys []any
		rows []*record
	}
	var groups []*group
	index := map[string]*group{}
	for _, r := range rows {
		keys := make([]any, len(q.GroupBy))
		var sb strings.Builder
		for i, p := range q.GroupBy {
			if vs := b.values(r, p); len(vs) > 0 {
				keys[i] = vs[0]
			}
			sb.WriteString(stringify(keys[i]))
			sb.WriteByte(0)
		}
		g := index[sb.String()]
		if g == nil {
			g = &group{keys: keys}
			index[sb.String()] = g
			groups = append(groups, g)
		}
		g.rows = append(g.rows, r)
	}
	if len(q.GroupBy) == 0 {
		groups = []*group{{rows: rows}}
	}
	data := make([]any, 0, len(groups))
	for _, g := range groups {
		row := map[string]any{}
		for i, p := range q.GroupBy {
			row[strings.Join(p, "_")] = encodeValue(g.keys[i])
		}
		for _, p := range q.Select {
			if p.Func == "" {
				continue
			}
			row[p.Func+"_"+strings.Join(p.Path, "_")] = aggregate(p.Func, b.collect(g.rows, p.Path))
		}
		data = append(data, row)
	}
	offset, end := 0, len(data)
	if q.Offset != nil {
		offset = min(max(*q.Offset, 0), len(data))
	}
	var next any
	if q.Limit != nil && offset+*q.Limit < len(data) {
		end = offset + *q.Limit
		next = end
	}
	return map[string]any{"action": action, "data": data[offset:end], "metadata": map[string]any{"next": map[string]any{"offset": next}}}, nil
}

func containsPath(paths []querylang.Path, p querylang.Path) bool {
	for _, x := range paths {
		if x.String() == p.String() {
			return true
		}
	}
	return false
}

func (b *batch) collect(rows []*record, p querylang.Path) []any {
	var out []any
	for _, r := range rows {
		for _, v := range b.values(r, p) {
			if v != nil {
				out = append(out, v)
			}
		}
	}
	return out
}

func aggregate(fn string, vals []any) any {
	if fn == "count" {
		return len(vals)
	}
	if len(vals) == 0 {
		return nil
	}
	switch fn {
	case "sum", "avg":
		sum := 0.0
		for _, v := range vals {
			if f, ok := v.(float64); ok {
				sum += f
			}
		}
		if fn == "avg" {
			return sum / float64(len(vals))
		}
		return sum
	case "min", "max":
		best := vals[0]
		for _, v := range vals[1:] {
			c := orderValues(v, best)
			if (fn == "min" && c < 0) || (fn == "max" && c > 0) {
				best = v
			}
		}
		return encodeValue(best)
	}
	return nil
}
