package event

import "testing"

func BenchmarkParseExpression(b *testing.B) {
	const s = `topic=ftrack.update and source.user.username="jane" and not data.kind=internal`
	for b.Loop() {
		if _, err := ParseExpression(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExpressionMatch(b *testing.B) {
	e := MustParseExpression(`topic=ftrack.* and source.user.username="jane" and not data.kind=internal`)
	ev := NewEvent("ftrack.update", map[string]any{"kind": "entity"})
	ev.Source = map[string]any{"user": map[string]any{"username": "jane"}}
	cand := ev.Candidate()
	for b.Loop() {
		if !e.Match(cand) {
			b.Fatal("no match")
		}
	}
}
