package database_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
)

// Every entity of the domain model is written and read back on both databases.
func TestEveryEntityRoundTrips(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		c := db.Client
		when := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)

		u := ok(c.User.Create().SetEmail("ada@example.com").SetUserName("ada").SetFullName("Ada L").
			SetPasswordHash("$argon2id$x").SetSystemAdmin(true).SetLastLogin(when).Save(ctx))
		org := ok(c.Organization.Create().SetName("lab").SetFullName("The Lab").
			SetSettings(map[string]any{"theme": "dark"}).Save(ctx))
		folder := ok(c.Resource.Create().SetName("lab").SetPath("/lab").SetType(resource.TypeOrganizationFolder).
			SetOrganizationID(org.ID).Save(ctx))
		ok(c.Organization.UpdateOne(org).SetFolderID(folder.ID).Save(ctx))
		m := ok(c.Membership.Create().SetUserID(u.ID).SetOrganizationID(org.ID).SetIsAdmin(true).Save(ctx))
		seq := ok(c.Resource.Create().SetName("temp").SetPath("/lab/temp").SetType(resource.TypeSequence).
			SetParentID(folder.ID).SetOrganizationID(org.ID).
			SetSystemAttributes(map[string]any{"data_type": "numeric", "units": "degC"}).
			SetUserAttributes(map[string]any{"color": "red"}).SetLastRevisionAt(when).Save(ctx))
		ctrl := ok(c.Resource.Create().SetName("ctrl").SetPath("/lab/ctrl").SetType(resource.TypeControllerFolder).
			SetParentID(folder.ID).SetOrganizationID(org.ID).Save(ctx))
		num := 21.5
		rev := ok(c.Revision.Create().SetResourceID(seq.ID).SetTimestamp(-1_000_000).SetNum(num).
			SetText("t").SetData([]byte{0, 1, 255}).SetBlobKey("ab/cd").SetSize(3).SetSha256("00ff").
			SetContentType("text/plain").SetAuthorUserID(u.ID).SetAuthorControllerID(ctrl.ID).Save(ctx))
		key := ok(c.Key.Create().SetOrganizationID(org.ID).SetAccessAsControllerID(ctrl.ID).SetName("k").
			SetPrefix("rfk_ab").SetHash("deadbeef").SetCreatedByID(u.ID).SetCreatedAt(when).
			SetRevokedByID(u.ID).SetRevokedAt(when).SetLastUsedAt(when).Save(ctx))
		msg := ok(c.Message.Create().SetFolderID(ctrl.ID).SetSenderUserID(u.ID).SetType("set_value").
			SetParameters(map[string]any{"value": 3.5}).SetTimestamp(when).Save(ctx))
		perm := ok(c.Permission.Create().SetResourceID(folder.ID).SetGranteeType("public").SetLevel("read").Save(ctx))
		st := ok(c.ControllerStatus.Create().SetControllerID(ctrl.ID).SetLastOnlineAt(when).
			SetStatus(map[string]any{"ok": true}).SetWatchdogMinutes(15).AddWatcherIDs(u.ID).Save(ctx))
		sess := ok(c.Session.Create().SetToken("tok").SetData([]byte("data")).SetExpiry(when).Save(ctx))

		gotU := ok(c.User.Get(ctx, u.ID))
		if gotU.Email != "ada@example.com" || *gotU.UserName != "ada" || !gotU.SystemAdmin || !gotU.LastLogin.Equal(when) {
			t.Errorf("user round trip: %+v", gotU)
		}
		gotOrg := ok(c.Organization.Get(ctx, org.ID))
		if gotOrg.Settings["theme"] != "dark" || *gotOrg.FolderID != folder.ID {
			t.Errorf("organization round trip: %+v", gotOrg)
		}
		if got := ok(c.Membership.Get(ctx, m.ID)); !got.IsAdmin || got.UserID != u.ID {
			t.Errorf("membership round trip: %+v", got)
		}
		gotSeq := ok(c.Resource.Get(ctx, seq.ID))
		if gotSeq.SystemAttributes["units"] != "degC" || gotSeq.UserAttributes["color"] != "red" || *gotSeq.ParentID != folder.ID || gotSeq.Deleted {
			t.Errorf("resource round trip: %+v", gotSeq)
		}
		gotRev := ok(c.Revision.Get(ctx, rev.ID))
		if gotRev.Timestamp != -1_000_000 || *gotRev.Num != num || !bytes.Equal(gotRev.Data, []byte{0, 1, 255}) || *gotRev.BlobKey != "ab/cd" {
			t.Errorf("revision round trip: %+v", gotRev)
		}
		gotKey := ok(c.Key.Get(ctx, key.ID))
		if gotKey.Hash != "deadbeef" || *gotKey.AccessAsControllerID != ctrl.ID || !gotKey.RevokedAt.Equal(when) {
			t.Errorf("key round trip: %+v", gotKey)
		}
		gotMsg := ok(c.Message.Get(ctx, msg.ID))
		if gotMsg.Type != "set_value" || gotMsg.Parameters["value"] != 3.5 || !gotMsg.Timestamp.Equal(when) {
			t.Errorf("message round trip: %+v", gotMsg)
		}
		if got := ok(c.Permission.Get(ctx, perm.ID)); got.GranteeType != "public" || got.Level != "read" {
			t.Errorf("permission round trip: %+v", got)
		}
		gotSt := ok(c.ControllerStatus.Get(ctx, st.ID))
		watchers := ok(gotSt.QueryWatchers().IDs(ctx))
		if gotSt.WatchdogMinutes != 15 || gotSt.Status["ok"] != true || len(watchers) != 1 || watchers[0] != u.ID {
			t.Errorf("controller status round trip: %+v watchers %v", gotSt, watchers)
		}
		if got := ok(c.Session.Get(ctx, sess.ID)); string(got.Data) != "data" || !got.Expiry.Equal(when) {
			t.Errorf("session round trip: %+v", got)
		}
	})
}

// The database itself enforces the invariants, not just the domain code.
func TestDatabaseConstraints(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		c := db.Client
		org := ok(c.Organization.Create().SetName("lab").Save(ctx))
		root := ok(c.Resource.Create().SetName("lab").SetPath("/lab").SetType(resource.TypeOrganizationFolder).SetOrganizationID(org.ID).Save(ctx))
		mk := func(deleted bool) error {
			return c.Resource.Create().SetName("x").SetPath("/lab/x").SetType(resource.TypeFolder).
				SetParentID(root.ID).SetDeleted(deleted).Exec(ctx)
		}
		if err := mk(false); err != nil {
			t.Fatal(err)
		}
		if err := mk(false); !ent.IsConstraintError(err) {
			t.Fatalf("duplicate live path: want constraint error, got %v", err)
		}
		if err := mk(true); err != nil {
			t.Fatalf("a deleted row may share the path: %v", err)
		}
		if err := c.Resource.Create().SetName(".hidden").SetPath("/lab/.hidden").SetType(resource.TypeFolder).Exec(ctx); !ent.IsValidationError(err) {
			t.Fatalf("leading dot: want validation error, got %v", err)
		}
		if err := c.Message.Create().SetFolderID(root.ID).SetType(string(make([]byte, 41))).Exec(ctx); !ent.IsValidationError(err) {
			t.Fatalf("message type of 41 chars: want validation error, got %v", err)
		}
		if err := c.Organization.DeleteOne(org).Exec(ctx); err == nil {
			t.Fatal("the database let an organization with resources be deleted")
		}
		if err := c.User.Create().SetEmail("a@b.c").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.User.Create().SetEmail("a@b.c").Exec(ctx); !ent.IsConstraintError(err) {
			t.Fatalf("duplicate e-mail: want constraint error, got %v", err)
		}
	})
}

// ok unwraps a (value, error) pair; an error panics, which fails the test with its stack.
func ok[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
