package querylang

// MatchLike reports whether s matches the LIKE pattern, as held in
// Value.Str of a like/not_like comparison: "%" matches any sequence of
// bytes (including none) and a backslash makes the next byte literal, so
// "\%" matches a percent sign and "\\" a backslash. Every other byte,
// including "_", matches itself. Matching is case-sensitive; fold both
// arguments first for a case-insensitive match. It runs in O(len(pattern) *
// len(s)) time at worst.
func MatchLike(pattern, s string) bool {
	// Greedy wildcard matching with single-point backtracking: on a
	// mismatch, resume after the most recent "%" one byte further along s.
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(pattern) {
			c := pattern[pi]
			switch {
			case c == '%':
				starP, starS = pi, si
				pi++
				continue
			case c == '\\' && pi+1 < len(pattern):
				if pattern[pi+1] == s[si] {
					pi += 2
					si++
					continue
				}
			case c == s[si]:
				pi++
				si++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP+1, starS
	}
	for pi < len(pattern) && pattern[pi] == '%' {
		pi++
	}
	return pi == len(pattern)
}
