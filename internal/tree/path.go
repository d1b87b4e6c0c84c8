// Package tree is the folder tree: paths, names, folders, files, sequences and controller
// folders. It may import ent, internal/database, internal/fault and the standard library.
package tree

import (
	"strings"
	"unicode/utf8"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/rhizoflex/rhizoflex/ent/predicate"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/ent/schema"
	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// MaxNameLength is the longest resource name.
const MaxNameLength = 100

// ValidateName checks a resource name against the naming rule and explains a violation.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fault.New(fault.BadInput, "name is empty")
	case len(name) > MaxNameLength:
		return fault.New(fault.BadInput, "name %q is longer than %d characters", name, MaxNameLength)
	case strings.HasPrefix(name, "."):
		return fault.New(fault.BadInput, "name %q starts with a dot", name)
	case !schema.ResourceNamePattern().MatchString(name):
		return fault.New(fault.BadInput,
			"name %q may contain only letters, digits, '.', '_', '-' and inner spaces", name)
	}
	return nil
}

// SplitPath turns "/org/folder/name" into its names, validating each. A trailing slash is
// allowed; empty segments are not.
func SplitPath(path string) ([]string, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fault.New(fault.BadInput, "path %q must start with /", path)
	}
	trimmed := strings.TrimSuffix(path[1:], "/")
	if trimmed == "" {
		return nil, fault.New(fault.BadInput, "path %q names no resource", path)
	}
	names := strings.Split(trimmed, "/")
	for _, n := range names {
		if err := ValidateName(n); err != nil {
			return nil, fault.Wrap(err, fault.BadInput, "bad path %q: %s", path, fault.SafeMessage(err))
		}
	}
	return names, nil
}

// CleanPath validates path and returns it in canonical form (no trailing slash).
func CleanPath(path string) (string, error) {
	names, err := SplitPath(path)
	if err != nil {
		return "", err
	}
	return JoinPath(names...), nil
}

// JoinPath builds a path from names.
func JoinPath(names ...string) string { return "/" + strings.Join(names, "/") }

// ParentPath returns the parent's path of a clean path, "" for a top-level path.
func ParentPath(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return ""
	}
	return path[:i]
}

// Below matches the resources strictly below the resource at path: those whose path starts
// with path + "/", compared byte for byte. It is not SQL LIKE, which ignores case on
// SQLite and treats _ and % as wildcards: "/omega" never matches "/OMEGA/x" or
// "/o_ega/x", on either database. substr counts characters on both databases; names are
// ASCII, but the count is of runes so that this stays right if that changes.
func Below(path string) predicate.Resource {
	prefix := path + "/"
	n := utf8.RuneCountInString(prefix)
	return predicate.Resource(func(s *entsql.Selector) {
		s.Where(entsql.P(func(b *entsql.Builder) {
			b.WriteString("substr(").Ident(s.C(resource.FieldPath)).WriteString(", 1, ").Arg(n).
				WriteString(") = ").Arg(prefix)
		}))
	})
}
