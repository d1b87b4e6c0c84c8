package access

import (
	"context"
	"fmt"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/permission"
	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// Grantee is who a permission is granted to: a user, an organization, or the public.
type Grantee struct {
	UserID         *int
	OrganizationID *int
	Public         bool
}

// Grant gives grantee level on r (and everything below it). The viewer needs admin access
// on r. Granting again replaces the level.
func (a *Authorizer) Grant(ctx context.Context, v *Viewer, r *ent.Resource, g Grantee, level Level) (*ent.Permission, error) {
	if err := a.Require(ctx, v, r, Admin); err != nil {
		return nil, err
	}
	set := 0
	q := a.client.Permission.Query().Where(permission.ResourceID(r.ID))
	create := a.client.Permission.Create().SetResourceID(r.ID).SetLevel(permission.Level(level.String()))
	if g.UserID != nil {
		set++
		q = q.Where(permission.GranteeTypeEQ(permission.GranteeTypeUser), permission.UserID(*g.UserID))
		create.SetGranteeType(permission.GranteeTypeUser).SetUserID(*g.UserID)
	}
	if g.OrganizationID != nil {
		set++
		q = q.Where(permission.GranteeTypeEQ(permission.GranteeTypeOrganization), permission.OrganizationID(*g.OrganizationID))
		create.SetGranteeType(permission.GranteeTypeOrganization).SetOrganizationID(*g.OrganizationID)
	}
	if g.Public {
		set++
		q = q.Where(permission.GranteeTypeEQ(permission.GranteeTypePublic))
		create.SetGranteeType(permission.GranteeTypePublic)
	}
	if set != 1 {
		return nil, fault.New(fault.BadInput, "grant to exactly one of a user, an organization or the public")
	}
	if level == None {
		return nil, fault.New(fault.BadInput, "level must be read, write or admin")
	}
	existing, err := q.First(ctx)
	switch {
	case err == nil:
		p, err := existing.Update().SetLevel(permission.Level(level.String())).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("update grant: %w", err)
		}
		return p, nil
	case !ent.IsNotFound(err):
		return nil, fmt.Errorf("look up grant: %w", err)
	}
	p, err := create.Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, fault.Wrap(err, fault.NotFound, "no such user or organization")
	}
	if err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	return p, nil
}

// Revoke removes a permission; the viewer needs admin access on its resource.
func (a *Authorizer) Revoke(ctx context.Context, v *Viewer, permissionID int) error {
	p, err := a.client.Permission.Get(ctx, permissionID)
	if ent.IsNotFound(err) {
		return fault.New(fault.NotFound, "no permission %d", permissionID)
	}
	if err != nil {
		return fmt.Errorf("load permission: %w", err)
	}
	r, err := a.client.Resource.Get(ctx, p.ResourceID)
	if err != nil {
		return fmt.Errorf("load resource: %w", err)
	}
	if err := a.Require(ctx, v, r, Admin); err != nil {
		if fault.Is(err, fault.NotFound) {
			// Found by id: the message must not name the hidden resource.
			return fault.Wrap(err, fault.NotFound, "no permission %d", permissionID)
		}
		return err
	}
	if err := a.client.Permission.DeleteOne(p).Exec(ctx); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	return nil
}

// Permissions lists the grants on r; the viewer needs admin access on r.
func (a *Authorizer) Permissions(ctx context.Context, v *Viewer, r *ent.Resource) ([]*ent.Permission, error) {
	if err := a.Require(ctx, v, r, Admin); err != nil {
		return nil, err
	}
	ps, err := a.client.Permission.Query().Where(permission.ResourceID(r.ID)).Order(ent.Asc(permission.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list permissions: %w", err)
	}
	return ps, nil
}
