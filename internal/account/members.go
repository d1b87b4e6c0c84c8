package account

import (
	"context"
	"fmt"
	"strings"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/membership"
	"github.com/rhizoflex/rhizoflex/ent/organization"
	"github.com/rhizoflex/rhizoflex/ent/user"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// ErrNoOrganization is the NOT_FOUND error for an organization called name that does not
// exist or that the viewer may not see (the two answers are the same).
func ErrNoOrganization(name string) error {
	return fault.New(fault.NotFound, "no organization %s", name)
}

// OrganizationByName returns the organization called name.
func OrganizationByName(ctx context.Context, client *ent.Client, name string) (*ent.Organization, error) {
	o, err := client.Organization.Query().Where(organization.Name(name)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNoOrganization(name)
	}
	if err != nil {
		return nil, fmt.Errorf("look up organization %s: %w", name, err)
	}
	return o, nil
}

// UserByEmail returns the live user with that e-mail address.
func UserByEmail(ctx context.Context, client *ent.Client, email string) (*ent.User, error) {
	u, err := client.User.Query().Where(user.Email(strings.ToLower(strings.TrimSpace(email))), user.Deleted(false)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fault.New(fault.NotFound, "no user %s", email)
	}
	if err != nil {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	return u, nil
}

// Organizations lists organizations by name: all of them when all is set (system admins),
// otherwise those userID belongs to.
func Organizations(ctx context.Context, client *ent.Client, userID int, all bool) ([]*ent.Organization, error) {
	q := client.Organization.Query().Order(ent.Asc(organization.FieldName))
	if !all {
		q = q.Where(organization.HasMembershipsWith(membership.UserID(userID)))
	}
	orgs, err := q.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	return orgs, nil
}

// IsMember reports whether userID belongs to organization orgID.
func IsMember(ctx context.Context, client *ent.Client, orgID, userID int) (bool, error) {
	ok, err := client.Membership.Query().Where(membership.OrganizationID(orgID), membership.UserID(userID)).Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("look up membership: %w", err)
	}
	return ok, nil
}

// Members lists the memberships of an organization, admins first.
func Members(ctx context.Context, client *ent.Client, orgID int) ([]*ent.Membership, error) {
	ms, err := client.Membership.Query().Where(membership.OrganizationID(orgID)).
		Order(ent.Desc(membership.FieldIsAdmin), ent.Asc(membership.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return ms, nil
}

// SetMemberAdmin promotes or demotes a member. The last org admin cannot be demoted.
func SetMemberAdmin(ctx context.Context, client *ent.Client, orgID, userID int, isAdmin bool) (*ent.Membership, error) {
	var out *ent.Membership
	err := database.WithTx(ctx, client, func(tx *ent.Tx) error {
		c := tx.Client()
		m, err := membershipOf(ctx, c, orgID, userID)
		if err != nil {
			return err
		}
		if m.IsAdmin && !isAdmin {
			if err := keepOneAdmin(ctx, c, orgID); err != nil {
				return err
			}
		}
		out, err = m.Update().SetIsAdmin(isAdmin).Save(ctx)
		if err != nil {
			return fmt.Errorf("update membership: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// RemoveMember removes a user from an organization. The last org admin cannot be removed.
func RemoveMember(ctx context.Context, client *ent.Client, orgID, userID int) error {
	return database.WithTx(ctx, client, func(tx *ent.Tx) error {
		c := tx.Client()
		m, err := membershipOf(ctx, c, orgID, userID)
		if err != nil {
			return err
		}
		if m.IsAdmin {
			if err := keepOneAdmin(ctx, c, orgID); err != nil {
				return err
			}
		}
		if err := c.Membership.DeleteOne(m).Exec(ctx); err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
		return nil
	})
}

func membershipOf(ctx context.Context, c *ent.Client, orgID, userID int) (*ent.Membership, error) {
	m, err := c.Membership.Query().Where(membership.OrganizationID(orgID), membership.UserID(userID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fault.New(fault.NotFound, "that user is not a member")
	}
	if err != nil {
		return nil, fmt.Errorf("look up membership: %w", err)
	}
	return m, nil
}

func keepOneAdmin(ctx context.Context, c *ent.Client, orgID int) error {
	n, err := c.Membership.Query().Where(membership.OrganizationID(orgID), membership.IsAdmin(true)).Count(ctx)
	if err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	if n <= 1 {
		return fault.New(fault.Conflict, "the last organization admin cannot be removed or demoted")
	}
	return nil
}
