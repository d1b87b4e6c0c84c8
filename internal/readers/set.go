package readers

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Set is the reader sources of one directory: every `*.dsdf` and `*.json` below it, by id (the path
// relative to the directory without the extension, or the file's `localId`). A bad file
// is reported and left out; it never stops the others.
type Set struct {
	dir string

	mu     sync.RWMutex
	defs   map[string]*Definition
	dirs   map[string]string // directory id -> description from _dirinfo_.dsdf
	errs   []error
	loaded time.Time
}

// idPattern is what a source id may hold: it becomes part of URLs and cache paths.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*(/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*$`)

// Load reads every definition below dir. An unreadable dir is an error; bad files are
// not (see Errors).
func Load(dir string) (*Set, error) {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs // readers run in their definition's directory: keep paths absolute
	}
	s := &Set{dir: dir}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir is the directory the set reads.
func (s *Set) Dir() string { return s.dir }

// Reload reads the directory again and swaps in what it finds.
func (s *Set) Reload() error {
	defs, dirs, errs, err := loadDir(s.dir)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.defs, s.dirs, s.errs, s.loaded = defs, dirs, errs, time.Now()
	s.mu.Unlock()
	return nil
}

func loadDir(dir string) (map[string]*Definition, map[string]string, []error, error) {
	defs := map[string]*Definition{}
	dirs := map[string]string{}
	var errs []error
	info, err := os.Stat(dir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("sources directory: %w", err)
	}
	if !info.IsDir() {
		return nil, nil, nil, fmt.Errorf("sources directory %s is not a directory", dir)
	}
	files := map[string]string{} // id -> file, to report duplicates
	walkErr := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, &Error{File: path, Msg: err.Error()})
			return nil //nolint:nilerr // an unreadable entry is reported; the others still load
		}
		ext := filepath.Ext(d.Name())
		if d.IsDir() || ext != ".dsdf" && ext != ".json" {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		def, err := loadFile(path, strings.TrimSuffix(rel, ext))
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if d.Name() == "_dirinfo_.dsdf" {
			dirs[filepath.ToSlash(filepath.Dir(rel))] = def.Description
			return nil
		}
		if prev, ok := files[def.ID]; ok {
			errs = append(errs, &Error{File: path, Key: "localId", Msg: fmt.Sprintf("source id %q is already defined by %s", def.ID, prev)})
			return nil
		}
		files[def.ID] = path
		defs[def.ID] = def
		return nil
	})
	if walkErr != nil {
		return nil, nil, nil, fmt.Errorf("reading sources directory: %w", walkErr)
	}
	return defs, dirs, errs, nil
}

// loadFile reads one definition; _dirinfo_ files need only a description.
func loadFile(path, id string) (*Definition, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	defer func() { _ = f.Close() }()
	var (
		d    *DSDF
		tmpl []templateWord
	)
	if filepath.Ext(path) == ".json" {
		d, tmpl, err = ParseJSONSource(path, f)
	} else {
		d, err = ParseDSDF(path, f)
	}
	if err != nil {
		return nil, err
	}
	if filepath.Base(path) == "_dirinfo_.dsdf" {
		desc, _ := d.Get("description")
		return &Definition{File: path, Description: desc, DSDF: d}, nil
	}
	if e, ok := d.Entry("localId"); ok {
		id = strings.TrimSpace(e.Value)
		if !idPattern.MatchString(id) || strings.Contains(id, "..") {
			return nil, &Error{File: path, Line: e.Line, Key: e.Key, Msg: fmt.Sprintf("%q is not a valid source id", id)}
		}
	} else if !idPattern.MatchString(id) || strings.Contains(id, "..") {
		return nil, &Error{File: path, Msg: fmt.Sprintf("the file name gives source id %q, which holds characters a URL cannot carry; rename it or set localId", id)}
	}
	def, err := Define(id, d)
	if err != nil {
		return nil, err
	}
	if tmpl != nil {
		def.template, def.Reader = tmpl, []string{tmpl[0][0].lit}
	}
	return def, nil
}

// Get returns the source with exactly this id.
func (s *Set) Get(id string) (*Definition, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.defs[id]
	return d, ok
}

// List returns every loaded source, by id.
func (s *Set) List() []*Definition {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Definition, 0, len(s.defs))
	for _, d := range s.defs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// DirDescription returns the description a directory's _dirinfo_.dsdf gives.
func (s *Set) DirDescription(dir string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.dirs[dir]
	return d, ok
}

// Errors returns one error per file that could not be loaded, by file.
func (s *Set) Errors() []error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := append([]error(nil), s.errs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Error() < out[j].Error() })
	return out
}

// Watch reloads the set when a file below its directory changes, until ctx ends; a
// burst of changes (an editor saving, a deploy copying files) reloads once. Each reload
// logs the count of sources and every bad file.
func (s *Set) Watch(ctx context.Context, log *slog.Logger) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching sources: %w", err)
	}
	addTree := func() {
		_ = filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = w.Add(path)
			}
			return nil
		})
	}
	addTree()
	go func() {
		defer func() { _ = w.Close() }()
		var debounce <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if ev.Has(fsnotify.Create) {
					addTree() // new subdirectories
				}
				debounce = time.After(200 * time.Millisecond)
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				log.Warn("watching sources", "dir", s.dir, "err", err)
			case <-debounce:
				debounce = nil
				if err := s.Reload(); err != nil {
					log.Error("reloading sources", "err", err)
					continue
				}
				s.LogState(log)
			}
		}
	}()
	return nil
}

// LogState logs how many sources are loaded and one line per bad file.
func (s *Set) LogState(log *slog.Logger) {
	errs := s.Errors()
	log.Info("reader sources loaded", "dir", s.dir, "sources", len(s.List()), "bad_files", len(errs))
	for _, e := range errs {
		log.Warn("bad source definition", "err", e.Error())
	}
}
