// Command crd-reflow rewrites the descriptions of CustomResourceDefinition files so that each
// paragraph is one line: controller-gen keeps the line breaks of the Go doc comments, and
// `kubectl explain` then prints them as ragged short lines. Paragraphs (separated by a blank
// line), list items ("- ", "* ", "1. ") and indented lines keep their own lines.
//
// Usage: go run ./hack/crd-reflow FILE...
package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: crd-reflow FILE...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		if err := reflowFile(path); err != nil {
			fmt.Fprintf(os.Stderr, "crd-reflow: %s: %v\n", path, err)
			os.Exit(1)
		}
	}
}

func reflowFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	walk(doc)
	out, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	if bytes.HasPrefix(data, []byte("---\n")) {
		out = append([]byte("---\n"), out...)
	}
	return os.WriteFile(path, out, 0o644)
}

// walk reflows every "description" string under v.
func walk(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "description" {
				x[k] = Reflow(s)
				continue
			}
			walk(e)
		}
	case []any:
		for _, e := range x {
			walk(e)
		}
	}
}

var listItem = regexp.MustCompile(`^([-*]|\d+\.)\s`)

// Reflow joins the lines of each paragraph of s with a space.
func Reflow(s string) string {
	lines := strings.Split(s, "\n")
	var b strings.Builder
	for i, line := range lines {
		if i > 0 {
			prev := lines[i-1]
			if keepBreak(prev, line) {
				b.WriteString("\n")
			} else {
				b.WriteString(" ")
			}
		}
		b.WriteString(line)
	}
	return b.String()
}

// keepBreak reports whether the line break between prev and line stays.
func keepBreak(prev, line string) bool {
	t := strings.TrimSpace(line)
	return strings.TrimSpace(prev) == "" || t == "" || listItem.MatchString(t) ||
		strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") || strings.HasPrefix(prev, " ") || strings.HasPrefix(prev, "\t")
}
