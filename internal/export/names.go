package export

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxName bounds an object name (DNS-1123 subdomains may be 253 characters; a shorter bound
// leaves room for what tools append).
const maxName = 200

// label turns an ftrack name into a DNS-1123 label part: lower case letters, digits and
// dashes. lossy reports whether anything but the case of ASCII letters was lost (or the
// case itself: two siblings may differ only by it).
func label(s string) (out string, lossy bool) {
	var b strings.Builder
	dash := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r - 'A' + 'a')
			dash, lossy = false, true
		case r == '-' && !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash, lossy = true, true
		}
	}
	out = strings.TrimRight(b.String(), "-")
	if out == "" || len(out) < b.Len() {
		lossy = true
	}
	return out, lossy
}

// shortHash is a stable suffix for id.
func shortHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])[:6]
}

// namer gives entities object names that are valid, deterministic and distinct: the labels of
// the path joined with dashes, and a suffix from the entity's id when a label lost something
// (case, spaces, unicode, dots) or the name is taken.
type namer struct {
	taken map[string]string // name → entity id
}

func newNamer() *namer { return &namer{taken: map[string]string{}} }

// name returns the object name of the entity id whose path below the export is parts.
func (n *namer) name(id string, parts ...string) string {
	var labels []string
	lossy := false
	for _, p := range parts {
		l, lost := label(p)
		lossy = lossy || lost
		if l != "" {
			labels = append(labels, l)
		}
	}
	base := strings.Join(labels, "-")
	if len(base) > maxName-7 {
		base, lossy = strings.TrimRight(base[:maxName-7], "-"), true
	}
	name := base
	if lossy || name == "" {
		name = strings.TrimLeft(base+"-"+shortHash(id), "-")
	}
	if owner, ok := n.taken[name]; ok && owner != id {
		name = strings.TrimLeft(base+"-"+shortHash(id), "-")
	}
	n.taken[name] = id
	return name
}
