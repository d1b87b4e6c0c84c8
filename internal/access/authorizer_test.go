package access_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/ent/key"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

func viewerFor(t *testing.T, authz *access.Authorizer, w *fixture.World, name string) *access.Viewer {
	t.Helper()
	ctx := context.Background()
	switch name {
	case "anonymous":
		v := &access.Viewer{}
		if err := authz.LoadMemberships(ctx, v); err != nil {
			t.Fatal(err)
		}
		return v
	case "userkey", "ctrlkey":
		v, err := authz.AuthenticateKey(ctx, w.Keys[name])
		if err != nil {
			t.Fatalf("authenticate %s: %v", name, err)
		}
		return v
	default:
		v := &access.Viewer{User: w.Users[name]}
		if err := authz.LoadMemberships(ctx, v); err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// Every viewer x resource x level cell, denied cells included.
func TestPermissionMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		w := fixture.Build(t, db)
		authz := access.NewAuthorizer(db.Client)
		for viewerName, expected := range fixture.Expected {
			v := viewerFor(t, authz, w, viewerName)
			for _, res := range fixture.Resources {
				r, err := tree.ByPath(ctx, db.Client, res.Path)
				if err != nil {
					t.Fatal(err)
				}
				want := expected[res.Name]
				for _, level := range []access.Level{access.Read, access.Write, access.Admin} {
					err := authz.Require(ctx, v, r, level)
					if allowed := err == nil; allowed != (want >= level) {
						t.Errorf("%s %s on %s: allowed=%v, want %v (err %v)", viewerName, level, res.Path, allowed, want >= level, err)
					}
					if err != nil {
						// Hidden looks like missing, for every viewer, anonymous included.
						wantCode := fault.Forbidden
						if want == access.None {
							wantCode = fault.NotFound
						}
						if !fault.Is(err, wantCode) {
							t.Errorf("%s %s on %s: error %v, want code %s", viewerName, level, res.Path, err, wantCode)
						}
						if want == access.None && fault.SafeMessage(err) != "no resource at "+res.Path {
							t.Errorf("%s on hidden %s says %q, not what a missing resource says", viewerName, res.Path, fault.SafeMessage(err))
						}
					}
				}
			}
		}
	})
}

func TestKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		w := fixture.Build(t, db)
		authz := access.NewAuthorizer(db.Client)

		if _, err := authz.AuthenticateKey(ctx, w.Keys["revoked"]); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("revoked key: %v", err)
		}
		for _, bad := range []string{"", "rfk_", "nonsense", w.Keys["userkey"] + "x"} {
			if _, err := authz.AuthenticateKey(ctx, bad); !fault.Is(err, fault.Unauthenticated) {
				t.Errorf("key %q: %v", bad, err)
			}
		}
		// The database holds no secret in clear: no column of any key row contains one.
		rows, err := db.Client.Key.Query().All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range rows {
			for _, secret := range w.Keys {
				if k.Hash == secret || strings.Contains(k.Name, secret) || k.Prefix == secret {
					t.Fatalf("key row %d holds a secret in clear", k.ID)
				}
			}
			if len(k.Hash) != 64 || !strings.HasPrefix(k.Prefix, access.KeyPrefix) || len(k.Prefix) != 12 {
				t.Errorf("key row %d: hash %q prefix %q", k.ID, k.Hash, k.Prefix)
			}
		}
		// Key management is for people, not keys.
		keyViewer := viewerFor(t, authz, w, "userkey")
		if _, _, err := authz.CreateKey(ctx, keyViewer, access.NewKey{Name: "from a key"}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("key creating a key: %v", err)
		}
		// Only the user themself (or a system admin) makes a key acting as that user: not
		// another member, not the org admin, not an admin of another organization.
		member := viewerFor(t, authz, w, "lmember")
		ladmin := viewerFor(t, authz, w, "ladmin")
		other := w.Users["lmember"].ID
		if _, _, err := authz.CreateKey(ctx, viewerFor(t, authz, w, "omember"), access.NewKey{Name: "x", AsUserID: &other, OrganizationID: &w.Lab.ID}); !fault.Is(err, fault.NotFound) {
			t.Fatalf("other org admin making a key for lmember in lab: %v", err)
		}
		if _, _, err := authz.CreateKey(ctx, viewerFor(t, authz, w, "omember"), access.NewKey{Name: "x", AsUserID: &other}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("other org admin making a key for lmember: %v", err)
		}
		if _, _, err := authz.CreateKey(ctx, ladmin, access.NewKey{Name: "for member", AsUserID: &other, OrganizationID: &w.Lab.ID}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("org admin making a key acting as a member: %v", err)
		}
		sysID := w.Users["sys"].ID
		if _, _, err := authz.CreateKey(ctx, ladmin, access.NewKey{Name: "as sys", AsUserID: &sysID, OrganizationID: &w.Lab.ID}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("org admin making a key acting as the system admin: %v", err)
		}
		// A key for an organization the viewer does not belong to is refused.
		if _, _, err := authz.CreateKey(ctx, member, access.NewKey{Name: "x", OrganizationID: &w.Other.ID}); !fault.Is(err, fault.NotFound) {
			t.Fatalf("key for another organization: %v", err)
		}
		k, secret, err := authz.CreateKey(ctx, member, access.NewKey{Name: "mine, for lab", OrganizationID: &w.Lab.ID})
		if err != nil {
			t.Fatal(err)
		}
		v, err := authz.AuthenticateKey(ctx, secret)
		if err != nil || v.User.ID != other || v.IsSystemAdmin() {
			t.Fatalf("key acting as member: %v %v", v, err)
		}
		// The system admin may make a key acting as a member; it is confined to the key's
		// organization and is never a system admin.
		sys := viewerFor(t, authz, w, "sys")
		if !sys.IsSystemAdmin() {
			t.Fatal("session of the system admin is not a system admin")
		}
		_, sysKey, err := authz.CreateKey(ctx, sys, access.NewKey{Name: "own"})
		if err != nil {
			t.Fatal(err)
		}
		if kv, err := authz.AuthenticateKey(ctx, sysKey); err != nil || kv.IsSystemAdmin() {
			t.Fatalf("a system admin's key has system-admin powers: %v", err)
		}
		if err := authz.RequireSystemAdmin(mustKeyViewer(t, authz, sysKey)); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("system admin's key passes RequireSystemAdmin: %v", err)
		}
		// Controller keys need write access to the controller.
		if _, _, err := authz.CreateKey(ctx, viewerFor(t, authz, w, "omember"), access.NewKey{Name: "c", AsControllerPath: "/lab/ctrl"}); !fault.Is(err, fault.NotFound) {
			t.Fatalf("controller key without access: %v", err)
		}
		if _, _, err := authz.CreateKey(ctx, member, access.NewKey{Name: "c", AsControllerPath: "/lab/data"}); !fault.Is(err, fault.BadInput) {
			t.Fatalf("controller key on a folder: %v", err)
		}
		// Revocation is effective on the very next authentication.
		if _, err := authz.RevokeKey(ctx, member, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := authz.AuthenticateKey(ctx, secret); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("revoked key still works: %v", err)
		}
		got, err := db.Client.Key.Query().Where(key.ID(k.ID)).Only(ctx)
		if err != nil || got.RevokedAt == nil || got.RevokedByID == nil || *got.RevokedByID != w.Users["lmember"].ID {
			t.Fatalf("revocation not recorded: %+v %v", got, err)
		}
		// last_used_at is recorded.
		if _, err := authz.AuthenticateKey(ctx, w.Keys["ctrlkey"]); err != nil {
			t.Fatal(err)
		}
		used, _ := db.Client.Key.Query().Where(key.Hash(access.HashSecret(w.Keys["ctrlkey"]))).Only(ctx)
		if used.LastUsedAt == nil {
			t.Fatal("last_used_at not recorded")
		}
	})
}

func TestLoginRateLimitAndReset(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		fixture.Build(t, db)
		authz := access.NewAuthorizer(db.Client)
		limiter := access.NewLoginLimiter(db.Client, 10, time.Minute)
		if _, err := authz.Login(ctx, limiter, "LMember@example.com", fixture.Password, "10.0.0.1"); err != nil {
			t.Fatalf("login by e-mail: %v", err)
		}
		if _, err := authz.Login(ctx, limiter, "lmember", fixture.Password, "10.0.0.1"); err != nil {
			t.Fatalf("login by user name: %v", err)
		}
		_, errUnknown := authz.Login(ctx, limiter, "nobody@example.com", "x", "10.0.0.2")
		_, errWrong := authz.Login(ctx, limiter, "lmember", "wrong", "10.0.0.2")
		if errUnknown == nil || errWrong == nil || errUnknown.Error() != errWrong.Error() {
			t.Fatalf("unknown account and wrong password must look the same: %v / %v", errUnknown, errWrong)
		}
		for i := 0; i < 9; i++ {
			if _, err := authz.Login(ctx, limiter, "lmember", "wrong", "10.0.0.3"); !fault.Is(err, fault.Unauthenticated) {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		_, err := authz.Login(ctx, limiter, "lmember", fixture.Password, "10.0.0.4")
		var rl *access.RateLimitError
		if !errors.As(err, &rl) || rl.RetryAfter <= 0 || !fault.Is(err, fault.RateLimited) {
			t.Fatalf("11th attempt (right password) must be rate limited: %v", err)
		}
	})
}

type captureMailer struct{ bodies []string }

func (m *captureMailer) Send(_ context.Context, _, _, body string) error {
	m.bodies = append(m.bodies, body)
	return nil
}

func TestPasswordReset(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		fixture.Build(t, db)
		authz := access.NewAuthorizer(db.Client)
		m := &captureMailer{}
		if err := authz.RequestPasswordReset(ctx, m, "nobody@example.com", "http://x"); err != nil || len(m.bodies) != 0 {
			t.Fatalf("unknown address: %v, %d mails", err, len(m.bodies))
		}
		if err := authz.RequestPasswordReset(ctx, m, "lmember@example.com", "http://x"); err != nil || len(m.bodies) != 1 {
			t.Fatalf("reset request: %v", err)
		}
		token := strings.Fields(strings.SplitN(m.bodies[0], "Reset token: ", 2)[1])[0]
		if err := authz.ResetPassword(ctx, token, "short", fixture.FastPasswords); !fault.Is(err, fault.BadInput) {
			t.Fatalf("short password: %v", err)
		}
		if err := authz.ResetPassword(ctx, token, "brand-new-password", fixture.FastPasswords); err != nil {
			t.Fatal(err)
		}
		if err := authz.ResetPassword(ctx, token, "another-password", fixture.FastPasswords); !fault.Is(err, fault.BadInput) {
			t.Fatalf("token reuse: %v", err)
		}
		if _, err := authz.Login(ctx, access.NewLoginLimiter(db.Client, 10, time.Minute), "lmember", "brand-new-password", "x"); err != nil {
			t.Fatalf("login with the new password: %v", err)
		}
		rows, _ := db.Client.PasswordReset.Query().All(ctx)
		for _, r := range rows {
			if r.TokenHash == token {
				t.Fatal("reset token stored in clear")
			}
		}
	})
}

func mustKeyViewer(t *testing.T, authz *access.Authorizer, secret string) *access.Viewer {
	t.Helper()
	v, err := authz.AuthenticateKey(t.Context(), secret)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The identity cache serves repeated key authentications without the database and forgets
// everything on InvalidateCache; an entry read while an invalidation happened is dropped.
func TestIdentityCache(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		w := fixture.Build(t, db)
		authz := access.NewAuthorizer(db.Client)
		authz.EnableCache()
		secret := w.Keys["userkey"]
		if _, err := authz.AuthenticateKey(ctx, secret); err != nil {
			t.Fatal(err)
		}
		// Revoked behind the cache's back (no invalidation): still served from the cache,
		// which shows the cache is used ...
		if _, err := db.Client.Key.Update().Where(key.Hash(access.HashSecret(secret))).SetRevokedAt(time.Now()).Save(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := authz.AuthenticateKey(ctx, secret); err != nil {
			t.Fatalf("cached key: %v", err)
		}
		// ... and the invalidation every access change triggers ends it at once.
		authz.InvalidateCache()
		if _, err := authz.AuthenticateKey(ctx, secret); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("revoked key after invalidation: %v", err)
		}
		// A disabled cache reads the database every time.
		authz.DisableCache()
		if _, err := authz.AuthenticateKey(ctx, w.Keys["ctrlkey"]); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Client.Key.Update().Where(key.Hash(access.HashSecret(w.Keys["ctrlkey"]))).SetRevokedAt(time.Now()).Save(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := authz.AuthenticateKey(ctx, w.Keys["ctrlkey"]); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("disabled cache served a revoked key: %v", err)
		}
	})
}
