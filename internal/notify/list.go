package notify

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/outgoingmessage"
	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// ListOptions select a page of an organization's records.
type ListOptions struct {
	// ControllerID keeps the records of one controller (0: all).
	ControllerID int
	// First is the page size: 1 to 100 (0: 20).
	First int
	// After is the EndCursor of the previous page ("": from the newest).
	After string
}

// Page is one page of records, newest first.
type Page struct {
	Messages []*ent.OutgoingMessage
	// EndCursor continues after the last record of the page ("" on an empty page).
	EndCursor   string
	HasNextPage bool
}

// MaxPage is the largest page List returns.
const MaxPage = 100

// List returns an organization's outgoing-message records, newest first, for its admins
// (the caller checks that the viewer is one).
func (n *Notifier) List(ctx context.Context, organizationID int, o ListOptions) (*Page, error) {
	switch {
	case o.First == 0:
		o.First = 20
	case o.First < 0 || o.First > MaxPage:
		return nil, fault.New(fault.BadInput, "first must be between 1 and %d", MaxPage)
	}
	q := n.client.OutgoingMessage.Query().Where(outgoingmessage.OrganizationID(organizationID))
	if o.ControllerID != 0 {
		q.Where(outgoingmessage.ControllerID(o.ControllerID))
	}
	if o.After != "" {
		at, id, err := parseCursor(o.After)
		if err != nil {
			return nil, err
		}
		q.Where(outgoingmessage.Or(
			outgoingmessage.CreatedAtLT(at),
			outgoingmessage.And(outgoingmessage.CreatedAt(at), outgoingmessage.IDLT(id)),
		))
	}
	rows, err := q.Order(outgoingmessage.ByCreatedAt(sql.OrderDesc()), outgoingmessage.ByID(sql.OrderDesc())).
		Limit(o.First + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("notify: list outgoing messages: %w", err)
	}
	p := &Page{Messages: rows, HasNextPage: len(rows) > o.First}
	if p.HasNextPage {
		p.Messages = rows[:o.First]
	}
	if len(p.Messages) > 0 {
		p.EndCursor = Cursor(p.Messages[len(p.Messages)-1])
	}
	return p, nil
}

// Cursor is the position of a record in List's order, for ListOptions.After.
func Cursor(m *ent.OutgoingMessage) string {
	raw := strconv.FormatInt(m.CreatedAt.UnixMicro(), 10) + ":" + strconv.Itoa(m.ID)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func parseCursor(c string) (time.Time, int, error) {
	bad := fault.New(fault.BadInput, "after %q is not a cursor of this list", truncate(c, 80))
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, 0, bad
	}
	ts, idText, ok := strings.Cut(string(raw), ":")
	if !ok {
		return time.Time{}, 0, bad
	}
	micros, err1 := strconv.ParseInt(ts, 10, 64)
	id, err2 := strconv.Atoi(idText)
	if err1 != nil || err2 != nil {
		return time.Time{}, 0, bad
	}
	return time.UnixMicro(micros).UTC(), id, nil
}
