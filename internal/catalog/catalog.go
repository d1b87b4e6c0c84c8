// Package catalog is every das data source a viewer may read, whatever stores it:
// numeric sequences (internal/sources) and reader programs (internal/readers). It
// implements the HAPI server's Catalog over both, authorizing each through the one
// authorizer. Reader sources take precedence over a sequence with the same id, so a
// sequence can never pose as an operator-defined source.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/hapi"
	"github.com/rhizoflex/rhizoflex/internal/readers"
	"github.com/rhizoflex/rhizoflex/internal/sources"
	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// Catalog joins sequences and reader sources.
type Catalog struct {
	Sequences *sources.Service
	// Authorize decides sequence reads (the das endpoints' rule).
	Authorize sources.AuthorizeFunc
	Authz     *access.Authorizer
	Readers   *readers.Set // nil: no reader sources
	Runner    *readers.Runner
	Cache     *readers.Cache // nil: no cache
	Now       func() time.Time

	headers sync.Map // *readers.Definition -> []*das.Dataset
}

var (
	_ hapi.Catalog          = (*Catalog)(nil)
	_ sources.ReaderSources = (*Catalog)(nil)
)

func (c *Catalog) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Reader returns the reader source id names, if there is one.
func (c *Catalog) Reader(id string) (*readers.Definition, bool) {
	if c.Readers == nil {
		return nil, false
	}
	return c.Readers.Get(id)
}

// ReaderList returns every reader source, by id.
func (c *Catalog) ReaderList() []*readers.Definition {
	if c.Readers == nil {
		return nil
	}
	return c.Readers.List()
}

// ReaderAccess decides what the request's viewer may read of a reader source.
func (c *Catalog) ReaderAccess(ctx context.Context, def *readers.Definition) (access.SourceDecision, error) {
	rules := make([]access.SourceRule, 0, len(def.ReadAccess))
	for _, r := range def.ReadAccess {
		rules = append(rules, access.SourceRule{Kind: string(r.Kind), Name: r.Name, Age: r.Age})
	}
	return c.Authz.SourceAccess(ctx, access.ViewerFrom(ctx), rules, c.now())
}

// List returns the sources the request's viewer may read: reader sources, then
// sequences, each by id.
func (c *Catalog) List(ctx context.Context, _ *http.Request) ([]hapi.Entry, error) {
	var out []hapi.Entry
	taken := map[string]bool{}
	if c.Readers != nil {
		for _, def := range c.Readers.List() {
			d, err := c.ReaderAccess(ctx, def)
			if err != nil {
				return nil, err
			}
			if d.Visible() {
				out = append(out, hapi.Entry{ID: def.ID, Title: def.Description})
			}
			taken[def.ID] = true
		}
	}
	seqs, err := c.Sequences.List(ctx, access.ViewerFrom(ctx))
	if err != nil {
		return nil, err
	}
	for _, s := range seqs {
		if !taken[s.ID] {
			out = append(out, hapi.Entry{ID: s.ID, Title: s.Description()})
		}
	}
	return out, nil
}

// hapiError maps an authorization failure to the HAPI sentinels.
func hapiError(err error) error {
	switch fault.CodeOf(err) {
	case fault.Unauthenticated:
		return hapi.ErrUnauthorized
	case fault.NotFound, fault.Forbidden, fault.BadInput:
		return hapi.ErrNotFound
	}
	return err
}

// Describe returns one source's HAPI description.
func (c *Catalog) Describe(ctx context.Context, r *http.Request, id string) (*hapi.Dataset, error) {
	if def, ok := c.Reader(id); ok {
		return c.describeReader(ctx, def)
	}
	src, err := c.Sequences.Resolve(ctx, r, id, c.Authorize)
	if err != nil {
		return nil, hapiError(err)
	}
	hdr, err := sources.Dataset(src)
	if err != nil {
		return nil, err
	}
	ds := &hapi.Dataset{ID: src.ID, Title: src.Description(), Header: hdr}
	first, last, ok, err := c.Sequences.Coverage(ctx, src)
	if err != nil {
		return nil, err
	}
	if ok {
		ds.Start = first.Truncate(time.Second)
		ds.SampleStart, ds.SampleStop = last.Add(-24*time.Hour).Truncate(time.Second), last.Add(time.Second).Truncate(time.Second)
		if ds.SampleStart.Before(ds.Start) {
			ds.SampleStart = ds.Start
		}
	} else {
		ds.Start = c.now().Add(-24 * time.Hour).Truncate(time.Second)
	}
	if !src.PublicBefore.IsZero() {
		ds.Stop = src.PublicBefore
		if ds.SampleStop.After(ds.Stop) {
			ds.SampleStart, ds.SampleStop = time.Time{}, time.Time{}
		}
	}
	return ds, nil
}

func (c *Catalog) describeReader(ctx context.Context, def *readers.Definition) (*hapi.Dataset, error) {
	d, err := c.ReaderAccess(ctx, def)
	if err != nil {
		return nil, err
	}
	if !d.Visible() {
		if access.ViewerFrom(ctx).Anonymous() {
			return nil, hapi.ErrUnauthorized
		}
		return nil, hapi.ErrNotFound
	}
	ds := &hapi.Dataset{ID: def.ID, Title: def.Description}
	if lo, hi, ok := parseRange(def.ValidRange); ok {
		ds.Start, ds.Stop = lo, hi
	}
	if lo, hi, ok := parseRange(def.Examples[0].Range); ok && !hi.IsZero() {
		ds.SampleStart, ds.SampleStop = lo, hi
		if ds.Start.IsZero() {
			ds.Start = lo
		}
	}
	if !d.All {
		ds.Stop = d.PublicBefore
	}
	hdrs, err := c.readerHeaders(ctx, def)
	if err != nil {
		return nil, err
	}
	ds.Header, ds.Others = hdrs[0], hdrs[1:]
	return ds, nil
}

// headerQuiet is how many records of a header-learning run may follow the last new
// packet ID before the run is stopped.
const headerQuiet = 10000

// readerHeaders learns a reader's dataset headers (one per packet ID, in stream order)
// from a run over its first example range, once per loaded definition.
func (c *Catalog) readerHeaders(ctx context.Context, def *readers.Definition) ([]*das.Dataset, error) {
	if h, ok := c.headers.Load(def); ok {
		return h.([]*das.Dataset), nil //nolint:forcetypeassert // only headers are stored
	}
	lo, hi, ok := parseRange(def.Examples[0].Range)
	if !ok || hi.IsZero() {
		return nil, fmt.Errorf("source %s: example range %q is not START to END", def.ID, def.Examples[0].Range)
	}
	// A short piece of the example is enough for the header.
	if hi.Sub(lo) > time.Hour {
		hi = lo.Add(time.Hour)
	}
	req := readers.Request{Start: readers.ReaderTime(lo), End: readers.ReaderTime(hi), Params: def.Examples[0].Params, RequestID: "header"}
	hdrs, err := hapi.Headers(func(sink das.Sink) error {
		_, err := readers.Stream(ctx, c.Runner, def, req, sink)
		return err
	}, headerQuiet)
	if err != nil {
		return nil, fmt.Errorf("source %s: learning its parameters from the example range: %w", def.ID, busy(err))
	}
	c.headers.Store(def, hdrs)
	return hdrs, nil
}

// Stream writes the records of [start, stop) of source id to sink.
func (c *Catalog) Stream(ctx context.Context, r *http.Request, id string, start, stop time.Time, sink das.Sink) error {
	if def, ok := c.Reader(id); ok {
		d, err := c.ReaderAccess(ctx, def)
		if err != nil {
			return err
		}
		if !d.Allows(stop) {
			if !d.Visible() || access.ViewerFrom(ctx).Anonymous() {
				return hapiError(fault.New(fault.Unauthenticated, "sign in to read %s", id))
			}
			return hapi.ErrNotFound
		}
		return busy(c.StreamReader(ctx, def, readers.Request{Start: readers.ReaderTime(start), End: readers.ReaderTime(stop)}, start, stop, 0, sink))
	}
	src, err := c.Sequences.Resolve(ctx, r, id, c.Authorize)
	if err != nil {
		return hapiError(err)
	}
	if !src.PublicBefore.IsZero() && stop.After(src.PublicBefore) {
		if access.ViewerFrom(ctx).Anonymous() {
			return hapi.ErrUnauthorized
		}
		return hapi.ErrNotFound
	}
	_, err = c.Sequences.Stream(ctx, src, sources.Read{Min: hapi.ToDas(start), Max: hapi.ToDas(stop)}, &noClose{sink}, das.ExceptionType3)
	return err
}

// StreamReader runs a reader source for req into sink: from the cache when a level serves
// resolution res (0: the reader's own), else from the reader. A reader that writes nothing
// is no data, not an error; a full house is a *readers.BusyError.
func (c *Catalog) StreamReader(ctx context.Context, def *readers.Definition, req readers.Request, start, stop time.Time, res time.Duration, sink das.Sink) error {
	if c.Cache != nil {
		if level, ok := readers.Choose(def, req.Params, res); ok {
			_, err := c.Cache.Serve(ctx, def, level, start, stop, req.Params, sink)
			return err
		}
	}
	_, err := readers.Stream(ctx, c.Runner, def, req, sink)
	if errors.Is(err, readers.ErrNoOutput) {
		return nil
	}
	return err
}

// busy turns the runner's BusyError into the HAPI one (503 with Retry-After).
func busy(err error) error {
	var be *readers.BusyError
	if errors.As(err, &be) {
		return &hapi.BusyError{RetryAfter: be.RetryAfter}
	}
	return err
}

// noClose keeps Service.Stream from closing the HAPI writer (the handler closes it).
type noClose struct{ das.Sink }

func (noClose) Close() error { return nil }

// parseRange reads a DSDF range `START to END [UTC]`; END `now` gives a zero hi.
func parseRange(s string) (lo, hi time.Time, ok bool) {
	a, b, found := strings.Cut(s, " to ")
	if !found {
		return lo, hi, false
	}
	b = strings.TrimSpace(b)
	if f := strings.Fields(b); len(f) > 1 && strings.EqualFold(f[len(f)-1], "UTC") {
		b = strings.Join(f[:len(f)-1], " ")
	}
	t0, err := dastime.ParseString(strings.TrimSpace(a))
	if err != nil {
		return lo, hi, false
	}
	lo = readers.GoTime(t0)
	if strings.EqualFold(b, "now") {
		return lo, time.Time{}, true
	}
	t1, err := dastime.ParseString(b)
	if err != nil {
		return lo, hi, false
	}
	return lo, readers.GoTime(t1), true
}

// WriteReader streams a reader source for req into w in format opt without an access
// check (the self-check runs as the server), closing the writer at the end.
func (c *Catalog) WriteReader(ctx context.Context, def *readers.Definition, req readers.Request, start, stop time.Time, w io.Writer, opt convert.Options) error {
	sink, err := convert.NewWriter(w, opt)
	if err != nil {
		return err
	}
	if err := c.StreamReader(ctx, def, req, start, stop, 0, sink); err != nil {
		return err
	}
	return sink.Close()
}
