package sources

import (
	"context"
	"net/http"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// Resolve finds the source at id and authorizes the request's viewer for it, as the das
// endpoints do: a hidden source is an error exactly like a missing one (NOT_FOUND, or
// UNAUTHENTICATED for an anonymous viewer), an embargoed one (publicAfter) is returned
// with PublicBefore set. Other programs' endpoints (HAPI) use it so that every face of a
// sequence is authorized alike.
func (s *Service) Resolve(ctx context.Context, r *http.Request, id string, authorize AuthorizeFunc) (Source, error) {
	res, err := s.Lookup(ctx, id)
	if err != nil && !fault.Is(err, fault.NotFound) && !fault.Is(err, fault.BadInput) {
		return Source{}, err
	}
	var missing error
	if err != nil || (!IsSource(res) && !isFolderSource(res)) {
		res, missing = nil, fault.New(fault.NotFound, "no data source %s", id)
	}
	err = authorize(r, res, missing)
	if err == nil {
		src, lerr := s.Load(ctx, res)
		if lerr == nil {
			return src, nil
		}
		if !fault.Is(lerr, fault.NotFound) {
			return Source{}, lerr
		}
		res, err = nil, authorize(r, nil, lerr)
	}
	if c := fault.CodeOf(err); res != nil && (c == fault.NotFound || c == fault.Unauthenticated) {
		if src, ok := Embargoed(res, time.Now()); ok {
			return src, nil
		}
	}
	return Source{}, err
}
