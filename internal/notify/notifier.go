package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/outgoingmessage"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/ent/user"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/cluster"
	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// EmailTransport delivers one e-mail to a list of addresses (SMTPMailer).
type EmailTransport interface {
	SendMail(ctx context.Context, to []string, subject, body string) error
}

// TextTransport delivers one text message to one number (TextSender).
type TextTransport interface {
	SendText(ctx context.Context, to, message string) error
}

// Unavailable is the fault code of a message the server could not send: e-mail or text
// messages not configured, or the mail server or provider refused or was unreachable.
const Unavailable = fault.Unavailable

// ErrNotConfigured is in the chain of errors about e-mail or text messages the server has
// no settings for.
var ErrNotConfigured = errors.New("notify: not configured")

// Limits bound what one call may send. Zero fields take the defaults.
type Limits struct {
	// MaxRecipients per call (default 20).
	MaxRecipients int `koanf:"max_recipients"`
	// MaxSubjectBytes of an e-mail subject (default 250).
	MaxSubjectBytes int `koanf:"max_subject_bytes"`
	// MaxBodyBytes of an e-mail body (default 64 KiB).
	MaxBodyBytes int `koanf:"max_body_bytes"`
	// MaxTextChars of a text message (default 1600, Twilio's limit).
	MaxTextChars int `koanf:"max_text_chars"`
	// Throttle is how many e-mails, and separately how many text messages, one controller
	// (or user) may send per ThrottleWindow (default 10; negative: no limit). Sent and
	// failed attempts count, refused ones do not.
	Throttle int `koanf:"throttle"`
	// ThrottleWindow is the sliding window of Throttle (default 1 hour).
	ThrottleWindow time.Duration `koanf:"throttle_window"`
}

// DefaultLimits are the limits of a zero Limits.
var DefaultLimits = Limits{
	MaxRecipients: 20, MaxSubjectBytes: 250, MaxBodyBytes: 64 << 10, MaxTextChars: 1600,
	Throttle: 10, ThrottleWindow: time.Hour,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxRecipients > 0 {
		d.MaxRecipients = l.MaxRecipients
	}
	if l.MaxSubjectBytes > 0 {
		d.MaxSubjectBytes = min(l.MaxSubjectBytes, 1000) // the column's size
	}
	if l.MaxBodyBytes > 0 {
		d.MaxBodyBytes = l.MaxBodyBytes
	}
	if l.MaxTextChars > 0 {
		d.MaxTextChars = l.MaxTextChars
	}
	if l.Throttle != 0 {
		d.Throttle = l.Throttle
	}
	if l.ThrottleWindow > 0 {
		d.ThrottleWindow = l.ThrottleWindow
	}
	return d
}

// Options configure a Notifier.
type Options struct {
	// Email delivers e-mail; nil: e-mail is not configured (attempts fail and are recorded).
	Email EmailTransport
	// Text delivers text messages; nil: not configured.
	Text TextTransport
	// Clock stamps the records and runs the throttle window (default the system clock).
	Clock cluster.Clock
	// Limits bound what is sent.
	Limits Limits
	// Logger receives failed deliveries (default slog.Default()).
	Logger *slog.Logger
}

// Sender says on whose behalf a message goes out. Ids are 0 when they do not apply.
type Sender struct {
	// OrganizationID makes the record visible to that organization's admins.
	OrganizationID int
	// ControllerID is the sending controller, or the controller a system notice is about.
	ControllerID int
	// UserID is the sending user.
	UserID int
	// System marks the server's own messages (watchdog notices, password resets): they are
	// recorded but never refused by the throttle. A notice about a controller counts
	// toward that controller's limit, since its record names the controller.
	System bool
}

// ControllerSender is a controller of an organization sending.
func ControllerSender(organizationID, controllerID int) Sender {
	return Sender{OrganizationID: organizationID, ControllerID: controllerID}
}

// UserSender is a user sending on behalf of an organization (0: none).
func UserSender(organizationID, userID int) Sender {
	return Sender{OrganizationID: organizationID, UserID: userID}
}

// SystemSender is the server itself, about a controller of an organization (either may
// be 0).
func SystemSender(organizationID, controllerID int) Sender {
	return Sender{OrganizationID: organizationID, ControllerID: controllerID, System: true}
}

// Notifier validates, throttles, sends and records e-mail and text messages. It is safe
// for concurrent use; any number of instances may share one database.
type Notifier struct {
	client *ent.Client
	email  EmailTransport
	text   TextTransport
	clock  cluster.Clock
	limits Limits
	log    *slog.Logger
}

// New returns a Notifier over client.
func New(client *ent.Client, opts Options) *Notifier {
	if opts.Clock == nil {
		opts.Clock = cluster.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Notifier{client: client, email: opts.Email, text: opts.Text, clock: opts.Clock,
		limits: opts.Limits.withDefaults(), log: opts.Logger}
}

// Limits returns the limits in force (defaults filled in).
func (n *Notifier) Limits() Limits { return n.limits }

// SendEmail sends one e-mail to the addresses in to (all in its To header). Bad input is
// BAD_USER_INPUT and not recorded; every other attempt is recorded: throttled
// (RATE_LIMITED, an *access.RateLimitError saying when to retry), failed (UNAVAILABLE,
// with the reason in the record) or sent.
func (n *Notifier) SendEmail(ctx context.Context, from Sender, to []string, subject, body string) error {
	rcpts, err := n.checkEmail(to, subject, body)
	if err != nil {
		return err
	}
	return n.sendEmail(ctx, from, rcpts, subject, body, body)
}

// Send sends a mail from the server itself to one address: the Notifier is the
// access.Mailer of password resets. The record keeps the recipient and subject but not
// the body, which carries a one-time secret.
func (n *Notifier) Send(ctx context.Context, to, subject, body string) error {
	rcpts, err := n.checkEmail([]string{to}, subject, body)
	if err != nil {
		return err
	}
	return n.sendEmail(ctx, SystemSender(0, 0), rcpts, subject, body, "")
}

func (n *Notifier) sendEmail(ctx context.Context, from Sender, rcpts []string, subject, body, recordBody string) error {
	a := attempt{from: from, kind: outgoingmessage.KindEmail, rcpts: rcpts, subject: subject, body: recordBody}
	if n.email == nil {
		return n.unconfigured(ctx, a, "e-mail is not configured on this server")
	}
	return n.deliver(ctx, a, func(ctx context.Context) (string, error) {
		if err := n.email.SendMail(ctx, rcpts, subject, body); err != nil {
			return err.Error(), fault.Wrap(err, Unavailable, "the mail server did not take the e-mail; the attempt is recorded")
		}
		return "", nil
	})
}

// SendText sends message to each of numbers (E.164, e.g. +15551234567; spaces, dashes,
// dots and brackets are dropped). It is one attempt, recorded once: failed if any number
// failed, with each failure in the record. Errors as for SendEmail.
func (n *Notifier) SendText(ctx context.Context, from Sender, numbers []string, message string) error {
	rcpts, err := n.checkText(numbers, message)
	if err != nil {
		return err
	}
	a := attempt{from: from, kind: outgoingmessage.KindText, rcpts: rcpts, body: message}
	if n.text == nil {
		return n.unconfigured(ctx, a, "text messages are not configured on this server")
	}
	return n.deliver(ctx, a, func(ctx context.Context) (string, error) {
		var failed []string
		var first error
		for _, to := range rcpts {
			if err := n.text.SendText(ctx, to, message); err != nil {
				failed = append(failed, to+": "+err.Error())
				if first == nil {
					first = fault.Wrap(err, Unavailable, "the text message to %s was not sent: %s", to, safeTextError(err))
				}
			}
		}
		if first == nil {
			return "", nil
		}
		reason := fmt.Sprintf("sent to %d of %d numbers", len(rcpts)-len(failed), len(rcpts))
		for _, f := range failed {
			reason += "; " + f
		}
		return reason, first
	})
}

// safeTextError is what a client may see of a text-message failure: the provider's own
// answer, or that it could not be reached.
func safeTextError(err error) string {
	var pe *ProviderError
	if errors.As(err, &pe) {
		return pe.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return "no answer from the text-message provider in time"
	}
	return "the text-message provider could not be reached"
}

// attempt is one call to send, as recorded.
type attempt struct {
	from    Sender
	kind    outgoingmessage.Kind
	rcpts   []string
	subject string
	body    string
}

func (a attempt) noun() string {
	if a.kind == outgoingmessage.KindText {
		return "text messages"
	}
	return "e-mails"
}

// recordUpdateTimeout bounds writing a result after the delivery, which happens even when
// the caller has gone away.
const recordUpdateTimeout = 10 * time.Second

// inProgress is the error of a record whose delivery has not finished; it stays if the
// server stops mid-delivery.
const inProgress = "interrupted: the server stopped before the delivery finished"

func (n *Notifier) unconfigured(ctx context.Context, a attempt, msg string) error {
	if err := a.from.check(); err != nil {
		return err
	}
	if _, err := n.create(ctx, n.client, a, n.now(), outgoingmessage.ResultFailed, msg); err != nil {
		return err
	}
	return fault.Wrap(ErrNotConfigured, Unavailable, "%s", msg)
}

// deliver reserves the attempt against the throttle (recording it), runs send and records
// the result. send returns the reason to record and the error to return.
func (n *Notifier) deliver(ctx context.Context, a attempt, send func(context.Context) (string, error)) error {
	if err := a.from.check(); err != nil {
		return err
	}
	rec, err := n.reserve(ctx, a)
	if err != nil {
		return err
	}
	reason, sendErr := send(ctx)
	upd := n.client.OutgoingMessage.UpdateOne(rec)
	if sendErr == nil {
		upd.SetResult(outgoingmessage.ResultSent).SetError("")
	} else {
		upd.SetResult(outgoingmessage.ResultFailed).SetError(truncate(reason, 1000))
		n.log.WarnContext(ctx, "notify: delivery failed", "kind", a.kind, "record", rec.ID,
			"organization", a.from.OrganizationID, "controller", a.from.ControllerID, "user", a.from.UserID, "err", reason)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordUpdateTimeout)
	defer cancel()
	if err := upd.Exec(wctx); err != nil {
		err = fmt.Errorf("notify: record result of %s %d: %w", a.kind, rec.ID, err)
		return errors.Join(sendErr, err)
	}
	return sendErr
}

// reserve records the attempt as in progress, or as throttled when its sender is over the
// limit. Counting and inserting happen in one transaction that holds the sender's row
// lock (PostgreSQL) or the database's write lock (SQLite opens IMMEDIATE transactions),
// so concurrent attempts on any number of instances never exceed the limit together.
func (n *Notifier) reserve(ctx context.Context, a attempt) (*ent.OutgoingMessage, error) {
	now := n.now()
	if a.from.System || n.limits.Throttle < 0 {
		return n.create(ctx, n.client, a, now, outgoingmessage.ResultFailed, inProgress)
	}
	tx, err := n.client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("notify: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := lockSender(ctx, tx.Client(), a.from); err != nil {
		return nil, err
	}
	q := tx.OutgoingMessage.Query().Where(
		outgoingmessage.KindEQ(a.kind),
		outgoingmessage.ResultNEQ(outgoingmessage.ResultThrottled),
		outgoingmessage.CreatedAtGT(now.Add(-n.limits.ThrottleWindow)),
	)
	if a.from.ControllerID != 0 {
		q.Where(outgoingmessage.ControllerID(a.from.ControllerID))
	} else {
		q.Where(outgoingmessage.UserID(a.from.UserID))
	}
	recent, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("notify: count recent %s: %w", a.noun(), err)
	}
	if recent < n.limits.Throttle {
		rec, err := n.create(ctx, tx.Client(), a, now, outgoingmessage.ResultFailed, inProgress)
		if err != nil {
			return nil, err
		}
		if err := tx.Commit(); err != nil {
			return nil, fmt.Errorf("notify: commit: %w", err)
		}
		return rec, nil
	}
	oldest, err := q.Order(ent.Asc(outgoingmessage.FieldCreatedAt)).First(ctx)
	if err != nil {
		return nil, fmt.Errorf("notify: oldest recent %s: %w", a.noun(), err)
	}
	who := "this controller"
	if a.from.ControllerID == 0 {
		who = "this user"
	}
	msg := fmt.Sprintf("%s may send at most %d %s per %s", who, n.limits.Throttle, a.noun(), window(n.limits.ThrottleWindow))
	if _, err := n.create(ctx, tx.Client(), a, now, outgoingmessage.ResultThrottled, msg); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("notify: commit: %w", err)
	}
	retry := max(oldest.CreatedAt.Add(n.limits.ThrottleWindow).Sub(now), time.Second).Round(time.Second)
	return nil, &access.RateLimitError{
		Fault:      fault.New(fault.RateLimited, "%s; try again in %s", msg, retry),
		RetryAfter: retry,
	}
}

func window(d time.Duration) string {
	switch d {
	case time.Hour:
		return "hour"
	case time.Minute:
		return "minute"
	case 24 * time.Hour:
		return "day"
	}
	return d.String()
}

// lockRow makes a query lock the rows it reads until the transaction ends, where the
// database can (PostgreSQL); SQLite's IMMEDIATE transactions already exclude each other.
// NO KEY UPDATE leaves inserts that merely reference the row free to proceed.
func lockRow(s *sql.Selector) {
	if s.Dialect() != dialect.SQLite {
		s.For(sql.LockNoKeyUpdate)
	}
}

// lockSender locks the sending controller's resource row, or the sending user's row.
func lockSender(ctx context.Context, c *ent.Client, from Sender) error {
	var ids []int
	var err error
	if from.ControllerID != 0 {
		ids, err = c.Resource.Query().Where(resource.ID(from.ControllerID)).Select(resource.FieldID).Modify(lockRow).Ints(ctx)
	} else {
		ids, err = c.User.Query().Where(user.ID(from.UserID)).Select(user.FieldID).Modify(lockRow).Ints(ctx)
	}
	if err != nil {
		return fmt.Errorf("notify: lock sender: %w", err)
	}
	if len(ids) == 0 {
		return fault.New(fault.NotFound, "the sender (controller %d, user %d) does not exist", from.ControllerID, from.UserID)
	}
	return nil
}

func (s Sender) check() error {
	if !s.System && s.ControllerID == 0 && s.UserID == 0 {
		return fault.New(fault.Internal, "notify: a sender must be a controller, a user or the system")
	}
	return nil
}

func (n *Notifier) now() time.Time { return dbTime(n.clock.Now()) }

// dbTime is t as stored: UTC (SQLite compares the text the driver writes, which orders
// correctly only within one zone) to the microsecond (PostgreSQL's precision), so that
// what is read back compares equal to what was written.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func (n *Notifier) create(ctx context.Context, c *ent.Client, a attempt, at time.Time, result outgoingmessage.Result, reason string) (*ent.OutgoingMessage, error) {
	cr := c.OutgoingMessage.Create().SetKind(a.kind).SetRecipients(a.rcpts).SetSubject(a.subject).
		SetBody(a.body).SetResult(result).SetError(truncate(reason, 1000)).SetCreatedAt(at)
	if a.from.OrganizationID != 0 {
		cr.SetOrganizationID(a.from.OrganizationID)
	}
	if a.from.ControllerID != 0 {
		cr.SetControllerID(a.from.ControllerID)
	}
	if a.from.UserID != 0 {
		cr.SetUserID(a.from.UserID)
	}
	rec, err := cr.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("notify: record %s: %w", a.kind, err)
	}
	return rec, nil
}
