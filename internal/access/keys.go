package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/key"
	"github.com/rhizoflex/rhizoflex/ent/membership"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// KeyPrefix starts every API key secret, so leaked keys are easy to recognise and scan for.
const KeyPrefix = "rfk_"

// RhizoKeyPrefix starts keys in the original hub's format ("RHIZO" and 50 characters of
// A-Z and 0-9), made for controllers that keep the key format they know (docs/RHIZO.md).
const RhizoKeyPrefix = "RHIZO"

// rhizoKeyLength is the length of an original-format key.
const rhizoKeyLength = len(RhizoKeyPrefix) + 50

// shownPrefixLength is how much of the secret is kept in clear to tell keys apart.
const shownPrefixLength = len(KeyPrefix) + 8

// lastUsedResolution bounds how often last_used_at is written.
const lastUsedResolution = time.Minute

var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newSecret returns a key secret with 160 bits of entropy, its shown prefix and its hash.
func newSecret() (secret, prefix, hash string, err error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", "", "", fmt.Errorf("generate key: %w", err)
	}
	secret = KeyPrefix + strings.ToLower(keyEncoding.EncodeToString(b))
	return secret, secret[:shownPrefixLength], HashSecret(secret), nil
}

// newRhizoSecret returns an original-format secret (250 bits of entropy: 50 characters of
// the base32 alphabet A-Z, 2-7, all within the original's A-Z0-9).
func newRhizoSecret() (secret, prefix, hash string) {
	secret = (RhizoKeyPrefix + rand.Text() + rand.Text())[:rhizoKeyLength]
	return secret, secret[:len(RhizoKeyPrefix)+8], HashSecret(secret)
}

// HashSecret is the stored form of a key secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewKey describes a key to create. At most one of AsUserID and AsControllerPath is set
// (neither: a key acting as the viewer). OrganizationID confines a user key to one
// organization.
type NewKey struct {
	Name             string
	OrganizationID   *int
	AsUserID         *int
	AsControllerPath string
	// RhizoFormat makes the secret in the original hub's format (RhizoKeyPrefix).
	RhizoFormat bool
}

// CreateKey creates an API key and returns it with its secret, which is never shown again.
// The rules, which no chain of other operations gets around:
//
//   - only people signed in with a session create keys (a key cannot make keys);
//   - a key acting as a user is made by that user, or by a system admin;
//   - a key confined to an organization is made by a member of it (or a system admin),
//     and acts as a member of it: the user it acts as must belong to it;
//   - a controller key needs write access to the controller and is confined to the
//     controller's organization;
//   - no key has system-admin powers (Viewer.IsSystemAdmin).
func (a *Authorizer) CreateKey(ctx context.Context, v *Viewer, in NewKey) (*ent.Key, string, error) {
	if err := a.RequireHuman(v); err != nil {
		return nil, "", err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 100 {
		return nil, "", fault.New(fault.BadInput, "a key needs a name of 1 to 100 characters")
	}
	if in.OrganizationID != nil && !v.IsSystemAdmin() && !v.IsMember(*in.OrganizationID) {
		return nil, "", errNoOrganization
	}
	create := a.client.Key.Create().SetName(name).SetCreatedByID(v.User.ID).SetCreatedAt(time.Now())
	switch {
	case in.AsControllerPath != "" && in.AsUserID != nil:
		return nil, "", fault.New(fault.BadInput, "a key acts as a user or as a controller, not both")
	case in.AsControllerPath != "":
		ctrl, err := a.resourceByPath(ctx, in.AsControllerPath)
		if err != nil {
			return nil, "", err
		}
		if err := a.Require(ctx, v, ctrl, Write); err != nil {
			return nil, "", err
		}
		if ctrl.Type != resource.TypeControllerFolder {
			return nil, "", fault.New(fault.BadInput, "%s is not a controller", ctrl.Path)
		}
		if in.OrganizationID != nil && (ctrl.OrganizationID == nil || *ctrl.OrganizationID != *in.OrganizationID) {
			return nil, "", fault.New(fault.BadInput, "%s does not belong to that organization", ctrl.Path)
		}
		create.SetAccessAsControllerID(ctrl.ID).SetNillableOrganizationID(ctrl.OrganizationID)
	default:
		target := v.User.ID
		if in.AsUserID != nil {
			target = *in.AsUserID
		}
		if target != v.User.ID && !v.IsSystemAdmin() {
			return nil, "", fault.New(fault.Forbidden, "only that user (or a system admin) may create a key acting as them")
		}
		if in.OrganizationID != nil {
			member, err := a.client.Membership.Query().
				Where(membership.UserID(target), membership.OrganizationID(*in.OrganizationID)).Exist(ctx)
			if err != nil {
				return nil, "", fmt.Errorf("check membership: %w", err)
			}
			if !member {
				return nil, "", fault.New(fault.BadInput, "the user the key acts as is not a member of that organization")
			}
			create.SetOrganizationID(*in.OrganizationID)
		}
		create.SetAccessAsUserID(target)
	}
	return saveKey(ctx, create, in.RhizoFormat)
}

// errNoOrganization is the answer for an organization the viewer does not belong to,
// the same as for one that does not exist.
var errNoOrganization = fault.New(fault.NotFound, "no such organization")

func (a *Authorizer) resourceByPath(ctx context.Context, path string) (*ent.Resource, error) {
	r, err := a.client.Resource.Query().
		Where(resource.Path(strings.TrimSuffix(path, "/")), tree.NotDeleted()).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fault.New(fault.NotFound, "no resource at %s", path)
	}
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", path, err)
	}
	return r, nil
}

func saveKey(ctx context.Context, create *ent.KeyCreate, rhizo bool) (*ent.Key, string, error) {
	secret, prefix, hash, err := newSecret()
	if err != nil {
		return nil, "", err
	}
	if rhizo {
		secret, prefix, hash = newRhizoSecret()
	}
	k, err := create.SetPrefix(prefix).SetHash(hash).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, "", fault.Wrap(err, fault.NotFound, "no such user or organization")
	}
	if err != nil {
		return nil, "", fmt.Errorf("create key: %w", err)
	}
	return k, secret, nil
}

// CreateKeyAsOperator creates a key from the command line, where the operator already has
// the database: no viewer, but the same validation and storage. createdBy is the person
// recorded as creator.
func (a *Authorizer) CreateKeyAsOperator(ctx context.Context, in NewKey, createdBy int) (*ent.Key, string, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 100 {
		return nil, "", fault.New(fault.BadInput, "a key needs a name of 1 to 100 characters")
	}
	create := a.client.Key.Create().SetName(name).SetCreatedByID(createdBy).SetCreatedAt(time.Now()).
		SetNillableOrganizationID(in.OrganizationID)
	switch {
	case (in.AsControllerPath == "") == (in.AsUserID == nil):
		return nil, "", fault.New(fault.BadInput, "a key acts as a user or as a controller: give exactly one")
	case in.AsControllerPath != "":
		ctrl, err := a.resourceByPath(ctx, in.AsControllerPath)
		if err != nil {
			return nil, "", err
		}
		if ctrl.Type != resource.TypeControllerFolder {
			return nil, "", fault.New(fault.BadInput, "%s is not a controller", ctrl.Path)
		}
		create.SetAccessAsControllerID(ctrl.ID).SetNillableOrganizationID(ctrl.OrganizationID)
	default:
		create.SetAccessAsUserID(*in.AsUserID)
	}
	return saveKey(ctx, create, in.RhizoFormat)
}

// RevokeKey revokes a key. Allowed for people (not keys) who created it, the user it acts
// as, admins of its organization, writers of its controller, and system admins.
func (a *Authorizer) RevokeKey(ctx context.Context, v *Viewer, keyID int) (*ent.Key, error) {
	if err := a.RequireHuman(v); err != nil {
		return nil, err
	}
	k, err := a.client.Key.Get(ctx, keyID)
	if ent.IsNotFound(err) {
		return nil, fault.New(fault.NotFound, "no key %d", keyID)
	}
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	if !a.mayManageKey(ctx, v, k) {
		return nil, fault.New(fault.NotFound, "no key %d", keyID)
	}
	if k.RevokedAt != nil {
		return k, nil
	}
	k, err = k.Update().SetRevokedAt(time.Now()).SetRevokedByID(v.User.ID).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("revoke key: %w", err)
	}
	return k, nil
}

func (a *Authorizer) mayManageKey(ctx context.Context, v *Viewer, k *ent.Key) bool {
	switch {
	case v.IsSystemAdmin(), k.CreatedByID == v.User.ID:
		return true
	case k.AccessAsUserID != nil && *k.AccessAsUserID == v.User.ID:
		return true
	case k.OrganizationID != nil && a.RequireOrgAdmin(v, *k.OrganizationID) == nil:
		return true
	case k.AccessAsControllerID != nil:
		ctrl, err := a.client.Resource.Get(ctx, *k.AccessAsControllerID)
		return err == nil && a.Require(ctx, v, ctrl, Write) == nil
	}
	return false
}

// Keys lists the keys the viewer may manage: all keys of an organization for its admins,
// otherwise the viewer's own keys (created by or acting as the viewer).
func (a *Authorizer) Keys(ctx context.Context, v *Viewer, orgID *int) ([]*ent.Key, error) {
	if v.User == nil {
		return nil, fault.New(fault.Unauthenticated, "sign in first")
	}
	q := a.client.Key.Query().Order(ent.Asc(key.FieldID))
	switch {
	case orgID != nil:
		if err := a.RequireOrgAdmin(v, *orgID); err != nil {
			return nil, err
		}
		q = q.Where(key.OrganizationID(*orgID))
	default:
		q = q.Where(key.Or(key.CreatedByID(v.User.ID), key.AccessAsUserID(v.User.ID)))
		if org := v.keyOrganization(); org != nil {
			q = q.Where(key.OrganizationID(*org))
		}
	}
	keys, err := q.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return keys, nil
}

// AuthenticateKey turns a key secret into a viewer. Unknown and revoked keys are refused
// with UNAUTHENTICATED; the check reads the database on every request, so a revocation
// takes effect on the next request on every instance.
func (a *Authorizer) AuthenticateKey(ctx context.Context, secret string) (*Viewer, error) {
	invalid := fault.New(fault.Unauthenticated, "invalid or revoked API key")
	if !strings.HasPrefix(secret, KeyPrefix) && (!strings.HasPrefix(secret, RhizoKeyPrefix) || len(secret) != rhizoKeyLength) || len(secret) > 200 {
		return nil, invalid
	}
	hash := HashSecret(secret)
	now := time.Now()
	var gen uint64
	cache := a.activeCache()
	if cache != nil {
		if v, ok, due := cache.key(hash, now); ok {
			if due {
				if err := a.recordKeyUse(ctx, v.Key, now); err != nil {
					return nil, err
				}
			}
			return v, nil
		}
		gen = cache.generation()
	}
	k, err := a.client.Key.Query().Where(key.Hash(hash), key.RevokedAtIsNil()).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, invalid
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate key: %w", err)
	}
	v := &Viewer{Key: k}
	switch {
	case k.AccessAsUserID != nil:
		u, err := a.client.User.Get(ctx, *k.AccessAsUserID)
		if err != nil || u.Deleted {
			return nil, invalid
		}
		v.User = u
	case k.AccessAsControllerID != nil:
		c, err := a.client.Resource.Get(ctx, *k.AccessAsControllerID)
		if err != nil || c.Deleted {
			return nil, invalid
		}
		v.Controller = c
	default:
		return nil, invalid
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= lastUsedResolution {
		if err := a.recordKeyUse(ctx, k, now); err != nil {
			return nil, err
		}
	}
	if err := a.LoadMemberships(ctx, v); err != nil {
		return nil, err
	}
	if cache != nil {
		cache.putKey(gen, hash, v, now)
	}
	return v, nil
}

// recordKeyUse writes last_used_at, conditionally, so concurrent requests and instances
// write it at most once a minute.
func (a *Authorizer) recordKeyUse(ctx context.Context, k *ent.Key, now time.Time) error {
	_, err := a.client.Key.Update().
		Where(key.ID(k.ID), key.Or(key.LastUsedAtIsNil(), key.LastUsedAtLT(now.Add(-lastUsedResolution)))).
		SetLastUsedAt(now).Save(ctx)
	if err != nil {
		return fmt.Errorf("record key use: %w", err)
	}
	return nil
}
