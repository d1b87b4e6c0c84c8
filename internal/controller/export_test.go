package controller

import (
	"context"

	"github.com/rhizoflex/rhizoflex/ent"
)

// CheckOne exposes one controller's check to the tests, so that several checkers can act
// on the same (stale) view of its row, as overlapping rounds on two instances would.
func (s *Service) CheckOne(ctx context.Context, st *ent.ControllerStatus) error {
	return s.checkOne(ctx, st, s.now())
}
