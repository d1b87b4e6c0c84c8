// Package messages is the hub's message system: messages sent to folders are checked,
// stored, handled when the server itself acts on their type (update_sequence, watchdog,
// send_email, send_text_message) and announced on the bus (internal/live). Every face
// (GraphQL, the rhizo websocket and REST layers, MQTT) sends through Service.Send, so a
// message means the same whichever way it came. It may import ent, internal/access,
// internal/live, internal/series, internal/tree, internal/fault and the standard library.
package messages

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/message"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/live"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// DefaultMaxParameterBytes bounds a message's parameters (as JSON).
const DefaultMaxParameterBytes = 64 << 10

// The types the server acts on. The camelCase spellings of the original hub's clients
// are accepted too.
const (
	TypeUpdateSequence = "update_sequence"
	TypeWatchdog       = "watchdog"
	TypeSendEmail      = "send_email"
	TypeSendText       = "send_text_message"
)

var typePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,40}$`)

// canonicalType maps the original hub's alternative spellings to one name.
func canonicalType(t string) string {
	switch t {
	case "updateSequence":
		return TypeUpdateSequence
	case "sendEmail":
		return TypeSendEmail
	case "sendTextMessage", "send_sms":
		return TypeSendText
	}
	return t
}

// Actions are what the server does for the message types it handles, besides storing
// values (which it does itself). Nil actions refuse their type with a clear error.
type Actions struct {
	// Watchdog records that controller controllerID is alive at time at.
	Watchdog func(ctx context.Context, controllerID int, at time.Time) error
	// Email sends an e-mail on behalf of controller.
	Email func(ctx context.Context, controller *ent.Resource, to []string, subject, body string) error
	// Text sends a text message on behalf of controller.
	Text func(ctx context.Context, controller *ent.Resource, numbers []string, text string) error
}

// Service sends and lists messages.
type Service struct {
	Client            *ent.Client
	Authz             *access.Authorizer
	Live              *live.Live
	Actions           Actions
	MaxParameterBytes int
	// Store stores values (default series.Store; the server passes group commit).
	Store func(ctx context.Context, items []series.Item) ([]series.Stored, []series.ItemError, error)
}

// Send sends a message of type typ with parameters to the folder at path, as viewer v.
// v needs write access to the folder; a controller key may leave path empty to send to
// its own controller folder. Types the server handles are acted on before the message is
// stored; a refused action (a bad value, a throttled e-mail) fails the send and stores
// nothing. The stored message is announced to subscribers.
func (s *Service) Send(ctx context.Context, v *access.Viewer, path, typ string, parameters map[string]any) (*ent.Message, error) {
	folder, err := s.folder(ctx, v, path)
	if err != nil {
		return nil, err
	}
	if !typePattern.MatchString(typ) {
		return nil, fault.New(fault.BadInput, "a message type is 1 to 40 characters of letters, digits, _ . and -; got %q", shorten(typ))
	}
	limit := s.MaxParameterBytes
	if limit <= 0 {
		limit = DefaultMaxParameterBytes
	}
	if raw, err := json.Marshal(parameters); err != nil {
		return nil, fault.Wrap(err, fault.BadInput, "parameters are not a JSON object")
	} else if len(raw) > limit {
		return nil, fault.New(fault.BadInput, "parameters are %d bytes of JSON; the limit is %d", len(raw), limit)
	}
	now := time.Now().UTC()
	if err := s.act(ctx, v, folder, canonicalType(typ), parameters, now); err != nil {
		return nil, err
	}
	create := s.Client.Message.Create().SetFolderID(folder.ID).SetType(typ).SetTimestamp(now)
	if parameters != nil {
		create.SetParameters(parameters)
	}
	if v.User != nil {
		create.SetSenderUserID(v.User.ID)
	}
	if v.Controller != nil {
		create.SetSenderControllerID(v.Controller.ID)
	}
	m, err := create.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("store message: %w", err)
	}
	if s.Live != nil {
		s.Live.PublishMessage(ctx, Event(m, folder.Path))
	}
	return m, nil
}

// Event is m as it travels on the bus.
func Event(m *ent.Message, folderPath string) live.Message {
	return live.Message{
		ID: m.ID, FolderID: m.FolderID, FolderPath: folderPath, Type: m.Type, Parameters: m.Parameters,
		Timestamp: m.Timestamp, SenderUserID: m.SenderUserID, SenderControllerID: m.SenderControllerID,
	}
}

// FromEvent is the stored message an event describes (for answering with the stored
// shape; nothing is read).
func FromEvent(e live.Message) *ent.Message {
	return &ent.Message{
		ID: e.ID, FolderID: e.FolderID, Type: e.Type, Parameters: e.Parameters, Timestamp: e.Timestamp,
		SenderUserID: e.SenderUserID, SenderControllerID: e.SenderControllerID,
	}
}

// folder resolves the target folder and checks write access on it.
func (s *Service) folder(ctx context.Context, v *access.Viewer, path string) (*ent.Resource, error) {
	if strings.TrimSpace(path) == "" {
		if v.Controller == nil {
			return nil, fault.New(fault.BadInput, "give the path of the folder to send to (only a controller key may leave it out)")
		}
		path = v.Controller.Path
	}
	folder, err := tree.ByPath(ctx, s.Client, path)
	if err != nil {
		return nil, err
	}
	if err := s.Authz.Require(ctx, v, folder, access.Write); err != nil {
		return nil, err
	}
	if !tree.IsContainer(folder.Type) {
		return nil, fault.New(fault.BadInput, "%s is a %s; messages go to folders", folder.Path, folder.Type)
	}
	return folder, nil
}

// act does what the server does for the types it handles.
func (s *Service) act(ctx context.Context, v *access.Viewer, folder *ent.Resource, typ string, p map[string]any, now time.Time) error {
	switch typ {
	case TypeUpdateSequence:
		return s.updateSequence(ctx, v, folder, p)
	case TypeWatchdog:
		ctrl, err := requireController(v, typ)
		if err != nil || s.Actions.Watchdog == nil {
			return err
		}
		return s.Actions.Watchdog(ctx, ctrl.ID, now)
	case TypeSendEmail:
		ctrl, err := requireController(v, typ)
		if err != nil {
			return err
		}
		to, err := stringList(p, "email_addresses", "emailAddresses")
		if err != nil {
			return err
		}
		if s.Actions.Email == nil {
			return fault.New(fault.BadInput, "this server does not send e-mail")
		}
		return s.Actions.Email(ctx, ctrl, to, stringParam(p, "subject"), stringParam(p, "body"))
	case TypeSendText:
		ctrl, err := requireController(v, typ)
		if err != nil {
			return err
		}
		to, err := stringList(p, "phone_numbers", "phoneNumbers")
		if err != nil {
			return err
		}
		if s.Actions.Text == nil {
			return fault.New(fault.BadInput, "this server does not send text messages")
		}
		return s.Actions.Text(ctx, ctrl, to, stringParam(p, "message"))
	}
	return nil
}

func requireController(v *access.Viewer, typ string) (*ent.Resource, error) {
	if v.Controller == nil {
		return nil, fault.New(fault.Forbidden, "only controllers send %s messages", typ)
	}
	return v.Controller, nil
}

// updateSequence stores a value as the mutation does: sequence is relative to the folder
// or absolute; write access to the sequence is required (the original hub skipped this).
func (s *Service) updateSequence(ctx context.Context, v *access.Viewer, folder *ent.Resource, p map[string]any) error {
	name := stringParam(p, "sequence")
	if name == "" {
		return fault.New(fault.BadInput, "update_sequence needs a sequence (a path, absolute or relative to %s)", folder.Path)
	}
	path := name
	if !strings.HasPrefix(name, "/") {
		path = folder.Path + "/" + name
	}
	seq, err := tree.ByPath(ctx, s.Client, path)
	if err != nil {
		return err
	}
	if err := s.Authz.Require(ctx, v, seq, access.Write); err != nil {
		return err
	}
	value, ok := p["value"]
	if !ok || value == nil {
		return fault.New(fault.BadInput, "update_sequence needs a value")
	}
	item := series.Item{Resource: seq, Value: value}
	if ts := stringParam(p, "timestamp"); ts != "" {
		t, err := time.Parse(time.RFC3339Nano, strings.Replace(ts, " Z", "Z", 1))
		if err != nil {
			return fault.Wrap(err, fault.BadInput, "timestamp %q is not an RFC 3339 time", shorten(ts))
		}
		item.Time = &t
	}
	store := s.Store
	if store == nil {
		store = func(ctx context.Context, items []series.Item) ([]series.Stored, []series.ItemError, error) {
			return series.Store(ctx, s.Client, items)
		}
	}
	stored, itemErrs, err := store(ctx, []series.Item{item})
	if len(itemErrs) > 0 {
		return fault.Wrap(err, itemErrs[0].Code, "%s", itemErrs[0].Message)
	}
	if err != nil {
		return err
	}
	if s.Live != nil {
		s.Live.PublishValues(ctx, stored)
	}
	return nil
}

func stringParam(p map[string]any, key string) string {
	switch x := p[key].(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case json.Number:
		return x.String()
	}
	return ""
}

// stringList reads a list of strings given as a JSON list or a comma-separated string,
// under either of two keys.
func stringList(p map[string]any, keys ...string) ([]string, error) {
	for _, k := range keys {
		switch x := p[k].(type) {
		case nil:
			continue
		case string:
			var out []string
			for _, part := range strings.Split(x, ",") {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, part)
				}
			}
			return out, nil
		case []any:
			out := make([]string, 0, len(x))
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, fault.New(fault.BadInput, "%s must hold strings", k)
				}
				out = append(out, s)
			}
			return out, nil
		default:
			return nil, fault.New(fault.BadInput, "%s must be a list of strings", k)
		}
	}
	return nil, fault.New(fault.BadInput, "give %s", keys[len(keys)-1])
}

func shorten(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// Query selects a page of a folder's messages, newest first.
type Query struct {
	Types []string
	Since *time.Time
	First int
	After int // a message id: the page starts below it
}

// MaxPageSize bounds a page of messages.
const MaxPageSize = 500

// List returns a page of folder's messages newest first, and whether more follow. The
// caller has checked read access.
func List(ctx context.Context, client *ent.Client, folder *ent.Resource, q Query) ([]*ent.Message, bool, error) {
	if q.First < 0 || q.First > MaxPageSize {
		return nil, false, fault.New(fault.BadInput, "first must be between 0 and %d", MaxPageSize)
	}
	query := client.Message.Query().Where(message.FolderID(folder.ID)).Order(ent.Desc(message.FieldID)).Limit(q.First + 1)
	if len(q.Types) > 0 {
		query = query.Where(message.TypeIn(q.Types...))
	}
	if q.Since != nil {
		query = query.Where(message.TimestampGTE(*q.Since))
	}
	if q.After > 0 {
		query = query.Where(message.IDLT(q.After))
	}
	ms, err := query.All(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("list messages of %s: %w", folder.Path, err)
	}
	more := len(ms) > q.First
	if more {
		ms = ms[:q.First]
	}
	return ms, more, nil
}

// DeleteOlderThan deletes the messages sent before cutoff (the retention job) and returns
// how many.
func DeleteOlderThan(ctx context.Context, client *ent.Client, cutoff time.Time) (int, error) {
	n, err := client.Message.Delete().Where(message.TimestampLT(cutoff)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete old messages: %w", err)
	}
	return n, nil
}
