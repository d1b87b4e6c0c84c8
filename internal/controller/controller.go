// Package controller keeps the live state of controllers on ControllerStatus: whether
// each is online (a heartbeat in the database that the instance holding its websocket
// keeps fresh, so every instance sees it and a dead instance's controllers go offline
// when the heartbeat ages out), its client version, the status JSON it merges, its last
// watchdog, the watchdog recipients, and the watchdog check that tells the recipients
// once when a controller falls silent and once when it is back.
//
// The package may import ent, internal/notify (notices are sent and recorded through the
// Notifier), internal/cluster (Clock, Job), internal/fault and the standard library.
// Authorization is the caller's job.
package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/controllerstatus"
	"github.com/rhizoflex/rhizoflex/ent/membership"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/ent/user"
	"github.com/rhizoflex/rhizoflex/internal/cluster"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/notify"
)

// Defaults of Options.
const (
	DefaultOnlineTTL      = time.Minute
	DefaultMaxStatusBytes = 64 << 10
	// MaxRecipients is the most watchdog recipients a controller may have.
	MaxRecipients = 20
	// maxClientVersion is the column's size.
	maxClientVersion = 100
)

// Options configure a Service.
type Options struct {
	// Clock tells the time of connections, heartbeats and watchdog checks (default the
	// system clock); tests pass a ManualClock.
	Clock cluster.Clock
	// OnlineTTL is how long a heartbeat keeps a controller online (default 60 s). The
	// instance holding a controller's websocket beats every OnlineTTL/3 (KeepAlive).
	OnlineTTL time.Duration
	// MaxStatusBytes bounds a controller's status JSON (default 64 KiB).
	MaxStatusBytes int
	// Notifier sends the watchdog notices; CheckWatchdogs needs it.
	Notifier *notify.Notifier
	// BaseURL, when set, is named in the notices so recipients know where to look.
	BaseURL string
	// Logger receives heartbeat failures (default slog.Default()).
	Logger *slog.Logger
}

// Service reads and writes controllers' live state. It is safe for concurrent use; any
// number of instances may share one database.
type Service struct {
	client   *ent.Client
	clock    cluster.Clock
	ttl      time.Duration
	maxBytes int
	notifier *notify.Notifier
	baseURL  string
	log      *slog.Logger
}

// New returns a Service over client.
func New(client *ent.Client, opts Options) *Service {
	if opts.Clock == nil {
		opts.Clock = cluster.SystemClock{}
	}
	if opts.OnlineTTL <= 0 {
		opts.OnlineTTL = DefaultOnlineTTL
	}
	if opts.MaxStatusBytes <= 0 {
		opts.MaxStatusBytes = DefaultMaxStatusBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Service{client: client, clock: opts.Clock, ttl: opts.OnlineTTL, maxBytes: opts.MaxStatusBytes,
		notifier: opts.Notifier, baseURL: strings.TrimSuffix(opts.BaseURL, "/"), log: opts.Logger}
}

// dbTime is t as stored: UTC (SQLite compares the text the driver writes, which orders
// correctly only within one zone) to the microsecond (PostgreSQL's precision), so that
// what is read back compares equal to what was written.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func (s *Service) now() time.Time { return dbTime(s.clock.Now()) }

// Status returns a controller's status row (NOT_FOUND without one).
func (s *Service) Status(ctx context.Context, controllerID int) (*ent.ControllerStatus, error) {
	st, err := s.client.ControllerStatus.Query().Where(controllerstatus.ControllerID(controllerID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fault.Wrap(err, fault.NotFound, "controller %d has no status", controllerID)
	}
	if err != nil {
		return nil, fmt.Errorf("controller: status of %d: %w", controllerID, err)
	}
	return st, nil
}

// lockRow makes a query lock the rows it reads until the transaction ends, where the
// database can (PostgreSQL); SQLite's IMMEDIATE transactions (internal/database opens
// them so) already exclude each other.
func lockRow(s *sql.Selector) {
	if s.Dialect() != dialect.SQLite {
		s.For(sql.LockNoKeyUpdate)
	}
}

// inTx runs fn in a transaction with the controller's status row locked, creating the
// row first if the controller has none (controllers made by hand or before status rows).
func (s *Service) inTx(ctx context.Context, controllerID int, fn func(c *ent.Client, st *ent.ControllerStatus) error) error {
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("controller: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	c := tx.Client()
	lock := func() (int, error) {
		ids, err := c.ControllerStatus.Query().Where(controllerstatus.ControllerID(controllerID)).
			Select(controllerstatus.FieldID).Modify(lockRow).Ints(ctx)
		if err != nil {
			return 0, fmt.Errorf("controller: lock status of %d: %w", controllerID, err)
		}
		return len(ids), nil
	}
	n, err := lock()
	if err != nil {
		return err
	}
	if n == 0 {
		r, err := c.Resource.Get(ctx, controllerID)
		if ent.IsNotFound(err) || (err == nil && r.Deleted) {
			return fault.New(fault.NotFound, "controller %d does not exist", controllerID)
		}
		if err != nil {
			return fmt.Errorf("controller: %d: %w", controllerID, err)
		}
		if r.Type != resource.TypeControllerFolder {
			return fault.New(fault.BadInput, "%s is not a controller", r.Path)
		}
		err = c.ControllerStatus.Create().SetControllerID(controllerID).
			OnConflictColumns(controllerstatus.FieldControllerID).Ignore().Exec(ctx)
		if err != nil {
			return upsertErr(err, controllerID)
		}
		if _, err := lock(); err != nil {
			return err
		}
	}
	st, err := c.ControllerStatus.Query().Where(controllerstatus.ControllerID(controllerID)).Only(ctx)
	if err != nil {
		return fmt.Errorf("controller: status of %d: %w", controllerID, err)
	}
	if err := fn(c, st); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("controller: commit: %w", err)
	}
	return nil
}

// upsertErr classifies the error of writing a status row: a missing controller is
// NOT_FOUND.
func upsertErr(err error, controllerID int) error {
	if ent.IsConstraintError(err) {
		return fault.Wrap(err, fault.NotFound, "controller %d does not exist", controllerID)
	}
	return fmt.Errorf("controller: status row of %d: %w", controllerID, err)
}

// cleanVersion makes a client's self-reported version storable: control characters
// dropped, cut to the column's size. A connection is not refused for its version.
func cleanVersion(v string) string {
	v = strings.ToValidUTF8(v, "")
	v = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, v))
	if len(v) <= maxClientVersion {
		return v
	}
	cut := maxClientVersion
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut]
}

func tooMany(n int) error {
	return fault.New(fault.BadInput, "%d watchdog recipients; at most %d are allowed", n, MaxRecipients)
}

// SetRecipients makes userIDs the controller's watchdog recipients (an empty list: none).
// Each must be a member of the controller's organization and not deleted (BAD_USER_INPUT
// otherwise), so that nobody outside it can be signed up for its mail.
func (s *Service) SetRecipients(ctx context.Context, controllerID int, userIDs []int) error {
	ids := slices.Clone(userIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > MaxRecipients {
		return tooMany(len(ids))
	}
	return s.inTx(ctx, controllerID, func(c *ent.Client, st *ent.ControllerStatus) error {
		ctrl, err := c.Resource.Get(ctx, controllerID)
		if err != nil {
			return fmt.Errorf("controller: %d: %w", controllerID, err)
		}
		if len(ids) > 0 {
			q := c.User.Query().Where(user.IDIn(ids...), user.Deleted(false))
			if ctrl.OrganizationID != nil {
				q.Where(user.HasMembershipsWith(membership.OrganizationID(*ctrl.OrganizationID)))
			}
			ok, err := q.IDs(ctx)
			if err != nil {
				return fmt.Errorf("controller: check recipients: %w", err)
			}
			for _, id := range ids {
				if !slices.Contains(ok, id) {
					return fault.New(fault.BadInput, "user %d cannot be a watchdog recipient of %s: not a member of its organization", id, ctrl.Path)
				}
			}
		}
		if err := c.ControllerStatus.UpdateOne(st).ClearWatchers().AddWatcherIDs(ids...).Exec(ctx); err != nil {
			return fmt.Errorf("controller: set recipients of %s: %w", ctrl.Path, err)
		}
		return nil
	})
}

// Recipients returns the controller's watchdog recipients that are not deleted, by id.
func (s *Service) Recipients(ctx context.Context, controllerID int) ([]*ent.User, error) {
	us, err := s.client.ControllerStatus.Query().Where(controllerstatus.ControllerID(controllerID)).
		QueryWatchers().Where(user.Deleted(false)).Order(user.ByID()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("controller: recipients of %d: %w", controllerID, err)
	}
	return us, nil
}

// RecipientEmails returns the e-mail addresses of Recipients.
func (s *Service) RecipientEmails(ctx context.Context, controllerID int) ([]string, error) {
	us, err := s.Recipients(ctx, controllerID)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(us))
	for _, u := range us {
		out = append(out, u.Email)
	}
	return out, nil
}

// MergeStatus merges patch into the controller's status JSON as a JSON merge patch
// (RFC 7386): objects merge key by key, recursively; a nil value removes its key; any
// other value replaces. The result may hold at most MaxStatusBytes of JSON
// (BAD_USER_INPUT otherwise, and nothing changes). It returns the merged status.
func (s *Service) MergeStatus(ctx context.Context, controllerID int, patch map[string]any) (map[string]any, error) {
	var merged map[string]any
	err := s.inTx(ctx, controllerID, func(c *ent.Client, st *ent.ControllerStatus) error {
		merged = mergePatch(st.Status, patch)
		b, err := json.Marshal(merged)
		if err != nil {
			return fault.Wrap(err, fault.BadInput, "the status is not JSON")
		}
		if len(b) > s.maxBytes {
			return fault.New(fault.BadInput, "the status would have %d bytes of JSON; at most %d are allowed", len(b), s.maxBytes)
		}
		if err := c.ControllerStatus.UpdateOne(st).SetStatus(merged).Exec(ctx); err != nil {
			return fmt.Errorf("controller: merge status of %d: %w", controllerID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return merged, nil
}

// mergePatch applies patch to target (RFC 7386) without changing either.
func mergePatch(target, patch map[string]any) map[string]any {
	out := make(map[string]any, len(target)+len(patch))
	for k, v := range target {
		out[k] = v
	}
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(out, k)
		case map[string]any:
			tv, _ := out[k].(map[string]any)
			out[k] = mergePatch(tv, pv)
		default:
			out[k] = v
		}
	}
	return out
}
