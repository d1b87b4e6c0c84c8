package rhizoapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/files"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

var timeNow = time.Now

// maxDepth is how deep a recursive listing goes.
const maxDepth = 100

// resolve finds the resource of the URL path and requires level on it ("/self" is the
// controller of a controller key). Hidden resources answer as missing ones.
func (a *api) resolve(r *req, level access.Level) (*ent.Resource, string, error) {
	path := "/" + strings.Trim(r.PathValue("path"), "/")
	if path == "/self" {
		if r.v.Controller == nil {
			return nil, "", fault.New(fault.Forbidden, "/self needs a controller key")
		}
		res, err := a.Client.Resource.Get(r.ctx, r.v.Controller.ID)
		if err != nil || res.Deleted {
			return nil, "", fault.New(fault.NotFound, "the controller of this key is gone")
		}
		return res, res.Path, nil
	}
	res, err := tree.ByPath(r.ctx, a.Client, path)
	if err != nil {
		return nil, "", err
	}
	if err := a.Authz.Require(r.ctx, r.v, res, level); err != nil {
		return nil, "", err
	}
	return res, path, nil
}

// requireParent requires write access on the nearest existing folder at or above path, as
// a creation needs (missing folders below it are created); a hidden folder answers as a
// missing one.
func (a *api) requireParent(ctx context.Context, v *access.Viewer, path string) error {
	for p := path; p != ""; p = tree.ParentPath(p) {
		res, err := tree.ByPath(ctx, a.Client, p)
		if fault.Is(err, fault.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		return a.Authz.Require(ctx, v, res, access.Write)
	}
	return fault.New(fault.NotFound, "no resource at %s", path)
}

func (a *api) getResource(w http.ResponseWriter, r *req) (any, error) {
	res, path, err := a.resolve(r, access.Read)
	if err != nil {
		return nil, err
	}
	if r.flag("meta") {
		d, err := a.dict(r.ctx, res, true)
		if err != nil {
			return nil, err
		}
		d["path"] = path
		return d, nil
	}
	switch {
	case tree.IsContainer(res.Type):
		if r.has("ids") && r.flag("download") {
			return a.zipFolder(w, r, res)
		}
		return a.listFolder(r, res)
	case res.Type == tree.Sequence:
		return a.getSequence(w, r, res)
	}
	return a.getFile(w, r, res)
}

func (a *api) listFolder(r *req, folder *ent.Resource) (any, error) {
	extended, recursive := r.flag("extended"), r.flag("recursive")
	var typ *tree.Type
	if s := r.get("type"); s != "" {
		t, err := typeByName(s)
		if err != nil {
			return nil, err
		}
		typ = &t
	}
	var match *regexp.Regexp
	if f := r.get("filter"); f != "" {
		parts := strings.Split(f, "*")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		match = regexp.MustCompile("(?i)^" + strings.Join(parts, ".*") + "$")
	}
	var rs []*ent.Resource
	var err error
	if recursive {
		rs, err = tree.Descendants(r.ctx, a.Client, folder, maxDepth)
	} else {
		rs, err = a.children(r.ctx, folder)
	}
	if err != nil {
		return nil, err
	}
	kept := rs[:0]
	for _, c := range rs {
		if (typ == nil || c.Type == *typ) && (match == nil || match.MatchString(c.Name)) {
			kept = append(kept, c)
		}
	}
	if !recursive {
		sort.Slice(kept, func(i, j int) bool { return kept[i].Name < kept[j].Name })
	}
	ds, err := a.dicts(r.ctx, kept, extended)
	if err != nil {
		return nil, err
	}
	for i, d := range ds {
		if recursive {
			d["path"] = strings.TrimPrefix(kept[i].Path, folder.Path+"/")
			d["fullPath"] = kept[i].Path
		}
	}
	return ds, nil
}

func (a *api) children(ctx context.Context, folder *ent.Resource) ([]*ent.Resource, error) {
	var out []*ent.Resource
	q := tree.ChildrenQuery{First: tree.MaxPageSize}
	for {
		page, err := tree.Children(ctx, a.Client, folder, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Resources...)
		if !page.HasNext || len(page.Resources) == 0 {
			return out, nil
		}
		q.After = tree.Cursor(page.Resources[len(page.Resources)-1])
	}
}

func (a *api) getSequence(w http.ResponseWriter, r *req, seq *ent.Resource) (any, error) {
	count, err := r.intParam("count", 1)
	if err != nil {
		return nil, err
	}
	if r.has("text") || r.has("start_timestamp") || r.has("end_timestamp") || count > 1 {
		return a.history(w, r, seq, count)
	}
	attrs := series.AttributesOf(seq)
	ctype := "text/plain"
	if attrs.DataType == tree.Image {
		ctype = "image/jpeg"
	}
	var body []byte
	if rs := r.get("rev"); rs != "" {
		id, err := strconv.Atoi(rs)
		if err != nil {
			return nil, fault.New(fault.BadInput, "rev must be an integer")
		}
		// Unlike the original, the revision must belong to this sequence.
		rev, err := a.Client.Revision.Get(r.ctx, id)
		if err != nil || rev.ResourceID != seq.ID {
			return nil, fault.New(fault.NotFound, "no revision %d of %s", id, seq.Path)
		}
		body = revisionBytes(rev)
	} else {
		v, err := series.LastValue(r.ctx, a.Client, seq)
		if err != nil {
			return nil, err
		}
		if v != nil {
			body = []byte(valueText(*v))
			if v.ContentType != "" && attrs.DataType == tree.Image {
				ctype = v.ContentType
			}
		}
	}
	w.Header().Set("Content-Type", ctype)
	_, _ = w.Write(body)
	return responded, nil
}

func revisionBytes(rev *ent.Revision) []byte {
	switch {
	case rev.Num != nil:
		return []byte(strconv.FormatFloat(*rev.Num, 'f', -1, 64))
	case rev.Text != nil:
		return []byte(*rev.Text)
	}
	return rev.Data
}

// history is the history mode of a sequence GET: the last count values in
// [start_timestamp, end_timestamp], as JSON or (download) CSV.
func (a *api) history(w http.ResponseWriter, r *req, seq *ent.Resource, count int) (any, error) {
	if r.has("summary") || r.has("text") {
		return nil, fault.New(fault.BadInput, "summary and text filters are not supported")
	}
	var from, to *time.Time
	if s := r.get("start_timestamp"); s != "" {
		t, err := parseTime(s)
		if err != nil {
			return nil, err
		}
		from = &t
	}
	if s := r.get("end_timestamp"); s != "" {
		t, err := parseTime(s)
		if err != nil {
			return nil, err
		}
		t = t.Add(time.Microsecond) // inclusive, as the original
		to = &t
	}
	if count < 1 {
		count = 1
	}
	var values []series.Value
	q := series.PageQuery{From: from, To: to}
	for len(values) < count {
		q.Last = min(count-len(values), series.MaxPageSize)
		page, err := series.Values(r.ctx, a.Client, seq, q)
		if err != nil {
			return nil, err
		}
		values = append(page.Values, values...)
		if !page.HasPreviousPage || len(page.Values) == 0 {
			break
		}
		q.Before = page.StartCursor
	}
	if r.flag("download") {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", files.Disposition(seq.Name+".csv"))
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"utc_timestamp", "value"})
		for _, v := range values {
			_ = cw.Write([]string{v.Time.UTC().Format("2006-01-02 15:04:05.000000"), valueText(v)})
		}
		cw.Flush()
		return responded, nil
	}
	ts := make([]float64, len(values))
	vs := make([]string, len(values))
	for i, v := range values {
		ts[i] = float64(v.Time.UnixMicro()) / 1e6
		vs[i] = valueText(v)
	}
	var units any
	if u, ok := seq.SystemAttributes["units"].(string); ok && u != "" {
		units = u
	}
	return map[string]any{"name": seq.Name, "path": seq.Path, "units": units, "timestamps": ts, "values": vs}, nil
}

func (a *api) getFile(w http.ResponseWriter, r *req, res *ent.Resource) (any, error) {
	if res.Type != tree.File {
		return nil, fault.New(fault.NotFound, "%s has no data", res.Path)
	}
	var rev *ent.Revision
	if rs := r.get("rev"); rs != "" {
		id, err := strconv.Atoi(rs)
		if err != nil {
			return nil, fault.New(fault.BadInput, "rev must be an integer")
		}
		if rev, err = files.Revision(r.ctx, a.Client, res, id); err != nil {
			return nil, err
		}
	} else {
		page, err := files.Revisions(r.ctx, a.Client, res, 1, 0)
		if err != nil {
			return nil, err
		}
		if len(page.Revisions) == 0 {
			return nil, fault.New(fault.NotFound, "%s has no data", res.Path)
		}
		rev = page.Revisions[0]
	}
	body, err := files.Open(r.ctx, a.Client, a.Blobs, rev)
	if err != nil {
		return nil, err
	}
	defer func() { _ = body.Close() }()
	w.Header().Set("Content-Type", "application/octet-stream")
	if r.flag("download") {
		w.Header().Set("Content-Disposition", files.Disposition(res.Name))
	}
	_, _ = io.Copy(w, body)
	return responded, nil
}

// decodeData reads the data (base64) or contents parameter; ok is false when neither is
// given.
func decodeData(r *req) ([]byte, bool, error) {
	s := r.get("data", "contents")
	if !r.has("data") && !r.has("contents") {
		return nil, false, nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, false, fault.New(fault.BadInput, "data must be base64")
	}
	return b, true, nil
}

func (a *api) putResource(_ http.ResponseWriter, r *req) (any, error) {
	res, _, err := a.resolve(r, access.Write)
	if err != nil {
		return nil, err
	}
	if name := r.get("name"); r.has("name") && name != res.Name {
		if err := a.Authz.Require(r.ctx, r.v, res, access.Write); err != nil {
			return nil, err
		}
		if res, err = tree.Rename(r.ctx, a.Client, res, name); err != nil {
			return nil, err
		}
	}
	if r.has("parent") {
		dest, err := tree.ByPath(r.ctx, a.Client, r.get("parent"))
		if err != nil {
			return nil, fault.New(fault.BadInput, "parent %s not found", r.get("parent"))
		}
		if err := a.Authz.Require(r.ctx, r.v, dest, access.Write); err != nil {
			return nil, err
		}
		if res, err = tree.Move(r.ctx, a.Client, res, dest); err != nil {
			return nil, err
		}
	}
	var userAttrs map[string]any
	if r.has("user_attributes") {
		if err := json.Unmarshal([]byte(r.get("user_attributes")), &userAttrs); err != nil {
			return nil, fault.New(fault.BadInput, "user_attributes must be a JSON object")
		}
		if userAttrs == nil {
			userAttrs = map[string]any{}
		}
	}
	system, watchdog, err := a.settingsOf(r, res)
	if err != nil {
		return nil, err
	}
	if userAttrs != nil || system != nil || watchdog != nil {
		if res, err = tree.UpdateAttributes(r.ctx, a.Client, res, userAttrs, system, watchdog); err != nil {
			return nil, err
		}
	}
	if res.Type == tree.ControllerFolder && r.has("status") {
		var st map[string]any
		if err := json.Unmarshal([]byte(r.get("status")), &st); err != nil {
			return nil, fault.New(fault.BadInput, "status must be a JSON object")
		}
		if _, err := a.Controllers.MergeStatus(r.ctx, res.ID, st); err != nil {
			return nil, err
		}
	}
	data, has, err := decodeData(r)
	if err != nil {
		return nil, err
	}
	if has {
		if err := a.writeData(r, res, data); err != nil {
			return nil, err
		}
	}
	return ok(res.ID), nil
}

// settingsOf reads the sequence settings and the controller watchdog of a PUT.
func (a *api) settingsOf(r *req, res *ent.Resource) (map[string]any, *int, error) {
	switch res.Type {
	case tree.Sequence:
		keys := []string{"system_attributes", "data_type", "decimal_places", "max_history", "min_storage_interval", "units"}
		given := false
		for _, k := range keys {
			given = given || r.has(k)
		}
		if !given {
			return nil, nil, nil
		}
		sa, err := r.jsonObject("system_attributes")
		if err != nil {
			return nil, nil, err
		}
		if sa == nil {
			sa = map[string]any{}
		}
		for _, k := range keys[1:] {
			if r.has(k) {
				sa[k] = r.get(k)
			}
		}
		out, err := sequenceSettings(sa, false)
		return out, nil, err
	case tree.ControllerFolder:
		sa, err := r.jsonObject("system_attributes")
		if err != nil || sa == nil {
			return nil, nil, err
		}
		if m, ok := number(sa["watchdog_minutes"]); ok && m > 0 {
			n := int(m)
			return nil, &n, nil
		}
	}
	return nil, nil, nil
}

func (r *req) jsonObject(name string) (map[string]any, error) {
	if !r.has(name) {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.get(name)), &m); err != nil {
		return nil, fault.New(fault.BadInput, "%s must be a JSON object", name)
	}
	return m, nil
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

// sequenceSettings keeps the five keys the original stored; data_type as our name. With
// create set, data_type is required and the original's defaults fill the rest.
func sequenceSettings(sa map[string]any, create bool) (map[string]any, error) {
	out := map[string]any{}
	dt, hasType := number(sa["data_type"])
	switch {
	case hasType:
		name, err := dataTypeName(int(dt))
		if err != nil {
			return nil, err
		}
		if create {
			out[series.AttrDataType] = name
		}
	case create:
		return nil, fault.New(fault.BadInput, "a sequence needs a data_type (1 numeric, 2 text, 3 image)")
	}
	for _, k := range []string{"decimal_places", series.AttrMaxHistory, series.AttrMinStorageInterval} {
		if v, ok := sa[k]; ok && v != "" && v != nil {
			n, ok := number(v)
			if !ok || n < 0 {
				return nil, fault.New(fault.BadInput, "%s must be a non-negative integer", k)
			}
			out[k] = int(n)
		}
	}
	if u, ok := sa["units"].(string); ok && u != "" {
		out["units"] = u
	}
	if create {
		text := out[series.AttrDataType] == tree.Text
		if _, ok := out[series.AttrMaxHistory]; !ok {
			out[series.AttrMaxHistory] = map[bool]int{true: 10000, false: 100000}[text]
		}
		if _, ok := out[series.AttrMinStorageInterval]; !ok {
			out[series.AttrMinStorageInterval] = map[bool]int{true: 0, false: 50}[text]
		}
	}
	return out, nil
}

// writeData stores new data: a value for a sequence (server time), a revision otherwise.
func (a *api) writeData(r *req, res *ent.Resource, data []byte) error {
	if res.Type == tree.Sequence {
		var value any = string(data)
		if series.AttributesOf(res).DataType == tree.Image {
			value = data
		}
		return a.storeValues(r.ctx, []series.Item{{Resource: res, Value: value}})
	}
	if res.Type != tree.File {
		return fault.New(fault.BadInput, "%s holds no data", res.Path)
	}
	_, err := files.Write(r.ctx, a.Client, a.Blobs, res, bytes.NewReader(data), "", a.author(r.v), a.BulkThreshold, a.MaxUploadBytes)
	return err
}

func (a *api) author(v *access.Viewer) files.Author {
	var au files.Author
	if v.User != nil {
		au.UserID = v.User.ID
	}
	if v.Controller != nil {
		au.ControllerID = v.Controller.ID
	}
	return au
}

// storeValues stores values and announces them (sequence_update, MQTT d, lines).
func (a *api) storeValues(ctx context.Context, items []series.Item) error {
	stored, itemErrs, err := a.Store(ctx, items)
	if err != nil {
		if len(itemErrs) > 0 {
			return fault.Wrap(err, itemErrs[0].Code, "%s", itemErrs[0].Message)
		}
		return err
	}
	if a.Live != nil {
		a.Live.PublishValues(ctx, stored)
	}
	return nil
}

func (a *api) deleteResource(_ http.ResponseWriter, r *req) (any, error) {
	res, _, err := a.resolve(r, access.Write)
	if err != nil {
		return nil, err
	}
	if r.flag("data_only") {
		switch res.Type {
		case tree.Sequence:
			_, err = series.DeleteRange(r.ctx, a.Client, res, nil, nil)
		case tree.File:
			err = files.DeleteData(r.ctx, a.Client, a.Blobs, []int{res.ID})
		}
		if err != nil {
			return nil, err
		}
		return ok(res.ID), nil
	}
	err = tree.Delete(r.ctx, a.Client, res, func(ctx context.Context, ids []int) error {
		return files.DeleteData(ctx, a.Client, a.Blobs, ids)
	})
	if err != nil {
		return nil, err
	}
	if a.Live != nil {
		a.Live.AccessChanged(r.ctx, "resource deleted")
	}
	return ok(res.ID), nil
}

// createResource is POST /api/v1/resources.
func (a *api) createResource(_ http.ResponseWriter, r *req) (any, error) {
	parent := r.get("path", "parent")
	if !strings.HasPrefix(parent, "/") {
		return nil, fault.New(fault.BadInput, "path must be an absolute path (starting with /)")
	}
	upload, uploadName := r.upload("file")
	name := r.get("name")
	if name == "" {
		name = uploadName
	}
	typStr, err := r.required("type")
	if err != nil {
		return nil, err
	}
	typ, err := strconv.Atoi(strings.TrimSpace(typStr))
	if err != nil {
		return nil, fault.New(fault.BadInput, "type must be an integer")
	}
	path := strings.TrimSuffix(parent, "/") + "/" + name
	clean, err := tree.CleanPath(path)
	if err != nil {
		return nil, err
	}
	if err := a.requireParent(r.ctx, r.v, tree.ParentPath(clean)); err != nil {
		return nil, err
	}
	exists, err := a.Client.Resource.Query().Where(resource.Path(clean), resource.Deleted(false)).Exist(r.ctx)
	if err != nil {
		return nil, err
	}
	if exists {
		return map[string]any{"status": "error", "message": "Resource already exists."}, nil
	}
	var userAttrs map[string]any
	if ua, err := r.jsonObject("user_attributes"); err != nil {
		return nil, err
	} else if ua != nil {
		userAttrs = ua
	}
	p := tree.CreateParams{Path: clean, UserAttributes: userAttrs, CreateParents: true}
	var res *ent.Resource
	switch typ {
	case typeBasicFolder:
		p.Type = tree.Folder
		res, err = tree.Create(r.ctx, a.Client, p)
	case typeApp:
		p.Type = tree.App
		res, err = tree.Create(r.ctx, a.Client, p)
	case typeControllerFolder:
		res, err = tree.CreateController(r.ctx, a.Client, clean, true)
	case typeSequence:
		sa, err2 := r.jsonObject("system_attributes")
		if err2 != nil {
			return nil, err2
		}
		if sa == nil {
			sa = map[string]any{}
		}
		if r.has("data_type") {
			sa["data_type"] = r.get("data_type")
		}
		for _, k := range []string{"decimal_places", "units", "max_history", "min_storage_interval"} {
			if r.has(k) {
				sa[k] = r.get(k)
			}
		}
		if p.SystemAttributes, err = sequenceSettings(sa, true); err != nil {
			return nil, err
		}
		p.Type = tree.Sequence
		res, err = tree.Create(r.ctx, a.Client, p)
	case typeFile:
		return a.createFile(r, p, upload)
	case typeOrgFolder:
		return nil, fault.New(fault.BadInput, "organizations are created with POST /api/v1/organizations")
	case typeRemoteFolder:
		return nil, fault.New(fault.BadInput, "remote folders are not supported")
	default:
		return nil, fault.New(fault.BadInput, "unknown resource type %d", typ)
	}
	if err != nil {
		return nil, err
	}
	return ok(res.ID), nil
}

func (a *api) createFile(r *req, p tree.CreateParams, upload multipart.File) (any, error) {
	var content io.Reader
	if upload != nil {
		defer func() { _ = upload.Close() }()
		content = upload
	} else if data, has, err := decodeData(r); err != nil {
		return nil, err
	} else if has {
		content = bytes.NewReader(data)
	}
	p.Type = tree.File
	f, err := tree.Create(r.ctx, a.Client, p)
	if err != nil {
		return nil, err
	}
	if content != nil {
		if _, err := files.Write(r.ctx, a.Client, a.Blobs, f, content, "", a.author(r.v), a.BulkThreshold, a.MaxUploadBytes); err != nil {
			_ = tree.Delete(context.WithoutCancel(r.ctx), a.Client, f, nil)
			return nil, err
		}
	}
	return ok(f.ID), nil
}

func (r *req) upload(name string) (multipart.File, string) {
	if r.MultipartForm == nil || len(r.MultipartForm.File[name]) == 0 {
		return nil, ""
	}
	fh := r.MultipartForm.File[name][0]
	f, err := fh.Open()
	if err != nil {
		return nil, ""
	}
	return f, fh.Filename
}

// postResourcePath is the legacy file write: a new revision of whatever is at the path,
// or a new file (with missing folders). Write access is checked where the write lands
// (the original checked only the organization folder).
func (a *api) postResourcePath(_ http.ResponseWriter, r *req) (any, error) {
	path, err := tree.CleanPath("/" + r.PathValue("path"))
	if err != nil {
		return nil, err
	}
	data, _, err := decodeData(r)
	if err != nil {
		return nil, err
	}
	res, err := tree.ByPath(r.ctx, a.Client, path)
	switch {
	case err == nil:
		if err := a.Authz.Require(r.ctx, r.v, res, access.Write); err != nil {
			return nil, err
		}
		if err := a.writeData(r, res, data); err != nil {
			return nil, err
		}
		return ok(res.ID), nil
	case !fault.Is(err, fault.NotFound):
		return nil, err
	}
	if err := a.requireParent(r.ctx, r.v, tree.ParentPath(path)); err != nil {
		return nil, err
	}
	return a.createFile(r, tree.CreateParams{Path: path, CreateParents: true}, nil)
}

// listByType is GET /api/v1/resources: every resource of a type, for system admins.
func (a *api) listByType(_ http.ResponseWriter, r *req) (any, error) {
	if err := a.requireSessionAdmin(r.v); err != nil {
		return nil, err
	}
	typStr, err := r.required("type")
	if err != nil {
		return nil, err
	}
	typ, err := typeByName(strings.TrimSpace(typStr))
	if err != nil {
		return nil, err
	}
	extended, err := r.intParam("extended", 0)
	if err != nil {
		return nil, err
	}
	rs, err := a.Client.Resource.Query().Where(resource.TypeEQ(typ), resource.Deleted(false)).Order(ent.Asc(resource.FieldID)).All(r.ctx)
	if err != nil {
		return nil, err
	}
	ds, err := a.dicts(r.ctx, rs, extended != 0)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(ds))
	for i, d := range ds {
		d["path"] = rs[i].Path
		out[strconv.Itoa(rs[i].ID)] = d
	}
	return out, nil
}

// requireSessionAdmin allows system admins signed in with a session (keys never have
// system-admin powers).
func (a *api) requireSessionAdmin(v *access.Viewer) error {
	if v.Anonymous() {
		return fault.New(fault.Unauthenticated, "sign in first")
	}
	return a.Authz.RequireSystemAdmin(v)
}

// updateMany is PUT /api/v1/resources: values {"/path/seq": value} at one timestamp, with
// the controller clock-drift correction. Unknown sequences and those the caller may not
// write are skipped silently, as are values a sequence refuses.
func (a *api) updateMany(_ http.ResponseWriter, r *req) (any, error) {
	raw, err := r.required("values")
	if err != nil {
		return nil, err
	}
	var values map[string]any
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&values); err != nil {
		return nil, fault.New(fault.BadInput, "values must be a JSON object of paths and values")
	}
	at := series.ServerTime()
	if s := r.get("timestamp"); s != "" {
		if at, err = parseTime(s); err != nil {
			return nil, err
		}
		if at, err = a.correctDrift(r.ctx, r.v, at); err != nil {
			return nil, err
		}
	}
	paths := make([]string, 0, len(values))
	for p := range values {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var items []series.Item
	for _, p := range paths {
		seq, err := a.Paths.ByPath(r.ctx, a.Client, p)
		if err != nil || seq.Type != tree.Sequence || a.Authz.Require(r.ctx, r.v, seq, access.Write) != nil {
			continue
		}
		v := values[p]
		if n, isNum := v.(json.Number); isNum {
			v = n.String()
		} else if _, isStr := v.(string); !isStr {
			b, _ := json.Marshal(v)
			v = string(b)
		}
		t := at
		items = append(items, series.Item{Resource: seq, Value: v, Time: &t, ServerTime: r.get("timestamp") == ""})
	}
	return nil, a.storeSkipping(r.ctx, items)
}

// storeSkipping stores items, leaving out those refused one by one.
func (a *api) storeSkipping(ctx context.Context, items []series.Item) error {
	for len(items) > 0 {
		stored, itemErrs, err := a.Store(ctx, items)
		if err == nil {
			if a.Live != nil {
				a.Live.PublishValues(ctx, stored)
			}
			return nil
		}
		if len(itemErrs) == 0 {
			return err
		}
		bad := map[int]bool{}
		for _, ie := range itemErrs {
			bad[ie.Index] = true
		}
		kept := items[:0:0]
		for i, it := range items {
			if !bad[i] {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	return nil
}

// Drift thresholds of the original.
const (
	driftApplied  = 30 * time.Second
	driftReplaced = 100 * time.Second
)

// correctDrift shifts a controller's timestamp by its stored clock correction, storing a
// new one when the clock is off by more than 30 s and the stored one by more than 100 s.
func (a *api) correctDrift(ctx context.Context, v *access.Viewer, at time.Time) (time.Time, error) {
	if v.Controller == nil || a.Controllers == nil {
		return at, nil
	}
	drift := timeNow().Sub(at)
	if drift.Abs() <= driftApplied {
		return at, nil
	}
	st, err := a.Controllers.Status(ctx, v.Controller.ID)
	if err != nil && !fault.Is(err, fault.NotFound) {
		return at, err
	}
	var stored time.Duration
	has := false
	if st != nil {
		if f, ok := number(st.Status["timestamp_correction"]); ok {
			stored, has = time.Duration(f*float64(time.Second)), true
		}
	}
	if !has || (drift-stored).Abs() > driftReplaced {
		stored = drift
		if _, err := a.Controllers.MergeStatus(ctx, v.Controller.ID, map[string]any{"timestamp_correction": drift.Seconds()}); err != nil {
			return at, err
		}
	}
	return at.Add(stored), nil
}
