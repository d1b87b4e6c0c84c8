package tree

import (
	"context"
	"fmt"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/predicate"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// Type is a resource type.
type Type = resource.Type

// The resource types.
const (
	Folder             = resource.TypeFolder
	OrganizationFolder = resource.TypeOrganizationFolder
	ControllerFolder   = resource.TypeControllerFolder
	File               = resource.TypeFile
	Sequence           = resource.TypeSequence
	App                = resource.TypeApp
)

// Data types of a sequence (system attribute data_type).
const (
	Numeric = "numeric"
	Text    = "text"
	Image   = "image"
	JSON    = "json"
)

// NotDeleted selects the resources that are not deleted. It writes the literal condition
// the partial indexes on path and (parent_id, name) are declared with ("deleted = false"):
// NotDeleted() binds a parameter, and with it SQLite cannot use those indexes
// and scans the whole table on every lookup by path.
func NotDeleted() predicate.Resource {
	return func(s *entsql.Selector) {
		s.Where(entsql.ExprP(s.C(resource.FieldDeleted) + " = false"))
	}
}

// ByPath returns the live resource at path.
func ByPath(ctx context.Context, client *ent.Client, path string) (*ent.Resource, error) {
	clean, err := CleanPath(path)
	if err != nil {
		return nil, err
	}
	r, err := client.Resource.Query().
		Where(resource.Path(clean), NotDeleted()).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fault.New(fault.NotFound, "no resource at %s", clean)
	}
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", clean, err)
	}
	return r, nil
}

// CreateParams describes a new resource below an existing folder.
type CreateParams struct {
	Path             string // full path of the new resource
	Type             Type
	SystemAttributes map[string]any
	UserAttributes   map[string]any
	CreateParents    bool // create missing intermediate folders
}

// Create creates a resource (and, on request, its missing parent folders) in one
// transaction.
func Create(ctx context.Context, client *ent.Client, p CreateParams) (*ent.Resource, error) {
	var created *ent.Resource
	err := database.WithTx(ctx, client, func(tx *ent.Tx) error {
		r, err := CreateTx(ctx, tx.Client(), p)
		created = r
		return err
	})
	if err != nil {
		return nil, err
	}
	return created.Unwrap(), nil
}

// CreateTx is Create inside the caller's transaction (client must be tx.Client()).
func CreateTx(ctx context.Context, client *ent.Client, p CreateParams) (*ent.Resource, error) {
	if err := resource.TypeValidator(p.Type); err != nil {
		return nil, fault.New(fault.BadInput, "unknown resource type %q", p.Type)
	}
	names, err := SplitPath(p.Path)
	if err != nil {
		return nil, err
	}
	if len(names) == 1 {
		if p.Type != OrganizationFolder {
			return nil, fault.New(fault.BadInput, "only organization folders live at the top level (%s)", p.Path)
		}
		return insert(ctx, client, nil, names[0], p)
	}
	parent, err := ByPath(ctx, client, JoinPath(names[0]))
	if err != nil {
		return nil, err
	}
	for i := 1; i < len(names)-1; i++ {
		next, err := ByPath(ctx, client, JoinPath(names[:i+1]...))
		switch {
		case fault.Is(err, fault.NotFound) && p.CreateParents:
			next, err = insert(ctx, client, parent, names[i], CreateParams{Type: Folder})
			if err != nil {
				return nil, err
			}
		case fault.Is(err, fault.NotFound):
			return nil, fault.New(fault.NotFound, "parent folder %s does not exist", JoinPath(names[:i+1]...))
		case err != nil:
			return nil, err
		}
		parent = next
	}
	if !IsContainer(parent.Type) {
		return nil, fault.New(fault.BadInput, "%s is a %s, not a folder", parent.Path, parent.Type)
	}
	if p.Type == OrganizationFolder {
		return nil, fault.New(fault.BadInput, "organization folders live only at the top level")
	}
	return insert(ctx, client, parent, names[len(names)-1], p)
}

// IsContainer reports whether resources of type t hold children.
func IsContainer(t Type) bool {
	return t == Folder || t == OrganizationFolder || t == ControllerFolder
}

func insert(ctx context.Context, client *ent.Client, parent *ent.Resource, name string, p CreateParams) (*ent.Resource, error) {
	path := JoinPath(name)
	create := client.Resource.Create().SetName(name).SetType(p.Type)
	if parent != nil {
		path = parent.Path + "/" + name
		create.SetParentID(parent.ID)
		if parent.OrganizationID != nil {
			create.SetOrganizationID(*parent.OrganizationID)
		}
	}
	exists, err := client.Resource.Query().Where(resource.Path(path), NotDeleted()).Exist(ctx)
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", path, err)
	}
	if exists {
		return nil, fault.New(fault.Conflict, "%s already exists", path)
	}
	if p.SystemAttributes != nil {
		create.SetSystemAttributes(p.SystemAttributes)
	}
	if p.UserAttributes != nil {
		create.SetUserAttributes(p.UserAttributes)
	}
	r, err := create.SetPath(path).Save(ctx)
	switch {
	case ent.IsConstraintError(err):
		return nil, fault.Wrap(err, fault.Conflict, "%s already exists", path)
	case ent.IsValidationError(err):
		return nil, fault.Wrap(err, fault.BadInput, "invalid resource %s", path)
	case err != nil:
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return r, nil
}

// SequenceAttributes returns the system attributes of a new sequence.
func SequenceAttributes(dataType, units string, decimalPlaces int) map[string]any {
	a := map[string]any{"data_type": dataType}
	if units != "" {
		a["units"] = units
	}
	if dataType == Numeric {
		a["decimal_places"] = decimalPlaces
	}
	return a
}

// controllerScaffold is what a new controller folder gets, as in rhizo-server.
var controllerScaffold = []struct {
	path  string
	typ   Type
	attrs map[string]any
}{
	{"log", Sequence, SequenceAttributes(Text, "", 0)},
	{"status", Folder, nil},
	{"status/free_disk_space", Sequence, SequenceAttributes(Numeric, "bytes", 0)},
	{"status/processor_usage", Sequence, SequenceAttributes(Numeric, "percent", 1)},
	{"status/messages_sent", Sequence, SequenceAttributes(Numeric, "", 0)},
	{"status/messages_received", Sequence, SequenceAttributes(Numeric, "", 0)},
	{"status/serial_errors", Sequence, SequenceAttributes(Numeric, "", 0)},
}

// CreateController creates a controller folder with its standard log and status sequences
// and its status row, all in one transaction.
func CreateController(ctx context.Context, client *ent.Client, path string, createParents bool) (*ent.Resource, error) {
	var ctrl *ent.Resource
	err := database.WithTx(ctx, client, func(tx *ent.Tx) error {
		c := tx.Client()
		var err error
		ctrl, err = CreateTx(ctx, c, CreateParams{Path: path, Type: ControllerFolder, CreateParents: createParents})
		if err != nil {
			return err
		}
		for _, s := range controllerScaffold {
			if _, err := CreateTx(ctx, c, CreateParams{Path: ctrl.Path + "/" + s.path, Type: s.typ, SystemAttributes: s.attrs}); err != nil {
				return err
			}
		}
		if err := c.ControllerStatus.Create().SetControllerID(ctrl.ID).Exec(ctx); err != nil {
			return fmt.Errorf("create controller status: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ctrl.Unwrap(), nil
}
