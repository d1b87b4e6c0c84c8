package das

import (
	"fmt"
	"strconv"
	"strings"
)

// OutIDs hands out the packet (dataset) IDs a writer uses. A written stream never
// redefines an ID while another ID is free (das2C's das3 loaders refuse a
// redefinition, spec 3.2 and 4.4), and the das2.2 writer gives headers with equal
// keys one ID (das2C refuses a second equal descriptor).
type OutIDs struct {
	key   [MaxID + 1]string
	used  [MaxID + 1]bool // a header was written under the ID
	users [MaxID + 1]int  // input datasets currently writing under the ID
}

// Find returns the ID whose current header has key.
func (o *OutIDs) Find(key string) (int, bool) {
	for id := 1; id <= MaxID; id++ {
		if o.used[id] && o.key[id] == key {
			return id, true
		}
	}
	return 0, false
}

// Take returns an ID for a new header: want if it was never used, else the lowest
// never-used ID, else (all 99 used) an ID no input dataset writes under any more.
// The caller then writes the header under it.
func (o *OutIDs) Take(want int, key string) (int, error) {
	id := 0
	switch {
	case want >= 1 && want <= MaxID && !o.used[want]:
		id = want
	default:
		for i := 1; i <= MaxID && id == 0; i++ {
			if !o.used[i] {
				id = i
			}
		}
		if id == 0 && want >= 1 && want <= MaxID && o.users[want] == 0 {
			id = want
		}
		for i := 1; i <= MaxID && id == 0; i++ {
			if o.users[i] == 0 {
				id = i
			}
		}
	}
	if id == 0 {
		return 0, fmt.Errorf("das: more than %d packet layouts in use at once", MaxID)
	}
	o.used[id], o.key[id] = true, key
	return id, nil
}

// Hold records one more input dataset writing under id; Release undoes it.
func (o *OutIDs) Hold(id int) { o.users[id]++ }

// Release is the reverse of Hold.
func (o *OutIDs) Release(id int) {
	if o.users[id] > 0 {
		o.users[id]--
	}
}

// Identifier turns name into one every reader accepts: [a-zA-Z][a-zA-Z0-9_]*
// (plus '.' when dots is set, as das2.2 plane names allow), at most 63 bytes, not
// in used (which it updates), falling back to fallback for an empty name and
// appending _2, _3, ... to repeats.
func Identifier(name, fallback string, dots bool, used map[string]bool) string {
	valid := ValidPropName(name)
	if dots {
		valid = ValidPlaneName(name) && len(name) <= 63
	}
	if valid && !used[name] {
		used[name] = true
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name) && b.Len() < 60; i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '.' && dots:
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), "_.")
	if s == "" {
		s = fallback
	}
	if s == "" {
		s = "v"
	}
	if c := s[0] | 0x20; c < 'a' || c > 'z' {
		s = "v" + s
	}
	base := s
	for n := 2; used[s]; n++ {
		suffix := "_" + strconv.Itoa(n)
		s = base[:min(len(base), 63-len(suffix))] + suffix
	}
	used[s] = true
	return s
}
