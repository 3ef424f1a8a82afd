package planrun

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// symbols start the lines of each action.
var symbols = map[Action]string{
	ActionCreate:  "+",
	ActionUpdate:  "~",
	ActionNone:    "=",
	ActionAdopt:   "<",
	ActionDelete:  "-",
	ActionRemove:  "-",
	ActionBlocked: "-",
	ActionInvalid: "!",
	ActionWait:    "…",
}

// ANSI colours of the actions' lines on a terminal.
var colours = map[Action]string{
	ActionCreate:  "\x1b[32m",
	ActionUpdate:  "\x1b[33m",
	ActionAdopt:   "\x1b[36m",
	ActionDelete:  "\x1b[31m",
	ActionRemove:  "\x1b[31m",
	ActionBlocked: "\x1b[31m",
	ActionInvalid: "\x1b[1;31m",
	ActionWait:    "\x1b[2m",
}

const resetColour = "\x1b[0m"

// verbs are the words of each action in a line.
var verbs = map[Action]string{
	ActionCreate:  "create",
	ActionUpdate:  "update",
	ActionNone:    "no change",
	ActionAdopt:   "adopt",
	ActionDelete:  "delete",
	ActionRemove:  "remove",
	ActionBlocked: "delete blocked",
	ActionInvalid: "invalid",
	ActionWait:    "waits",
}

// entityName names the item's entity: its type and path, else its object.
func (it Item) entityName() string {
	where := it.Path
	if where == "" {
		where = it.Object.Namespace + "/" + it.Object.Name
	}
	if it.EntityType == "" {
		return where
	}
	return it.EntityType + " " + where
}

// WriteText writes the plan for people: one line per object and its details, then the
// summary; with colour for a terminal.
func WriteText(w io.Writer, r *Result, colour bool) error {
	var b strings.Builder
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	for _, it := range r.Items {
		line := fmt.Sprintf("%s %s %s", symbols[it.Action], verbs[it.Action], it.entityName())
		switch it.Action {
		case ActionInvalid, ActionWait, ActionBlocked:
			line += fmt.Sprintf(" (FtrackEntity %s/%s): %s: %s", it.Object.Namespace, it.Object.Name, it.Reason, it.Message)
		}
		if c := colours[it.Action]; colour && c != "" {
			line = c + line + resetColour
		}
		b.WriteString(line + "\n")
		for _, c := range it.Changes {
			if c.Old == "" {
				fmt.Fprintf(&b, "    %s: %s\n", c.Field, c.New)
				continue
			}
			fmt.Fprintf(&b, "    %s: %s → %s\n", c.Field, c.Old, c.New)
		}
		if it.Drift && len(it.Changes) > 0 {
			b.WriteString("    (changed in ftrack outside Git: put back)\n")
		}
		for _, n := range it.Notes {
			fmt.Fprintf(&b, "    %s\n", n)
		}
	}
	b.WriteString(r.Summary.Line() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Line is the summary line, for example "Plan: 12 to create, 3 to update, 0 to delete, 1
// invalid." with the other counts that are not zero.
func (s Summary) Line() string {
	line := fmt.Sprintf("Plan: %d to create, %d to update, %d to delete, %d invalid", s.Create, s.Update, s.Delete, s.Invalid)
	for _, extra := range []struct {
		n    int
		what string
	}{{s.Adopt, "to adopt"}, {s.Remove, "to remove from the cluster only"}, {s.Waiting, "waiting"}, {s.Blocked, "deletions blocked"}} {
		if extra.n > 0 {
			line += fmt.Sprintf(", %d %s", extra.n, extra.what)
		}
	}
	return line + "."
}

// WriteJSON writes the plan as JSON (the Result type is its schema).
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteMarkdown writes the plan as a Markdown table, fit for a pull-request comment.
func WriteMarkdown(w io.Writer, r *Result) error {
	var b strings.Builder
	b.WriteString("### ftrack plan\n\n")
	fmt.Fprintf(&b, "**%s**\n\n", r.Summary.Line())
	b.WriteString("| | entity | object | what changes |\n|---|---|---|---|\n")
	for _, it := range r.Items {
		if it.Action == ActionNone && len(it.Notes) == 0 {
			continue
		}
		var what []string
		for _, c := range it.Changes {
			if c.Old == "" {
				what = append(what, fmt.Sprintf("`%s`: %s", c.Field, mdCell(c.New)))
			} else {
				what = append(what, fmt.Sprintf("`%s`: %s → %s", c.Field, mdCell(c.Old), mdCell(c.New)))
			}
		}
		if it.Message != "" {
			what = append(what, fmt.Sprintf("**%s**: %s", it.Reason, mdCell(it.Message)))
		}
		for _, n := range it.Notes {
			what = append(what, mdCell(n))
		}
		fmt.Fprintf(&b, "| %s %s | %s | `%s/%s` | %s |\n", symbols[it.Action], verbs[it.Action], mdCell(it.entityName()), it.Object.Namespace, it.Object.Name, strings.Join(what, "<br>"))
	}
	if r.Summary.Unchanged > 0 {
		fmt.Fprintf(&b, "\n%d unchanged.\n", r.Summary.Unchanged)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell makes text safe in a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
