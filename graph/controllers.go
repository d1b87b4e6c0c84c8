package graph

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/controllerstatus"
	"github.com/rhizoflex/rhizoflex/ent/outgoingmessage"
	"github.com/rhizoflex/rhizoflex/ent/revision"
	"github.com/rhizoflex/rhizoflex/graph/model"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/live"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/thumbnail"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Controllers is what resolvers need of controller liveness, status and the watchdog.
type Controllers interface {
	MergeStatus(ctx context.Context, controllerID int, patch map[string]any) (map[string]any, error)
	SetRecipients(ctx context.Context, controllerID int, userIDs []int) error
	RecipientEmails(ctx context.Context, controllerID int) ([]string, error)
	IsOnline(status *ent.ControllerStatus, now time.Time) bool
}

// controllerFor resolves a controller folder by path (a controller key may leave it
// empty for its own) and requires level on it.
func (r *Resolver) controllerFor(ctx context.Context, path string, level access.Level) (*ent.Resource, error) {
	v := viewer(ctx)
	if path == "" {
		if v.Controller == nil {
			return nil, fault.New(fault.BadInput, "give the controller's path (only a controller key may leave it out)")
		}
		path = v.Controller.Path
	}
	res, err := r.authorized(ctx, path, level)
	if err != nil {
		return nil, err
	}
	if res.Type != tree.ControllerFolder {
		return nil, fault.New(fault.BadInput, "%s is a %s, not a controller", res.Path, res.Type)
	}
	return res, nil
}

// setWatchdog sets the minutes and the recipients, who must be users that may read the
// controller (an unknown address and a user without access get the same answer).
func (r *Resolver) setWatchdog(ctx context.Context, ctrl *ent.Resource, minutes int, recipients []string) error {
	ids := make([]int, 0, len(recipients))
	for _, email := range recipients {
		u, err := account.UserByEmail(ctx, r.Client, email)
		if err == nil {
			rv := &access.Viewer{User: u}
			if err = r.Authz.LoadMemberships(ctx, rv); err == nil {
				err = r.Authz.Require(ctx, rv, ctrl, access.Read)
			}
		}
		if fault.Is(err, fault.NotFound) {
			return fault.New(fault.BadInput, "%s is not a user who may read %s", email, ctrl.Path)
		}
		if err != nil {
			return err
		}
		ids = append(ids, u.ID)
	}
	if _, err := tree.UpdateAttributes(ctx, r.Client, ctrl, nil, nil, &minutes); err != nil {
		return err
	}
	return r.Controllers.SetRecipients(ctx, ctrl.ID, ids)
}

// controllerInfo is the liveness, status and watchdog of a controller folder.
func (r *Resolver) controllerInfo(ctx context.Context, res *ent.Resource) (*model.ControllerInfo, error) {
	if res.Type != tree.ControllerFolder {
		return nil, nil
	}
	st, err := r.Client.ControllerStatus.Query().Where(controllerstatus.ControllerID(res.ID)).Only(ctx)
	if ent.IsNotFound(err) {
		return &model.ControllerInfo{WatchdogRecipients: []string{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("controller status of %s: %w", res.Path, err)
	}
	recipients, err := r.Controllers.RecipientEmails(ctx, res.ID)
	if err != nil {
		return nil, err
	}
	info := &model.ControllerInfo{
		Online: r.Controllers.IsOnline(st, time.Now()), LastConnectAt: st.LastConnectAt,
		LastWatchdogAt: st.LastWatchdogAt, Status: st.Status, WatchdogMinutes: st.WatchdogMinutes,
		WatchdogRecipients: recipients,
	}
	if st.ClientVersion != "" {
		info.ClientVersion = &st.ClientVersion
	}
	return info, nil
}

// outgoingMessages pages an organization's outgoing e-mail and text records, newest first,
// for its admins.
func (r *Resolver) outgoingMessages(ctx context.Context, org *ent.Organization, first *int, after *string) (*model.OutgoingMessageConnection, error) {
	if err := r.Authz.RequireOrgAdmin(viewer(ctx), org.ID); err != nil {
		return nil, err
	}
	n, err := pageSize(first, 50, 500)
	if err != nil {
		return nil, err
	}
	q := r.Client.OutgoingMessage.Query().Where(outgoingmessage.OrganizationID(org.ID)).
		Order(ent.Desc(outgoingmessage.FieldID)).Limit(n + 1)
	if after != nil {
		id, err := decodeCursor(*after)
		if err != nil {
			return nil, err
		}
		q = q.Where(outgoingmessage.IDLT(id))
	}
	rows, err := q.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list outgoing messages: %w", err)
	}
	rows, more := firstN(rows, n)
	edges, info := page(rows, func(m *ent.OutgoingMessage) string { return encodeCursor(m.ID) },
		func(m *ent.OutgoingMessage, c string) *model.OutgoingMessageEdge {
			return &model.OutgoingMessageEdge{Node: m, Cursor: c}
		}, more, after != nil)
	return &model.OutgoingMessageConnection{Edges: edges, PageInfo: info}, nil
}

// imageOf loads the image of a pushed image value (events carry no bytes).
func (r *Resolver) imageOf(ctx context.Context, v *live.Value) (*string, error) {
	if v.ContentType == "" {
		return nil, nil
	}
	rev, err := r.Client.Revision.Query().
		Where(revision.ResourceID(v.SequenceID), revision.Timestamp(series.Micros(v.Timestamp))).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil // replaced or trimmed since
	}
	if err != nil {
		return nil, fmt.Errorf("load image value: %w", err)
	}
	s := base64.StdEncoding.EncodeToString(rev.Data)
	return &s, nil
}

// thumbnailOf scales a base64 image to fit size (default 160) pixels.
func thumbnailOf(b64 string, size *int) (*string, error) {
	n := 160
	if size != nil {
		n = *size
	}
	if n < 1 || n > thumbnail.MaxEdge {
		return nil, fault.New(fault.BadInput, "size must be between 1 and %d", thumbnail.MaxEdge)
	}
	src, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("decode stored image: %w", err)
	}
	out, _, err := thumbnail.Make(src, n)
	if err != nil {
		return nil, fault.Wrap(err, fault.BadInput, "the stored image cannot be scaled")
	}
	s := base64.StdEncoding.EncodeToString(out)
	return &s, nil
}
