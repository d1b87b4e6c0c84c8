package hapi_test

import (
	"context"
	"net/http"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/hapi"
	"github.com/rhizoflex/rhizoflex/streams/das"
)

// emptyCatalog has no datasets.
type emptyCatalog struct{}

func (emptyCatalog) List(context.Context, *http.Request) ([]hapi.Entry, error) { return nil, nil }
func (emptyCatalog) Describe(context.Context, *http.Request, string) (*hapi.Dataset, error) {
	return nil, hapi.ErrNotFound
}
func (emptyCatalog) Stream(context.Context, *http.Request, string, time.Time, time.Time, das.Sink) error {
	return hapi.ErrNotFound
}

// Mount the handler on both /hapi (the landing page) and the /hapi/ tree.
func ExampleNew() {
	h := hapi.New(emptyCatalog{}, hapi.Options{ID: "example", Title: "Example data", Contact: "ops@example.org"})
	mux := http.NewServeMux()
	mux.Handle("/hapi", h)
	mux.Handle("/hapi/", h)
	_ = mux
	// Output:
}
