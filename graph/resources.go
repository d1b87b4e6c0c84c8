package graph

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/graph/model"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/files"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

func isTrue(b *bool) bool { return b != nil && *b }

// authorized resolves path and requires level on it.
func (r *Resolver) authorized(ctx context.Context, path string, level access.Level) (*ent.Resource, error) {
	res, err := tree.ByPath(ctx, r.Client, path)
	if err != nil {
		return nil, err
	}
	if err := r.Authz.Require(ctx, viewer(ctx), res, level); err != nil {
		return nil, err
	}
	return res, nil
}

// writable resolves the sequence a value is written to through the path cache and
// requires write access on it. Only for writing values: the resource's LastRevisionAt is
// not the stored one (tree.PathCache).
func (r *Resolver) writable(ctx context.Context, path string) (*ent.Resource, error) {
	res, err := r.Paths.ByPath(ctx, r.Client, path)
	if err != nil {
		return nil, err
	}
	if err := r.Authz.Require(ctx, viewer(ctx), res, access.Write); err != nil {
		return nil, err
	}
	return res, nil
}

// requireParent requires level on the nearest existing folder above path (creating a
// resource needs write access where it goes; missing parents are created below it).
func (r *Resolver) requireParent(ctx context.Context, path string, level access.Level) error {
	clean, err := tree.CleanPath(path)
	if err != nil {
		return err
	}
	for p := tree.ParentPath(clean); p != ""; p = tree.ParentPath(p) {
		res, err := tree.ByPath(ctx, r.Client, p)
		if fault.Is(err, fault.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		err = r.Authz.Require(ctx, viewer(ctx), res, level)
		if fault.Is(err, fault.NotFound) {
			// Hidden: answer as for a missing parent, whichever ancestor was found.
			return fault.Wrap(err, fault.NotFound, "no resource at %s", tree.ParentPath(clean))
		}
		return err
	}
	if tree.ParentPath(clean) == "" {
		return fault.New(fault.BadInput, "top-level folders are organizations: use createOrganization")
	}
	// Nothing above path exists: the same answer a hidden parent gets.
	return fault.New(fault.NotFound, "no resource at %s", tree.ParentPath(clean))
}

// descendants lists what is below obj. Read access is inherited (membership covers the
// organization, grants cover the subtree), so one check on obj stands for all of them
// instead of one per row.
func (r *Resolver) descendants(ctx context.Context, obj *ent.Resource, depth int) ([]*ent.Resource, error) {
	if err := r.Authz.Require(ctx, viewer(ctx), obj, access.Read); err != nil {
		return []*ent.Resource{}, nil //nolint:nilerr // a resource the viewer cannot read has no visible descendants
	}
	return tree.Descendants(ctx, r.Client, obj, depth)
}

// readableOnly drops the resources the viewer may not read.
func (r *Resolver) readableOnly(ctx context.Context, rs []*ent.Resource) ([]*ent.Resource, error) {
	out := make([]*ent.Resource, 0, len(rs))
	for _, res := range rs {
		err := r.Authz.Require(ctx, viewer(ctx), res, access.Read)
		switch {
		case err == nil:
			out = append(out, res)
		case fault.Is(err, fault.NotFound), fault.Is(err, fault.Unauthenticated), fault.Is(err, fault.Forbidden):
		default:
			return nil, err
		}
	}
	return out, nil
}

func fileURL(path string, rev int) string {
	u := files.Prefix + (&url.URL{Path: path}).EscapedPath()
	if rev > 0 {
		u += "?rev=" + strconv.Itoa(rev)
	}
	return u
}

func author(ctx context.Context) files.Author {
	v := viewer(ctx)
	var a files.Author
	if v.User != nil {
		a.UserID = v.User.ID
	}
	if v.Controller != nil {
		a.ControllerID = v.Controller.ID
	}
	return a
}

// fileContent picks the upload or the base64 content.
func fileContent(content *graphql.Upload, contentBase64 *string, contentType string) (io.Reader, string, bool, error) {
	switch {
	case content != nil && contentBase64 != nil:
		return nil, "", false, fault.New(fault.BadInput, "give content or contentBase64, not both")
	case content != nil:
		if contentType == "" {
			contentType = content.ContentType
		}
		return content.File, contentType, true, nil
	case contentBase64 != nil:
		b, err := base64.StdEncoding.DecodeString(*contentBase64)
		if err != nil {
			return nil, "", false, fault.New(fault.BadInput, "contentBase64 is not standard base64: %v", err)
		}
		return bytes.NewReader(b), contentType, true, nil
	}
	return nil, contentType, false, nil
}

func (r *Resolver) createFile(ctx context.Context, path string, content *graphql.Upload, contentBase64 *string, contentType string, createParents bool) (*ent.Resource, error) {
	body, ctype, has, err := fileContent(content, contentBase64, contentType)
	if err != nil {
		return nil, err
	}
	f, err := tree.Create(ctx, r.Client, tree.CreateParams{Path: path, Type: tree.File, CreateParents: createParents})
	if err != nil {
		return nil, err
	}
	if !has {
		return f, nil
	}
	if _, err := files.Write(ctx, r.Client, r.Blobs, f, body, ctype, author(ctx), r.BulkThreshold, r.MaxUploadBytes); err != nil {
		// Creating the file and its first content is one request: undo the empty file.
		if delErr := tree.Delete(context.WithoutCancel(ctx), r.Client, f, nil); delErr != nil {
			return nil, errors.Join(err, delErr)
		}
		return nil, err
	}
	return r.Client.Resource.Get(ctx, f.ID)
}

func (r *Resolver) writeFile(ctx context.Context, f *ent.Resource, content *graphql.Upload, contentBase64 *string, contentType string) (*ent.Revision, error) {
	body, ctype, has, err := fileContent(content, contentBase64, contentType)
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, fault.New(fault.BadInput, "give content (an upload) or contentBase64")
	}
	return files.Write(ctx, r.Client, r.Blobs, f, body, ctype, author(ctx), r.BulkThreshold, r.MaxUploadBytes)
}

var dataTypes = map[model.SequenceDataType]string{
	model.SequenceDataTypeNumeric: tree.Numeric, model.SequenceDataTypeText: tree.Text,
	model.SequenceDataTypeImage: tree.Image, model.SequenceDataTypeJSON: tree.JSON,
}

// maxPublicAfter is the longest embargo: 100 years, in seconds.
const maxPublicAfter = 100 * 365.25 * 86400

func sequenceAttributes(in model.CreateSequenceInput) (map[string]any, error) {
	a := map[string]any{series.AttrDataType: dataTypes[in.DataType]}
	settings := model.SequenceSettingsInput{Units: in.Units, DecimalPlaces: in.DecimalPlaces, Min: in.Min, Max: in.Max,
		MaxHistory: in.MaxHistory, MinStorageInterval: in.MinStorageInterval}
	s, err := settingsMap(settings, in.DataType == model.SequenceDataTypeNumeric)
	if err != nil {
		return nil, err
	}
	for k, v := range s {
		if v != nil {
			a[k] = v
		}
	}
	return a, nil
}

// settingsMap validates sequence settings and returns them as system attributes (nil
// removes one).
func settingsMap(in model.SequenceSettingsInput, numeric bool) (map[string]any, error) {
	m := map[string]any{}
	if in.Units != nil {
		if len(*in.Units) > 50 {
			return nil, fault.New(fault.BadInput, "units may have at most 50 characters")
		}
		m["units"] = *in.Units
	}
	if in.DecimalPlaces != nil {
		if *in.DecimalPlaces < 0 || *in.DecimalPlaces > 15 {
			return nil, fault.New(fault.BadInput, "decimalPlaces must be between 0 and 15")
		}
		m["decimal_places"] = *in.DecimalPlaces
	}
	if (in.Min != nil || in.Max != nil) && !numeric {
		return nil, fault.New(fault.BadInput, "min and max apply to numeric sequences only")
	}
	if in.Min != nil && in.Max != nil && *in.Min > *in.Max {
		return nil, fault.New(fault.BadInput, "min (%g) is above max (%g)", *in.Min, *in.Max)
	}
	if in.Min != nil {
		m[series.AttrMin] = *in.Min
	}
	if in.Max != nil {
		m[series.AttrMax] = *in.Max
	}
	if isTrue(in.ClearRange) {
		m[series.AttrMin], m[series.AttrMax] = nil, nil
	}
	if in.MaxHistory != nil {
		if *in.MaxHistory < 0 {
			return nil, fault.New(fault.BadInput, "maxHistory must not be negative")
		}
		m[series.AttrMaxHistory] = *in.MaxHistory
	}
	if in.MinStorageInterval != nil {
		if *in.MinStorageInterval < 0 {
			return nil, fault.New(fault.BadInput, "minStorageInterval must not be negative")
		}
		m[series.AttrMinStorageInterval] = *in.MinStorageInterval
	}
	if in.PublicAfter != nil {
		if !numeric {
			return nil, fault.New(fault.BadInput, "publicAfter applies to numeric sequences only")
		}
		if *in.PublicAfter < 0 || *in.PublicAfter > maxPublicAfter {
			return nil, fault.New(fault.BadInput, "publicAfter must be between 0 and %g seconds", float64(maxPublicAfter))
		}
		m[series.AttrPublicAfter] = *in.PublicAfter
		if *in.PublicAfter == 0 {
			m[series.AttrPublicAfter] = nil
		}
	}
	return m, nil
}

func sequenceSettings(res *ent.Resource, in *model.SequenceSettingsInput) (map[string]any, error) {
	if in == nil {
		return nil, nil
	}
	if res.Type != tree.Sequence {
		return nil, fault.New(fault.BadInput, "%s is not a sequence", res.Path)
	}
	attrs := series.AttributesOf(res)
	m, err := settingsMap(*in, attrs.DataType == tree.Numeric)
	if err != nil {
		return nil, err
	}
	lo, hi := attrs.Min, attrs.Max
	if in.Min != nil {
		lo = in.Min
	}
	if in.Max != nil {
		hi = in.Max
	}
	if !isTrue(in.ClearRange) && lo != nil && hi != nil && *lo > *hi {
		return nil, fault.New(fault.BadInput, "min (%g) is above max (%g)", *lo, *hi)
	}
	return m, nil
}

func sequenceInfo(res *ent.Resource) *model.SequenceInfo {
	a := series.AttributesOf(res)
	info := &model.SequenceInfo{Min: a.Min, Max: a.Max}
	for k, v := range dataTypes {
		if v == a.DataType {
			info.DataType = k
		}
	}
	if u, ok := res.SystemAttributes["units"].(string); ok {
		info.Units = &u
	}
	if d, ok := res.SystemAttributes["decimal_places"].(float64); ok {
		n := int(d)
		info.DecimalPlaces = &n
	}
	if a.MaxHistory > 0 {
		n := int(a.MaxHistory)
		info.MaxHistory = &n
	}
	if a.MinStorageInterval > 0 {
		s := a.MinStorageInterval.Seconds()
		info.MinStorageInterval = &s
	}
	if a.PublicAfter > 0 {
		s := a.PublicAfter.Seconds()
		info.PublicAfter = &s
	}
	return info
}

func sequenceValue(v series.Value) *model.SequenceValue {
	out := &model.SequenceValue{Timestamp: v.Time, Number: v.Num, Text: v.Text}
	if v.Data != nil {
		s := base64.StdEncoding.EncodeToString(v.Data)
		out.ImageBase64 = &s
	}
	if v.ContentType != "" {
		out.ContentType = &v.ContentType
	}
	return out
}

// storedValue is the answer to updateSequence: what was stored, as stored.
func storedValue(res *ent.Resource, value string, at time.Time) *model.SequenceValue {
	out := &model.SequenceValue{Timestamp: at.UTC().Truncate(time.Microsecond)}
	switch series.AttributesOf(res).DataType {
	case tree.Numeric:
		if f, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			out.Number = &f
		}
	case tree.Image:
		out.ImageBase64 = &value
	default:
		out.Text = &value
	}
	return out
}

// sequenceItems resolves and authorizes every path of a batch; unknown or forbidden paths
// are item errors, so the whole batch fails with every problem listed.
func (r *Resolver) sequenceItems(ctx context.Context, in []*model.SequenceValueInput) ([]series.Item, error) {
	if len(in) == 0 {
		return nil, fault.New(fault.BadInput, "values is empty")
	}
	if len(in) > 100000 {
		return nil, fault.New(fault.BadInput, "at most 100000 values per call")
	}
	resolved := map[string]*ent.Resource{}
	failed := map[string]error{}
	items := make([]series.Item, len(in))
	var itemErrs []series.ItemError
	for i, v := range in {
		res, seen := resolved[v.Path]
		err := failed[v.Path]
		if !seen && err == nil {
			res, err = r.writable(ctx, v.Path)
			if err != nil {
				failed[v.Path] = err
			} else {
				resolved[v.Path] = res
			}
		}
		if err != nil {
			itemErrs = append(itemErrs, series.ItemError{Index: i, Code: fault.CodeOf(err), Message: fault.SafeMessage(err)})
			continue
		}
		items[i] = series.Item{Resource: res, Value: v.Value, Time: v.Timestamp}
	}
	if len(itemErrs) > 0 {
		return nil, withItemErrors(fault.New(fault.BadInput, "%d of %d values refused; nothing was stored", len(itemErrs), len(in)), itemErrs)
	}
	return items, nil
}

// withItemErrors attaches per-item errors to err as extensions.items.
func withItemErrors(err error, items []series.ItemError) error {
	if len(items) == 0 {
		return err
	}
	list := make([]map[string]any, len(items))
	for i, it := range items {
		list[i] = map[string]any{"index": it.Index, "code": string(it.Code), "message": it.Message}
	}
	var fe *fault.Error
	if !errors.As(err, &fe) {
		fe = fault.Wrap(err, fault.BadInput, "%d values refused; nothing was stored", len(items))
	}
	out := *fe
	out.Extensions = map[string]any{"items": list}
	return &out
}

func resourceConnection(p *tree.ChildrenPage, hasPrev bool) *model.ResourceConnection {
	edges, info := page(p.Resources, tree.Cursor,
		func(n *ent.Resource, c string) *model.ResourceEdge { return &model.ResourceEdge{Node: n, Cursor: c} }, p.HasNext, hasPrev)
	return &model.ResourceConnection{Edges: edges, PageInfo: info}
}

func valueConnection(page *series.Page) *model.SequenceValueConnection {
	conn := &model.SequenceValueConnection{PageInfo: &model.PageInfo{HasNextPage: page.HasNextPage, HasPreviousPage: page.HasPreviousPage}}
	conn.Edges = make([]*model.SequenceValueEdge, len(page.Values))
	for i, v := range page.Values {
		conn.Edges[i] = &model.SequenceValueEdge{Node: sequenceValue(v), Cursor: series.Cursor(v)}
	}
	if page.StartCursor != "" {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &page.StartCursor, &page.EndCursor
	}
	return conn
}

func revisionConnection(p *files.Page, hasPrev bool) *model.FileRevisionConnection {
	edges, info := page(p.Revisions, func(r *ent.Revision) string { return encodeCursor(r.ID) },
		func(n *ent.Revision, c string) *model.FileRevisionEdge {
			return &model.FileRevisionEdge{Node: n, Cursor: c}
		}, p.HasNext, hasPrev)
	return &model.FileRevisionConnection{Edges: edges, PageInfo: info}
}
