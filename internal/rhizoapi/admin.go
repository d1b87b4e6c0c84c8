package rhizoapi

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/key"
	"github.com/rhizoflex/rhizoflex/ent/membership"
	"github.com/rhizoflex/rhizoflex/ent/message"
	"github.com/rhizoflex/rhizoflex/ent/organization"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/ent/revision"
	"github.com/rhizoflex/rhizoflex/ent/user"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/files"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Keys.

// keyDict is Key.as_dict; organization_id is the organization folder's id, as in the
// original, where an organization was its folder.
func (a *api) keyDict(r *req, k *ent.Key) map[string]any {
	var org any
	if k.OrganizationID != nil {
		if o, err := a.Client.Organization.Get(r.ctx, *k.OrganizationID); err == nil && o.FolderID != nil {
			org = *o.FolderID
		}
	}
	revoked := ""
	if k.RevokedAt != nil {
		revoked = isoTime(*k.RevokedAt)
	}
	return map[string]any{
		"id": k.ID, "organization_id": org, "access_as_user_id": k.AccessAsUserID,
		"access_as_controller_id": k.AccessAsControllerID, "creation_timestamp": isoTime(k.CreatedAt),
		"revocation_timestamp": revoked, "key_part": k.Prefix,
	}
}

// controllerParam resolves access_as_controller_id and requires write on it.
func (a *api) controllerParam(r *req) (*ent.Resource, error) {
	id, err := strconv.Atoi(strings.TrimSpace(r.get("access_as_controller_id")))
	if err != nil {
		return nil, fault.New(fault.BadInput, "access_as_controller_id must be an integer")
	}
	ctrl, err := a.Client.Resource.Get(r.ctx, id)
	if err != nil || ctrl.Deleted {
		return nil, fault.New(fault.NotFound, "no controller %d", id)
	}
	if err := a.Authz.Require(r.ctx, r.v, ctrl, access.Write); err != nil {
		return nil, err
	}
	if ctrl.Type != tree.ControllerFolder {
		return nil, fault.New(fault.BadInput, "%s is not a controller", ctrl.Path)
	}
	return ctrl, nil
}

func (a *api) listKeys(_ http.ResponseWriter, r *req) (any, error) {
	if r.v.Controller != nil {
		return nil, fault.New(fault.Forbidden, "controller keys do not list keys")
	}
	q := a.Client.Key.Query().Order(ent.Asc(key.FieldID))
	if r.has("access_as_controller_id") {
		ctrl, err := a.controllerParam(r)
		if err != nil {
			return nil, err
		}
		q = q.Where(key.AccessAsControllerID(ctrl.ID))
	} else if err := a.requireSessionAdmin(r.v); err != nil {
		return nil, err
	}
	keys, err := q.All(r.ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, k := range keys {
		out[strconv.Itoa(k.ID)] = a.keyDict(r, k)
	}
	return out, nil
}

// createKey makes an original-format key through the one authorizer (so only people
// signed in with a session make keys, as there).
func (a *api) createKey(_ http.ResponseWriter, r *req) (any, error) {
	in := access.NewKey{RhizoFormat: true}
	switch {
	case r.has("access_as_controller_id"):
		ctrl, err := a.controllerParam(r)
		if err != nil {
			return nil, err
		}
		in.Name, in.AsControllerPath = "rhizo key for "+ctrl.Name, ctrl.Path
		if r.has("key") {
			return nil, fault.New(fault.BadInput, "keys are always generated; a chosen key text is not accepted")
		}
	case r.has("access_as_user_id"):
		id, err := strconv.Atoi(strings.TrimSpace(r.get("access_as_user_id")))
		if err != nil {
			return nil, fault.New(fault.BadInput, "access_as_user_id must be an integer")
		}
		in.Name, in.AsUserID = "rhizo user key", &id
		if r.has("organization_id") {
			org, err := a.orgByFolder(r, r.get("organization_id"))
			if err != nil {
				return nil, err
			}
			in.OrganizationID = &org.ID
		}
	default:
		return nil, fault.New(fault.BadInput, "give access_as_controller_id or access_as_user_id")
	}
	k, secret, err := a.Authz.CreateKey(r.ctx, r.v, in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"status": "ok", "id": k.ID, "secret_key": secret}, nil
}

func (a *api) deleteKey(_ http.ResponseWriter, r *req) (any, error) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		return nil, fault.New(fault.NotFound, "no such key")
	}
	if _, err := a.Authz.RevokeKey(r.ctx, r.v, id); err != nil {
		return nil, err
	}
	if a.Live != nil {
		a.Live.AccessChanged(r.ctx, "key revoked")
	}
	return nil, nil
}

// Users and organizations.

func userDict(u *ent.User) map[string]any {
	role := 0
	if u.SystemAdmin {
		role = 2
	}
	return map[string]any{
		"id": u.ID, "user_name": u.UserName, "email_address": u.Email, "full_name": u.FullName,
		"role": role, "creation_timestamp": isoTime(u.CreatedAt), "deleted": u.Deleted,
	}
}

func (a *api) listUsers(_ http.ResponseWriter, r *req) (any, error) {
	if err := a.requireSessionAdmin(r.v); err != nil {
		return nil, err
	}
	us, err := a.Client.User.Query().Order(ent.Asc(user.FieldID)).All(r.ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, u := range us {
		out[strconv.Itoa(u.ID)] = userDict(u)
	}
	return out, nil
}

// userRecord is /api/v1/users/<id>: the public existence check of the sign-up page
// (check_exists=1, always 500 in the original); nothing else is implemented.
func (a *api) userRecord(_ http.ResponseWriter, r *req) (any, error) {
	if r.Method != http.MethodGet || !r.flag("check_exists") {
		return nil, nil
	}
	id := r.PathValue("id")
	exists, err := a.Client.User.Query().Where(user.Or(user.EmailEqualFold(id), user.UserName(id))).Exist(r.ctx)
	if err != nil {
		return nil, err
	}
	return map[string]int{"exists": map[bool]int{true: 1, false: 0}[exists]}, nil
}

// orgByFolder resolves an organization by its folder's id (the original's organization
// id) that the viewer belongs to (any, for system admins); others answer as missing.
func (a *api) orgByFolder(r *req, s string) (*ent.Organization, error) {
	id, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return nil, fault.New(fault.NotFound, "no such organization")
	}
	org, err := a.Client.Organization.Query().Where(organization.FolderID(id)).Only(r.ctx)
	if err != nil || (!r.v.IsSystemAdmin() && !r.v.IsMember(org.ID)) {
		return nil, fault.New(fault.NotFound, "no such organization")
	}
	return org, nil
}

func (a *api) listOrganizations(_ http.ResponseWriter, r *req) (any, error) {
	if r.v.User == nil {
		return nil, fault.New(fault.Unauthenticated, "sign in first")
	}
	all := r.v.IsSystemAdmin()
	orgs, err := account.Organizations(r.ctx, a.Client, r.v.User.ID, all)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, o := range orgs {
		if o.FolderID == nil || !r.v.InScope(o.ID) {
			continue
		}
		f, err := a.Client.Resource.Get(r.ctx, *o.FolderID)
		if err != nil {
			return nil, err
		}
		d, err := a.dict(r.ctx, f, all)
		if err != nil {
			return nil, err
		}
		out[strconv.Itoa(f.ID)] = d
	}
	return out, nil
}

func (a *api) createOrganization(_ http.ResponseWriter, r *req) (any, error) {
	if err := a.requireSessionAdmin(r.v); err != nil {
		return nil, err
	}
	name, err := r.required("folder_name")
	if err != nil {
		return nil, err
	}
	org, err := account.CreateOrganization(r.ctx, a.Client, name, r.get("full_name"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"status": "ok", "organization_id": *org.FolderID}, nil
}

func (a *api) orgUsers(_ http.ResponseWriter, r *req) (any, error) {
	if err := a.requireSessionAdmin(r.v); err != nil {
		return nil, err
	}
	org, err := a.orgByFolder(r, r.PathValue("org"))
	if err != nil {
		return nil, err
	}
	ms, err := account.Members(r.ctx, a.Client, org.ID)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, m := range ms {
		out[strconv.Itoa(m.ID)] = map[string]any{"organization_id": *org.FolderID, "user_id": m.UserID, "is_admin": m.IsAdmin}
	}
	return out, nil
}

// addOrgUser adds an existing user (user_id, is_admin). E-mail invitations are not
// supported here (use the web app).
func (a *api) addOrgUser(_ http.ResponseWriter, r *req) (any, error) {
	org, err := a.orgByFolder(r, r.PathValue("org"))
	if err != nil {
		return nil, err
	}
	if err := a.Authz.RequireOrgAdmin(r.v, org.ID); err != nil {
		return nil, err
	}
	if r.has("email_address") && !r.has("user_id") {
		return nil, fault.New(fault.BadInput, "invitations by e-mail are sent from the web app; give user_id")
	}
	uid, err := strconv.Atoi(strings.TrimSpace(r.get("user_id")))
	if err != nil {
		return nil, fault.New(fault.BadInput, "user_id must be an integer")
	}
	if _, err := account.AddMember(r.ctx, a.Client, org.ID, uid, r.get("is_admin") == "1"); err != nil {
		return nil, err
	}
	a.accessChanged(r, "membership changed")
	return map[string]string{"status": "ok"}, nil
}

func (a *api) orgUser(_ http.ResponseWriter, r *req) (any, error) {
	org, err := a.orgByFolder(r, r.PathValue("org"))
	if err != nil {
		return nil, err
	}
	if err := a.Authz.RequireOrgAdmin(r.v, org.ID); err != nil {
		return nil, err
	}
	uid, err := strconv.Atoi(r.PathValue("user"))
	if err != nil {
		return nil, fault.New(fault.NotFound, "no such member")
	}
	m, err := a.Client.Membership.Query().Where(membership.OrganizationID(org.ID), membership.UserID(uid)).Only(r.ctx)
	if err != nil {
		return nil, fault.New(fault.NotFound, "no such member")
	}
	switch r.Method {
	case http.MethodGet:
		return map[string]any{"organization_id": *org.FolderID, "user_id": m.UserID, "is_admin": m.IsAdmin}, nil
	case http.MethodPut:
		if _, err := account.SetMemberAdmin(r.ctx, a.Client, org.ID, uid, r.get("is_admin") == "1"); err != nil {
			return nil, err
		}
	case http.MethodDelete:
		if err := account.RemoveMember(r.ctx, a.Client, org.ID, uid); err != nil {
			return nil, err
		}
	default:
		return nil, fault.New(fault.BadInput, "method not allowed")
	}
	a.accessChanged(r, "membership changed")
	return nil, nil
}

func (a *api) accessChanged(r *req, reason string) {
	if a.Live != nil {
		a.Live.AccessChanged(r.ctx, reason)
	}
}

func (a *api) stats(_ http.ResponseWriter, r *req) (any, error) {
	if err := a.requireSessionAdmin(r.v); err != nil {
		return nil, err
	}
	users, err := a.Client.User.Query().Where(user.Deleted(false)).Count(r.ctx)
	if err != nil {
		return nil, err
	}
	resources, err := a.Client.Resource.Query().Where(resource.Deleted(false)).Count(r.ctx)
	if err != nil {
		return nil, err
	}
	revisions, err := a.Client.Revision.Query().Count(r.ctx)
	if err != nil {
		return nil, err
	}
	msgs, err := a.Client.Message.Query().Where(message.IDGT(0)).Count(r.ctx)
	if err != nil {
		return nil, err
	}
	return map[string]int{
		"user_count": users, "resource_count": resources, "thumbnail_count": 0,
		"resource_revision_count": revisions, "message_count": msgs,
	}, nil
}

// Messages.

// postMessage is POST /api/v1/messages: a message to a folder, sent through the one
// message service (which checks write access).
func (a *api) postMessage(_ http.ResponseWriter, r *req) (any, error) {
	if r.v.Key == nil {
		return nil, fault.New(fault.Forbidden, "messages are sent with an API key")
	}
	folder := r.get("folder_path", "folderPath")
	if !strings.HasPrefix(folder, "/") {
		return nil, fault.New(fault.BadInput, "folder_path must be an absolute path")
	}
	typ, err := r.required("type")
	if err != nil {
		return nil, err
	}
	var params map[string]any
	if s := r.get("parameters"); s != "" {
		if err := json.Unmarshal([]byte(s), &params); err != nil {
			return nil, fault.New(fault.BadInput, "parameters must be a JSON object")
		}
	}
	if _, err := a.Messages.Send(r.ctx, r.v, folder, typ, params); err != nil {
		return nil, err
	}
	return map[string]string{"status": "ok"}, nil
}

// Zip download.

// maxZipBytes is the original's cap on a folder download (uncompressed).
const maxZipBytes = 500 << 20

// zipFolder is GET <folder>?ids=1,2&download=1: the listed children (files, and basic
// folders with everything readable below them) as <folder>_files.zip.
func (a *api) zipFolder(w http.ResponseWriter, r *req, folder *ent.Resource) (any, error) {
	var picked []*ent.Resource
	for _, s := range strings.Split(r.get("ids"), ",") {
		id, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fault.New(fault.BadInput, "ids must be a comma-separated list of integers")
		}
		c, err := a.Client.Resource.Get(r.ctx, id)
		if err != nil || c.Deleted || c.ParentID == nil || *c.ParentID != folder.ID ||
			a.Authz.Require(r.ctx, r.v, c, access.Read) != nil {
			return nil, fault.New(fault.NotFound, "no resource %d in %s", id, folder.Path)
		}
		if c.Type == tree.File || c.Type == tree.Folder {
			picked = append(picked, c)
		}
	}
	var all []*ent.Resource
	var total int64
	for _, c := range picked {
		below := []*ent.Resource{c}
		if c.Type == tree.Folder {
			ds, err := tree.Descendants(r.ctx, a.Client, c, maxDepth)
			if err != nil {
				return nil, err
			}
			below = ds
		}
		for _, d := range below {
			if d.Type != tree.File {
				continue
			}
			last, err := a.Client.Revision.Query().Where(revision.ResourceID(d.ID)).Order(ent.Desc(revision.FieldID)).
				Select(revision.FieldID, revision.FieldSize).First(r.ctx)
			if err == nil {
				total += last.Size
			}
			all = append(all, d)
		}
	}
	if total > maxZipBytes {
		return nil, fault.New(fault.BadInput, "the files are larger than %d MB together", maxZipBytes>>20)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", files.Disposition(folder.Name+"_files.zip"))
	zw := zip.NewWriter(w)
	for _, f := range all {
		if err := a.zipOne(r, zw, f, strings.TrimPrefix(f.Path, folder.Path+"/")); err != nil {
			a.Log.WarnContext(r.ctx, "zip download", "file", f.Path, "err", err)
			break
		}
	}
	_ = zw.Close()
	return responded, nil
}

func (a *api) zipOne(r *req, zw *zip.Writer, f *ent.Resource, name string) error {
	page, err := files.Revisions(r.ctx, a.Client, f, 1, 0)
	if err != nil {
		return err
	}
	out, err := zw.Create(name)
	if err != nil || len(page.Revisions) == 0 {
		return err
	}
	body, err := files.Open(r.ctx, a.Client, a.Blobs, page.Revisions[0])
	if err != nil {
		return err
	}
	defer func() { _ = body.Close() }()
	if _, err := io.Copy(out, body); err != nil {
		return fmt.Errorf("copy %s: %w", f.Path, err)
	}
	return nil
}
