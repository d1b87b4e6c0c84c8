package tree

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/controllerstatus"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/ent/rollup"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// MaxPageSize bounds one page of children.
const MaxPageSize = 1000

// ChildrenQuery selects a page of a folder's children, ordered by name.
type ChildrenQuery struct {
	First  int
	After  string // cursor of the last child of the previous page
	Type   *Type
	Filter string // case-insensitive substring of the name
}

// ChildrenPage is one page of children.
type ChildrenPage struct {
	Resources []*ent.Resource
	HasNext   bool
}

// Cursor is a child's position in a children page.
func Cursor(r *ent.Resource) string { return base64.RawURLEncoding.EncodeToString([]byte(r.Name)) }

// Children returns a page of the live children of folder.
func Children(ctx context.Context, client *ent.Client, folder *ent.Resource, q ChildrenQuery) (*ChildrenPage, error) {
	if q.First < 0 || q.First > MaxPageSize {
		return nil, fault.New(fault.BadInput, "first must be between 0 and %d", MaxPageSize)
	}
	query := client.Resource.Query().
		Where(resource.ParentID(folder.ID), NotDeleted()).
		Order(ent.Asc(resource.FieldName)).Limit(q.First + 1)
	if q.After != "" {
		name, err := base64.RawURLEncoding.DecodeString(q.After)
		if err != nil {
			return nil, fault.New(fault.BadInput, "invalid cursor %q", q.After)
		}
		query = query.Where(resource.NameGT(string(name)))
	}
	if q.Type != nil {
		query = query.Where(resource.TypeEQ(*q.Type))
	}
	if q.Filter != "" {
		query = query.Where(resource.NameContainsFold(q.Filter))
	}
	rs, err := query.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("children of %s: %w", folder.Path, err)
	}
	page := &ChildrenPage{Resources: rs, HasNext: len(rs) > q.First}
	if page.HasNext {
		page.Resources = rs[:q.First]
	}
	return page, nil
}

// MaxDescendants bounds one descendants answer.
const MaxDescendants = 10000

// Descendants returns the live resources below r, at most depth levels down, ordered by
// path.
func Descendants(ctx context.Context, client *ent.Client, r *ent.Resource, depth int) ([]*ent.Resource, error) {
	if depth < 1 || depth > 100 {
		return nil, fault.New(fault.BadInput, "depth must be between 1 and 100")
	}
	rs, err := client.Resource.Query().
		Where(Below(r.Path), NotDeleted()).
		Order(ent.Asc(resource.FieldPath)).Limit(MaxDescendants + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("descendants of %s: %w", r.Path, err)
	}
	if len(rs) > MaxDescendants {
		return nil, fault.New(fault.BadInput, "%s has more than %d descendants; use children with paging", r.Path, MaxDescendants)
	}
	base := strings.Count(r.Path, "/")
	out := rs[:0]
	for _, d := range rs {
		if strings.Count(d.Path, "/")-base <= depth {
			out = append(out, d)
		}
	}
	return out, nil
}

// Ancestors returns the folders above r, top first.
func Ancestors(ctx context.Context, client *ent.Client, r *ent.Resource) ([]*ent.Resource, error) {
	var paths []string
	for p := ParentPath(r.Path); p != ""; p = ParentPath(p) {
		paths = append(paths, p)
	}
	if len(paths) == 0 {
		return []*ent.Resource{}, nil
	}
	rs, err := client.Resource.Query().
		Where(resource.PathIn(paths...), NotDeleted()).
		Order(ent.Asc(resource.FieldPath)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("ancestors of %s: %w", r.Path, err)
	}
	return rs, nil
}

// Rename gives r a new name; the paths of everything below it follow.
func Rename(ctx context.Context, client *ent.Client, r *ent.Resource, name string) (*ent.Resource, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if r.Type == OrganizationFolder {
		return nil, fault.New(fault.BadInput, "organization folders are renamed with the organization")
	}
	return relocate(ctx, client, r, r.ParentID, ParentPath(r.Path), name)
}

// Move puts r into the folder at newParentPath (keeping its name); everything below it
// follows. Moving a folder into itself or its own subtree is refused.
func Move(ctx context.Context, client *ent.Client, r *ent.Resource, newParent *ent.Resource) (*ent.Resource, error) {
	if r.Type == OrganizationFolder {
		return nil, fault.New(fault.BadInput, "organization folders cannot be moved")
	}
	if !IsContainer(newParent.Type) {
		return nil, fault.New(fault.BadInput, "%s is a %s, not a folder", newParent.Path, newParent.Type)
	}
	if newParent.ID == r.ID || strings.HasPrefix(newParent.Path+"/", r.Path+"/") {
		return nil, fault.New(fault.BadInput, "cannot move %s into itself", r.Path)
	}
	return relocate(ctx, client, r, &newParent.ID, newParent.Path, r.Name)
}

// relocate changes r's parent and/or name and rewrites the stored paths (and the
// organization, when moved across organizations) of r and its subtree in one transaction.
func relocate(ctx context.Context, client *ent.Client, r *ent.Resource, parentID *int, parentPath, name string) (*ent.Resource, error) {
	newPath := parentPath + "/" + name
	if newPath == r.Path {
		return r, nil
	}
	var out *ent.Resource
	err := database.WithTx(ctx, client, func(tx *ent.Tx) error {
		c := tx.Client()
		taken, err := c.Resource.Query().Where(resource.Path(newPath), NotDeleted()).Exist(ctx)
		if err != nil {
			return fmt.Errorf("check %s: %w", newPath, err)
		}
		if taken {
			return fault.New(fault.Conflict, "%s already exists", newPath)
		}
		var orgID *int
		if parentID != nil {
			p, err := c.Resource.Get(ctx, *parentID)
			if err != nil {
				return fmt.Errorf("load new parent: %w", err)
			}
			orgID = p.OrganizationID
		}
		oldPrefix := r.Path + "/"
		// Rewrite the subtree's paths with one statement; || and substr work on both databases.
		upd := c.Resource.Update().
			Where(Below(r.Path)).
			Modify(func(u *entsql.UpdateBuilder) {
				u.Set(resource.FieldPath, entsql.ExprFunc(func(b *entsql.Builder) {
					b.Arg(newPath + "/").WriteString(" || substr(").Ident(resource.FieldPath).
						WriteString(fmt.Sprintf(", %d)", len(oldPrefix)+1))
				}))
			}).
			SetUpdatedAt(time.Now())
		if orgID != nil {
			upd.SetOrganizationID(*orgID)
		}
		if _, err := upd.Save(ctx); err != nil {
			return fmt.Errorf("move subtree of %s: %w", r.Path, err)
		}
		one := c.Resource.UpdateOneID(r.ID).SetName(name).SetPath(newPath).SetNillableParentID(parentID).
			SetNillableOrganizationID(orgID)
		out, err = one.Save(ctx)
		if ent.IsConstraintError(err) {
			return fault.Wrap(err, fault.Conflict, "%s already exists", newPath)
		}
		if err != nil {
			return fmt.Errorf("move %s: %w", r.Path, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// Purger removes the stored data (revisions, blobs) of deleted resources. It runs after the
// deletion committed, so a failure leaves data behind but never a live resource without it.
type Purger func(ctx context.Context, resourceIDs []int) error

// Delete soft-deletes r and everything below it (their names become free again), removes
// their rollups, and then purges their stored data with purge. Organization folders are
// deleted with their organization.
func Delete(ctx context.Context, client *ent.Client, r *ent.Resource, purge Purger) error {
	if r.Type == OrganizationFolder {
		return fault.New(fault.BadInput, "delete the organization to delete its folder")
	}
	var ids []int
	err := database.WithTx(ctx, client, func(tx *ent.Tx) error {
		c := tx.Client()
		var err error
		ids, err = c.Resource.Query().
			Where(resource.Or(resource.ID(r.ID), Below(r.Path)), NotDeleted()).IDs(ctx)
		if err != nil {
			return fmt.Errorf("collect %s: %w", r.Path, err)
		}
		now := time.Now()
		if err := c.Resource.Update().Where(resource.IDIn(ids...)).
			SetDeleted(true).SetDeletedAt(now).Exec(ctx); err != nil {
			return fmt.Errorf("delete %s: %w", r.Path, err)
		}
		if _, err := c.Rollup.Delete().Where(rollup.ResourceIDIn(ids...)).Exec(ctx); err != nil {
			return fmt.Errorf("delete rollups of %s: %w", r.Path, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if purge != nil {
		if err := purge(ctx, ids); err != nil {
			return fmt.Errorf("purge data of %s: %w", r.Path, err)
		}
	}
	return nil
}

// UpdateAttributes replaces the user attributes (when userAttrs is not nil), merges system
// settings (nil values remove a setting) and, for controller folders, sets the watchdog
// (minutes without contact before watchers are told; 0 turns it off), in one transaction.
func UpdateAttributes(ctx context.Context, client *ent.Client, r *ent.Resource, userAttrs map[string]any, system map[string]any, watchdogMinutes *int) (*ent.Resource, error) {
	if watchdogMinutes != nil {
		if r.Type != ControllerFolder {
			return nil, fault.New(fault.BadInput, "%s is not a controller; only controllers have a watchdog", r.Path)
		}
		if *watchdogMinutes < 0 || *watchdogMinutes > 60*24*365 {
			return nil, fault.New(fault.BadInput, "watchdogMinutes must be between 0 and 525600")
		}
	}
	var out *ent.Resource
	err := database.WithTx(ctx, client, func(tx *ent.Tx) error {
		c := tx.Client()
		upd := c.Resource.UpdateOneID(r.ID)
		if userAttrs != nil {
			upd.SetUserAttributes(userAttrs)
		}
		if len(system) > 0 {
			merged := map[string]any{}
			for k, v := range r.SystemAttributes {
				merged[k] = v
			}
			for k, v := range system {
				if v == nil {
					delete(merged, k)
				} else {
					merged[k] = v
				}
			}
			upd.SetSystemAttributes(merged)
		}
		var err error
		if out, err = upd.Save(ctx); err != nil {
			return fmt.Errorf("update attributes of %s: %w", r.Path, err)
		}
		if watchdogMinutes != nil {
			err := c.ControllerStatus.Create().SetControllerID(r.ID).SetWatchdogMinutes(*watchdogMinutes).
				OnConflictColumns(controllerstatus.FieldControllerID).UpdateWatchdogMinutes().Exec(ctx)
			if err != nil {
				return fmt.Errorf("set watchdog of %s: %w", r.Path, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}
