package account_test

import (
	"testing"

	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/ent/revision"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// fastParams keep argon2id cheap in tests; production parameters come from config.
var fastParams = access.PasswordParams{MemoryKiB: 8 * 1024, Iterations: 1, Parallelism: 1}

func TestEnsureAdmin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		u, created, err := account.EnsureAdmin(ctx, db.Client, " Admin@Example.com ", "first-password", fastParams)
		if err != nil || !created {
			t.Fatalf("create: %v created=%v", err, created)
		}
		if u.Email != "admin@example.com" || !u.SystemAdmin {
			t.Fatalf("user %+v", u)
		}
		if u.PasswordHash == "first-password" || !access.CheckPassword("first-password", u.PasswordHash) {
			t.Fatal("password not stored as a verifiable hash")
		}
		u2, created, err := account.EnsureAdmin(ctx, db.Client, "admin@example.com", "second-password", fastParams)
		if err != nil || created || u2.ID != u.ID {
			t.Fatalf("update: %v created=%v", err, created)
		}
		if !access.CheckPassword("second-password", u2.PasswordHash) || access.CheckPassword("first-password", u2.PasswordHash) {
			t.Fatal("password not replaced")
		}
		for _, bad := range []struct{ email, pw string }{{"not-an-email", "long-enough"}, {"a@b.c", "short"}} {
			if _, _, err := account.EnsureAdmin(ctx, db.Client, bad.email, bad.pw, fastParams); !fault.Is(err, fault.BadInput) {
				t.Errorf("EnsureAdmin(%q, %q) = %v, want BAD_USER_INPUT", bad.email, bad.pw, err)
			}
		}
	})
}

func TestOrganizationLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		c := db.Client
		org, err := account.CreateOrganization(ctx, c, "lab", "The Lab")
		if err != nil {
			t.Fatal(err)
		}
		folder, err := tree.ByPath(ctx, c, "/lab")
		if err != nil || folder.Type != resource.TypeOrganizationFolder || *org.FolderID != folder.ID {
			t.Fatalf("organization folder: %+v %v", folder, err)
		}
		if _, err := account.CreateOrganization(ctx, c, "lab", ""); !fault.Is(err, fault.Conflict) {
			t.Fatalf("duplicate organization: %v", err)
		}
		if _, err := account.CreateOrganization(ctx, c, "bad/name", ""); !fault.Is(err, fault.BadInput) {
			t.Fatalf("bad organization name: %v", err)
		}
		if _, err := tree.Create(ctx, c, tree.CreateParams{Path: "/lab/data", Type: tree.Folder}); err != nil {
			t.Fatal(err)
		}
		// Deleting is refused while the organization holds resources, and nothing is lost.
		if err := account.DeleteOrganization(ctx, c, org.ID); !fault.Is(err, fault.Conflict) {
			t.Fatalf("delete non-empty organization: %v", err)
		}
		if _, err := tree.ByPath(ctx, c, "/lab/data"); err != nil {
			t.Fatalf("refused delete lost data: %v", err)
		}
		data, _ := tree.ByPath(ctx, c, "/lab/data")
		if err := c.Resource.DeleteOne(data).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		// A value stored on the folder itself (no API stores one; values have no foreign
		// key to hold them back) goes with it.
		if _, err := c.Revision.Create().SetResourceID(folder.ID).SetTimestamp(1).SetNum(1).Save(ctx); err != nil {
			t.Fatal(err)
		}
		if err := account.DeleteOrganization(ctx, c, org.ID); err != nil {
			t.Fatalf("delete empty organization: %v", err)
		}
		if _, err := tree.ByPath(ctx, c, "/lab"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("organization folder survived: %v", err)
		}
		if n, err := c.Revision.Query().Where(revision.ResourceID(folder.ID)).Count(ctx); err != nil || n != 0 {
			t.Fatalf("values of the deleted folder left: %d (%v)", n, err)
		}
		if err := account.DeleteOrganization(ctx, c, org.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("delete twice: %v", err)
		}
	})
}

func TestAddMember(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		org, _ := account.CreateOrganization(ctx, db.Client, "lab", "")
		u, err := account.CreateUser(ctx, db.Client, account.NewUser{Email: "m@example.com", Password: "password1"}, fastParams)
		if err != nil {
			t.Fatal(err)
		}
		m, err := account.AddMember(ctx, db.Client, org.ID, u.ID, false)
		if err != nil || m.IsAdmin {
			t.Fatalf("add: %+v %v", m, err)
		}
		m2, err := account.AddMember(ctx, db.Client, org.ID, u.ID, true)
		if err != nil || m2.ID != m.ID || !m2.IsAdmin {
			t.Fatalf("promote: %+v %v", m2, err)
		}
		if _, err := account.AddMember(ctx, db.Client, org.ID, 999999, false); !fault.Is(err, fault.NotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		if _, err := account.CreateUser(ctx, db.Client, account.NewUser{Email: "M@example.com", Password: "password1"}, fastParams); !fault.Is(err, fault.Conflict) {
			t.Fatalf("duplicate e-mail: %v", err)
		}
	})
}
