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
