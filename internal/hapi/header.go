package hapi

import (
	"errors"
	"fmt"

	"github.com/rhizoflex/rhizoflex/streams/das"
)

// errHeaderFound stops a stream once its first dataset header is read.
var errHeaderFound = errors.New("hapi: header found")

// ErrNoHeader reports a stream that ended without a dataset header.
var ErrNoHeader = errors.New("hapi: stream has no dataset header")

// headerSink keeps the first dataset header and stops the stream.
type headerSink struct{ ds *das.Dataset }

func (s *headerSink) Stream(*das.Stream) error { return nil }
func (s *headerSink) Dataset(ds *das.Dataset) error {
	s.ds = ds.Clone()
	return errHeaderFound
}
func (s *headerSink) Record(*das.Record) error       { return nil }
func (s *headerSink) Comment(*das.Comment) error     { return nil }
func (s *headerSink) Exception(*das.Exception) error { return nil }
func (s *headerSink) Close() error                   { return nil }

// FirstHeader runs a stream into a sink that keeps its first dataset header and
// stops it there: how a Catalog can learn a reader's parameters (Dataset.Header)
// from an example run. run must return the sink's error when a sink call fails.
func FirstHeader(run func(das.Sink) error) (*das.Dataset, error) {
	s := &headerSink{}
	err := run(s)
	if s.ds != nil {
		return s.ds, nil
	}
	if err != nil && !errors.Is(err, errHeaderFound) {
		return nil, fmt.Errorf("hapi: first header: %w", err)
	}
	return nil, ErrNoHeader
}

// headersSink keeps the first header of every packet ID and stops the stream once
// quiet records have arrived since the last new one.
type headersSink struct {
	hdrs  []*das.Dataset
	seen  [das.MaxID + 1]bool
	since int
	quiet int
}

func (s *headersSink) Stream(*das.Stream) error { return nil }
func (s *headersSink) Dataset(ds *das.Dataset) error {
	if ds.ID >= 0 && ds.ID <= das.MaxID && !s.seen[ds.ID] {
		s.seen[ds.ID] = true
		s.hdrs = append(s.hdrs, ds.Clone())
		s.since = 0
	}
	return nil
}
func (s *headersSink) Record(*das.Record) error {
	s.since++
	if s.since >= s.quiet {
		return errHeaderFound
	}
	return nil
}
func (s *headersSink) Comment(*das.Comment) error     { return nil }
func (s *headersSink) Exception(*das.Exception) error { return nil }
func (s *headersSink) Close() error                   { return nil }

// Headers runs a stream into a sink that keeps the first header of each packet ID, in
// the order they come, stopping it once quiet records came after the last new header
// (or at its end): how a Catalog learns the parameters of a reader that writes several
// packet types (Dataset.Header and Dataset.Others). run must return the sink's error
// when a sink call fails.
func Headers(run func(das.Sink) error, quiet int) ([]*das.Dataset, error) {
	s := &headersSink{quiet: max(quiet, 1)}
	err := run(s)
	if err != nil && !errors.Is(err, errHeaderFound) && len(s.hdrs) == 0 {
		return nil, fmt.Errorf("hapi: headers: %w", err)
	}
	if len(s.hdrs) == 0 {
		return nil, ErrNoHeader
	}
	return s.hdrs, nil
}
