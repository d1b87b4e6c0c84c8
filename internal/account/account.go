// Package account manages users, organizations and memberships. It may import ent,
// internal/access (passwords), internal/tree, internal/database, internal/fault.
package account

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/membership"
	"github.com/rhizoflex/rhizoflex/ent/organization"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/ent/revision"
	"github.com/rhizoflex/rhizoflex/ent/user"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// NormalizeEmail trims and lower-cases an e-mail address and checks its form.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || !strings.Contains(e, "@") {
		return "", fault.New(fault.BadInput, "%q is not an e-mail address", email)
	}
	return e, nil
}

// NewUser describes a user to create.
type NewUser struct {
	Email       string
	UserName    string
	FullName    string
	Password    string
	SystemAdmin bool
}

// CreateUser creates a user with a hashed password.
func CreateUser(ctx context.Context, client *ent.Client, u NewUser, params access.PasswordParams) (*ent.User, error) {
	email, err := NormalizeEmail(u.Email)
	if err != nil {
		return nil, err
	}
	if len(u.Password) < access.MinPasswordLength {
		return nil, fault.New(fault.BadInput, "password must have at least %d characters", access.MinPasswordLength)
	}
	hash, err := access.HashPassword(u.Password, params)
	if err != nil {
		return nil, err
	}
	create := client.User.Create().SetEmail(email).SetFullName(u.FullName).
		SetPasswordHash(hash).SetSystemAdmin(u.SystemAdmin)
	if u.UserName != "" {
		create.SetUserName(u.UserName)
	}
	created, err := create.Save(ctx)
	switch {
	case ent.IsConstraintError(err):
		return nil, fault.Wrap(err, fault.Conflict, "a user with that e-mail or user name already exists")
	case ent.IsValidationError(err):
		return nil, fault.Wrap(err, fault.BadInput, "invalid user: %s", err.Error())
	case err != nil:
		return nil, fmt.Errorf("create user %s: %w", email, err)
	}
	return created, nil
}

// EnsureAdmin creates a system admin, or, when the e-mail is taken, sets that user's
// password and makes it a system admin. It reports whether the user was created.
func EnsureAdmin(ctx context.Context, client *ent.Client, email, password string, params access.PasswordParams) (*ent.User, bool, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return nil, false, err
	}
	existing, err := client.User.Query().Where(user.Email(norm)).Only(ctx)
	if ent.IsNotFound(err) {
		u, err := CreateUser(ctx, client, NewUser{Email: norm, Password: password, SystemAdmin: true}, params)
		return u, err == nil, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("look up user %s: %w", norm, err)
	}
	if len(password) < access.MinPasswordLength {
		return nil, false, fault.New(fault.BadInput, "password must have at least %d characters", access.MinPasswordLength)
	}
	hash, err := access.HashPassword(password, params)
	if err != nil {
		return nil, false, err
	}
	u, err := existing.Update().SetPasswordHash(hash).SetSystemAdmin(true).SetDeleted(false).Save(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("update user %s: %w", norm, err)
	}
	return u, false, nil
}

// CreateOrganization creates an organization and its organization folder in one
// transaction.
func CreateOrganization(ctx context.Context, client *ent.Client, name, fullName string) (*ent.Organization, error) {
	if err := tree.ValidateName(name); err != nil {
		return nil, err
	}
	var org *ent.Organization
	err := database.WithTx(ctx, client, func(tx *ent.Tx) error {
		c := tx.Client()
		taken, err := c.Organization.Query().Where(organization.Name(name)).Exist(ctx)
		if err != nil {
			return fmt.Errorf("check organization %s: %w", name, err)
		}
		if taken {
			return fault.New(fault.Conflict, "organization %s already exists", name)
		}
		o, err := c.Organization.Create().SetName(name).SetFullName(fullName).Save(ctx)
		if err != nil {
			if ent.IsConstraintError(err) {
				return fault.Wrap(err, fault.Conflict, "organization %s already exists", name)
			}
			return fmt.Errorf("create organization %s: %w", name, err)
		}
		folder, err := tree.CreateTx(ctx, c, tree.CreateParams{Path: tree.JoinPath(name), Type: tree.OrganizationFolder})
		if err != nil {
			return err
		}
		if err := c.Resource.UpdateOne(folder).SetOrganizationID(o.ID).Exec(ctx); err != nil {
			return fmt.Errorf("link organization folder: %w", err)
		}
		org, err = c.Organization.UpdateOne(o).SetFolderID(folder.ID).Save(ctx)
		if err != nil {
			return fmt.Errorf("link organization folder: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return org.Unwrap(), nil
}

// DeleteOrganization deletes an organization and its (empty) folder. It is refused with
// CONFLICT while the organization holds any resource: data is never dropped implicitly.
func DeleteOrganization(ctx context.Context, client *ent.Client, orgID int) error {
	return database.WithTx(ctx, client, func(tx *ent.Tx) error {
		c := tx.Client()
		org, err := c.Organization.Get(ctx, orgID)
		if ent.IsNotFound(err) {
			return fault.New(fault.NotFound, "organization %d does not exist", orgID)
		}
		if err != nil {
			return fmt.Errorf("load organization %d: %w", orgID, err)
		}
		q := c.Resource.Query().Where(resource.OrganizationID(orgID))
		if org.FolderID != nil {
			q = q.Where(resource.IDNEQ(*org.FolderID))
		}
		n, err := q.Count(ctx)
		if err != nil {
			return fmt.Errorf("count resources of %s: %w", org.Name, err)
		}
		if n > 0 {
			return fault.New(fault.Conflict, "organization %s still holds %d resources; delete them first", org.Name, n)
		}
		folderID := org.FolderID
		if folderID != nil {
			// The folder and the organization point at each other; unlink first.
			if err := c.Resource.UpdateOneID(*folderID).ClearOrganizationID().Exec(ctx); err != nil {
				return fmt.Errorf("unlink folder of %s: %w", org.Name, err)
			}
		}
		if err := c.Organization.DeleteOne(org).Exec(ctx); err != nil {
			return fmt.Errorf("delete organization %s: %w", org.Name, err)
		}
		if folderID != nil {
			// revisions.resource_id is no foreign key (ent/schema/revision.go): a folder
			// holds no values, but whatever it holds goes with it.
			if _, err := c.Revision.Delete().Where(revision.ResourceID(*folderID)).Exec(ctx); err != nil {
				return fmt.Errorf("delete values of the folder of %s: %w", org.Name, err)
			}
			if err := c.Resource.DeleteOneID(*folderID).Exec(ctx); err != nil {
				return fmt.Errorf("delete folder of %s: %w", org.Name, err)
			}
		}
		return nil
	})
}

// AddMember adds user to org (or updates the admin flag of an existing membership).
func AddMember(ctx context.Context, client *ent.Client, orgID, userID int, isAdmin bool) (*ent.Membership, error) {
	existing, err := client.Membership.Query().
		Where(membership.OrganizationID(orgID), membership.UserID(userID)).Only(ctx)
	if err == nil {
		return existing.Update().SetIsAdmin(isAdmin).Save(ctx)
	}
	if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("look up membership: %w", err)
	}
	m, err := client.Membership.Create().SetOrganizationID(orgID).SetUserID(userID).SetIsAdmin(isAdmin).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, fault.Wrap(err, fault.NotFound, "no such user or organization")
	}
	if err != nil {
		return nil, fmt.Errorf("add member: %w", err)
	}
	return m, nil
}
