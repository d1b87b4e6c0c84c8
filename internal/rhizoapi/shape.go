package rhizoapi

import (
	"context"
	"fmt"
	"strconv"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/controllerstatus"
	"github.com/rhizoflex/rhizoflex/ent/revision"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// The original's resource type numbers.
const (
	typeBasicFolder      = 10
	typeOrgFolder        = 11
	typeControllerFolder = 12
	typeRemoteFolder     = 13
	typeFile             = 20
	typeSequence         = 21
	typeApp              = 22
)

var typeNumbers = map[tree.Type]int{
	tree.Folder: typeBasicFolder, tree.OrganizationFolder: typeOrgFolder, tree.ControllerFolder: typeControllerFolder,
	tree.File: typeFile, tree.Sequence: typeSequence, tree.App: typeApp,
}

// typeByName reads the ?type= filter names of the original (and the numbers).
func typeByName(s string) (tree.Type, error) {
	switch s {
	case "basic_folder", "basicFolder", "10":
		return tree.Folder, nil
	case "organization_folder", "organizationFolder", "11":
		return tree.OrganizationFolder, nil
	case "controller_folder", "controllerFolder", "12":
		return tree.ControllerFolder, nil
	case "file", "20":
		return tree.File, nil
	case "sequence", "21":
		return tree.Sequence, nil
	case "app", "22":
		return tree.App, nil
	}
	return "", fault.New(fault.BadInput, "unknown resource type %q", s)
}

// The original's sequence data types. JSON sequences (ours only) are 4.
var dataTypeNumbers = map[string]int{tree.Numeric: 1, tree.Text: 2, tree.Image: 3, tree.JSON: 4}

func dataTypeName(n int) (string, error) {
	for name, num := range dataTypeNumbers {
		if num == n {
			return name, nil
		}
	}
	return "", fault.New(fault.BadInput, "unknown data_type %d (1 numeric, 2 text, 3 image)", n)
}

// systemAttributes are a resource's system attributes in the original's shape (data_type
// as a number).
func systemAttributes(r *ent.Resource) map[string]any {
	out := make(map[string]any, len(r.SystemAttributes))
	for k, v := range r.SystemAttributes {
		out[k] = v
	}
	if r.Type == tree.Sequence {
		out[series.AttrDataType] = dataTypeNumbers[series.AttributesOf(r).DataType]
	}
	return out
}

// dicts renders resources as the original's as_dict(extended), with the controller status
// merged into controller folders in extended mode.
func (a *api) dicts(ctx context.Context, rs []*ent.Resource, extended bool) ([]map[string]any, error) {
	out := make([]map[string]any, len(rs))
	var lastRev map[int]int
	var statuses map[int]*ent.ControllerStatus
	if extended {
		var err error
		if lastRev, err = a.lastRevisions(ctx, rs); err != nil {
			return nil, err
		}
		if statuses, err = a.statuses(ctx, rs); err != nil {
			return nil, err
		}
	}
	for i, r := range rs {
		d := map[string]any{"id": r.ID, "name": r.Name, "type": typeNumbers[r.Type]}
		if extended {
			d["parent_id"] = r.ParentID
			d["creationTimestamp"], d["creation_timestamp"] = isoTime(r.CreatedAt), isoTime(r.CreatedAt)
			mod := r.UpdatedAt
			if r.LastRevisionAt != nil {
				mod = *r.LastRevisionAt
			}
			d["modificationTimestamp"], d["modification_timestamp"] = isoTime(mod), isoTime(mod)
			d["permissions"] = []any{}
			sa := systemAttributes(r)
			d["settings"], d["system_attributes"] = sa, sa
			ua := r.UserAttributes
			if ua == nil {
				ua = map[string]any{}
			}
			d["user_attributes"] = ua
			var rev any
			if id, ok := lastRev[r.ID]; ok {
				rev = id
			}
			d["lastRevisionId"], d["last_revision_id"] = rev, rev
			if st := statuses[r.ID]; r.Type == tree.ControllerFolder {
				a.mergeStatus(ctx, d, st)
			}
		}
		out[i] = d
	}
	return out, nil
}

func (a *api) dict(ctx context.Context, r *ent.Resource, extended bool) (map[string]any, error) {
	ds, err := a.dicts(ctx, []*ent.Resource{r}, extended)
	if err != nil {
		return nil, err
	}
	return ds[0], nil
}

// mergeStatus adds ControllerStatus.as_dict(extended=True).
func (a *api) mergeStatus(ctx context.Context, d map[string]any, st *ent.ControllerStatus) {
	d["client_version"], d["web_socket_connected"] = "", false
	d["last_connect_timestamp"], d["last_watchdog_timestamp"] = "", ""
	d["status"] = map[string]any{}
	if st == nil {
		return
	}
	d["client_version"] = st.ClientVersion
	if a.Controllers != nil {
		d["web_socket_connected"] = a.Controllers.IsOnline(st, timeNow())
	}
	d["last_connect_timestamp"] = isoSpaceZ(st.LastConnectAt)
	d["last_watchdog_timestamp"] = isoSpaceZ(st.LastWatchdogAt)
	if st.Status != nil {
		d["status"] = st.Status
	}
}

func (a *api) lastRevisions(ctx context.Context, rs []*ent.Resource) (map[int]int, error) {
	var ids []int
	for _, r := range rs {
		if r.Type == tree.File || r.Type == tree.Sequence {
			ids = append(ids, r.ID)
		}
	}
	out := map[int]int{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ResourceID int `json:"resource_id"`
		Max        int `json:"max"`
	}
	err := a.Client.Revision.Query().Where(revision.ResourceIDIn(ids...)).
		GroupBy(revision.FieldResourceID).Aggregate(ent.Max(revision.FieldID)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("last revisions: %w", err)
	}
	for _, row := range rows {
		out[row.ResourceID] = row.Max
	}
	return out, nil
}

func (a *api) statuses(ctx context.Context, rs []*ent.Resource) (map[int]*ent.ControllerStatus, error) {
	var ids []int
	for _, r := range rs {
		if r.Type == tree.ControllerFolder {
			ids = append(ids, r.ID)
		}
	}
	out := map[int]*ent.ControllerStatus{}
	if len(ids) == 0 {
		return out, nil
	}
	sts, err := a.Client.ControllerStatus.Query().Where(controllerstatus.ControllerIDIn(ids...)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("controller statuses: %w", err)
	}
	for _, st := range sts {
		out[st.ControllerID] = st
	}
	return out, nil
}

// valueText is a stored value as the original returned it: the text that was stored.
func valueText(v series.Value) string {
	switch {
	case v.Num != nil:
		return strconv.FormatFloat(*v.Num, 'f', -1, 64)
	case v.Text != nil:
		return *v.Text
	}
	return string(v.Data)
}
