package database

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
)

// This file reads an Atlas-format migration directory without Atlas: the planner
// (ent/migrate/plan.go, run by `make generate`) uses Atlas as a library, but the server only
// has to read the files in order, check them against atlas.sum and split them into
// statements, and Atlas would bring its HCL and driver packages into the binary for that.
//
// The directory format (https://atlasgo.io/concepts/migration-directory-integrity):
//   - migrations are the *.sql files, applied in lexical order of their names,
//     <version>_<description>.sql;
//   - atlas.sum has a first line "h1:<total>" and then one line "<file> h1:<hash>" per
//     file, in the same order. <hash> is the base64 SHA-256 of the names and contents of
//     this file and every file before it (one running hash), and <total> the base64
//     SHA-256 of every line's name and hash, so editing, adding, removing or renaming any
//     file, or hand-editing atlas.sum, shows.

// sumFileName is the integrity file of a migration directory.
const sumFileName = "atlas.sum"

// ErrChecksum reports migration files that do not match atlas.sum.
var ErrChecksum = errors.New("migration files do not match atlas.sum (edited after planning?)")

// migrationFile is one <version>_<description>.sql file.
type migrationFile struct {
	name string
	data []byte
}

func (f migrationFile) version() string {
	v, _, _ := strings.Cut(strings.TrimSuffix(f.name, ".sql"), "_")
	return v
}

func (f migrationFile) desc() string {
	_, d, _ := strings.Cut(strings.TrimSuffix(f.name, ".sql"), "_")
	return d
}

// sumLine is one "<file> h1:<hash>" line of atlas.sum.
type sumLine struct{ name, hash string }

// loadDir reads the *.sql files of dir in the order they apply and checks them against
// atlas.sum.
func loadDir(dir fs.FS) ([]migrationFile, error) {
	entries, err := fs.ReadDir(dir, ".")
	if err != nil {
		return nil, fmt.Errorf("migrate: read directory: %w", err)
	}
	var files []migrationFile
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := fs.ReadFile(dir, e.Name())
		if err != nil {
			return nil, fmt.Errorf("migrate: read %s: %w", e.Name(), err)
		}
		if d := unsupportedDirective(b); d != "" {
			return nil, fmt.Errorf("migrate: %s: the directive %q is not supported by this runner", e.Name(), d)
		}
		files = append(files, migrationFile{name: e.Name(), data: b})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	sum, err := fs.ReadFile(dir, sumFileName)
	switch {
	case errors.Is(err, fs.ErrNotExist) && len(files) == 0:
		return nil, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("migrate: %w: %s is missing", ErrChecksum, sumFileName)
	case err != nil:
		return nil, fmt.Errorf("migrate: read %s: %w", sumFileName, err)
	}
	if err := verifySum(files, sum); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return files, nil
}

// fileSums computes the atlas.sum lines of files (in the order given).
func fileSums(files []migrationFile) []sumLine {
	h := sha256.New()
	lines := make([]sumLine, 0, len(files))
	for _, f := range files {
		h.Write([]byte(f.name))
		h.Write(f.data)
		lines = append(lines, sumLine{f.name, base64.StdEncoding.EncodeToString(h.Sum(nil))})
	}
	return lines
}

// totalSum is the first line's hash over all lines.
func totalSum(lines []sumLine) string {
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l.name))
		h.Write([]byte(l.hash))
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// marshalSum writes atlas.sum for files, byte for byte as Atlas does.
func marshalSum(files []migrationFile) []byte {
	lines := fileSums(files)
	var b bytes.Buffer
	b.WriteString("h1:" + totalSum(lines) + "\n")
	for _, l := range lines {
		b.WriteString(l.name + " h1:" + l.hash + "\n")
	}
	return b.Bytes()
}

func parseSum(b []byte) (total string, lines []sumLine, err error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	if !sc.Scan() {
		return "", nil, fmt.Errorf("%w: %s is empty", ErrChecksum, sumFileName)
	}
	total, ok := strings.CutPrefix(sc.Text(), "h1:")
	if !ok {
		return "", nil, fmt.Errorf("%w: %s line 1 is not h1:<sum>", ErrChecksum, sumFileName)
	}
	for n := 2; sc.Scan(); n++ {
		name, hash, ok := strings.Cut(sc.Text(), "h1:")
		if !ok {
			return "", nil, fmt.Errorf("%w: %s line %d is not <file> h1:<sum>", ErrChecksum, sumFileName, n)
		}
		lines = append(lines, sumLine{strings.TrimSpace(name), hash})
	}
	if err := sc.Err(); err != nil {
		return "", nil, fmt.Errorf("read %s: %w", sumFileName, err)
	}
	return total, lines, nil
}

// verifySum checks files against the contents of atlas.sum and names the first file
// that differs.
func verifySum(files []migrationFile, sum []byte) error {
	total, recorded, err := parseSum(sum)
	if err != nil {
		return err
	}
	if total != totalSum(recorded) {
		return fmt.Errorf("%w: %s itself was edited (its first line does not match the others)", ErrChecksum, sumFileName)
	}
	actual := fileSums(files)
	for i, want := range recorded {
		switch {
		case i >= len(actual) || !slicesContainName(actual, want.name):
			return fmt.Errorf("%w: %s was removed", ErrChecksum, want.name)
		case actual[i].name != want.name:
			return fmt.Errorf("%w: %s was added before %s", ErrChecksum, actual[i].name, want.name)
		case actual[i].hash != want.hash:
			return fmt.Errorf("%w: %s was edited", ErrChecksum, want.name)
		}
	}
	if len(actual) > len(recorded) {
		return fmt.Errorf("%w: %s was added", ErrChecksum, actual[len(recorded)].name)
	}
	return nil
}

func slicesContainName(lines []sumLine, name string) bool {
	for _, l := range lines {
		if l.name == name {
			return true
		}
	}
	return false
}

// reFileDirective matches the Atlas directives that change how a file is hashed or run
// (a custom delimiter, no transaction, a checkpoint, a file left out of atlas.sum). The
// planner never writes them; a hand-written file that uses one is refused rather than run
// differently from what Atlas would do.
var reFileDirective = regexp.MustCompile(`(?m)^\s*--\s*atlas:(delimiter|txmode|checkpoint|sum)\b.*$`)

func unsupportedDirective(b []byte) string {
	return strings.TrimSpace(string(reFileDirective.Find(b)))
}

// reDollarTag is a PostgreSQL dollar-quote tag: $$ or $name$.
var reDollarTag = regexp.MustCompile(`^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$`)

// splitStatements splits a migration file into statements the way Atlas does for the
// files it plans: at semicolons outside quoted text (single, double and back quotes),
// comments (-- and /* */), PostgreSQL dollar quotes and parentheses. A statement keeps its
// semicolon and the comments inside it; comments before it are dropped. A block of
// statements stays one statement: a CREATE TRIGGER body (BEGIN ... END, SQLite) and a
// BEGIN ATOMIC ... END function body (PostgreSQL).
func splitStatements(src string) ([]string, error) {
	var (
		stmts    []string
		start    int  // offset of the current statement
		depth    int  // open parentheses
		trigger  bool // the current statement is CREATE TRIGGER
		sawBegin bool // a block (trigger body, BEGIN ATOMIC) started in it
		blocks   int  // open BEGIN/CASE blocks in it
	)
	lineOf := func(i int) int { return 1 + strings.Count(src[:i], "\n") }
	emit := func(end int) {
		if s := strings.TrimSpace(src[start:end]); s != "" && s != ";" {
			stmts = append(stmts, s)
		}
		start, depth, trigger, sawBegin, blocks = end, 0, false, false, 0
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := strings.IndexByte(src[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("line %d: unclosed quote %c", lineOf(i), c)
			}
			i += j + 2
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			if strings.TrimSpace(src[start:i]) == "" {
				start = i + j // a comment before the statement is not part of it
			}
			i += j
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			j := strings.Index(src[i+2:], "*/")
			if j < 0 {
				return nil, fmt.Errorf("line %d: unclosed comment", lineOf(i))
			}
			if strings.TrimSpace(src[start:i]) == "" {
				start = i + j + 4
			}
			i += j + 4
		case c == '$' && (i == 0 || !isWordByte(src[i-1])) && reDollarTag.MatchString(src[i:]):
			tag := reDollarTag.FindString(src[i:])
			j := strings.Index(src[i+len(tag):], tag)
			if j < 0 {
				return nil, fmt.Errorf("line %d: unclosed dollar quote %s", lineOf(i), tag)
			}
			i += len(tag) + j + len(tag)
		case c == '(':
			depth++
			i++
		case c == ')':
			if depth == 0 {
				return nil, fmt.Errorf("line %d: unexpected ')'", lineOf(i))
			}
			depth--
			i++
		case c == ';' && depth == 0 && (!sawBegin || blocks == 0):
			emit(i + 1)
			i++
		case isWordByte(c) && (i == 0 || !isWordByte(src[i-1])):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			switch word := strings.ToUpper(src[i:j]); {
			case word == "TRIGGER" && isCreateTrigger(src[start:i]):
				trigger = true
			case word == "BEGIN" && (trigger || sawBegin || reAtomic.MatchString(src[j:])):
				sawBegin = true
				blocks++
			case sawBegin && word == "CASE":
				blocks++
			case sawBegin && word == "END" && blocks > 0:
				blocks--
			}
			i = j
		default:
			i++
		}
	}
	if depth > 0 {
		return nil, fmt.Errorf("line %d: unclosed '('", lineOf(start))
	}
	if sawBegin && blocks > 0 {
		return nil, fmt.Errorf("line %d: BEGIN without END", lineOf(start))
	}
	emit(len(src))
	return stmts, nil
}

var reAtomic = regexp.MustCompile(`(?i)^\s+ATOMIC\b`)

var reCreateTrigger = regexp.MustCompile(`(?is)^\s*CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?$`)

// isCreateTrigger reports whether the words before TRIGGER make a CREATE TRIGGER.
func isCreateTrigger(before string) bool { return reCreateTrigger.MatchString(before) }

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
