package access

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/passwordreset"
	"github.com/rhizoflex/rhizoflex/ent/user"
	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// RateLimitError is a fault.RateLimited error that says when to try again.
type RateLimitError struct {
	Fault      *fault.Error
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string { return e.Fault.Error() }
func (e *RateLimitError) Unwrap() error { return e.Fault }

// LoginLimiter counts failed logins per account and per client address in a sliding
// window. It lives in the process: with several instances each counts its own share.
type LoginLimiter struct {
	MaxFailures int
	Window      time.Duration

	mu       sync.Mutex
	failures map[string][]time.Time
	now      func() time.Time
}

// NewLoginLimiter allows maxFailures failures per window per account and per address.
func NewLoginLimiter(maxFailures int, window time.Duration) *LoginLimiter {
	return &LoginLimiter{MaxFailures: maxFailures, Window: window, failures: map[string][]time.Time{}, now: time.Now}
}

func (l *LoginLimiter) prune(k string, now time.Time) []time.Time {
	kept := l.failures[k][:0]
	for _, t := range l.failures[k] {
		if now.Sub(t) < l.Window {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(l.failures, k)
		return nil
	}
	l.failures[k] = kept
	return kept
}

// check returns a RateLimitError when any of keys is over the limit.
func (l *LoginLimiter) check(keys ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		f := l.prune(k, now)
		if len(f) >= l.MaxFailures {
			wait := l.Window - now.Sub(f[0])
			return &RateLimitError{
				Fault:      fault.New(fault.RateLimited, "too many failed logins; try again in %d seconds", int(wait.Seconds())+1),
				RetryAfter: wait,
			}
		}
	}
	return nil
}

func (l *LoginLimiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		l.failures[k] = append(l.prune(k, now), now)
	}
}

func (l *LoginLimiter) reset(k string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, k)
}

// dummyHash is compared against when the account does not exist, so that a wrong login
// takes as long as a wrong password and does not reveal which accounts exist.
var dummyHash = func() string {
	h, err := HashPassword("not a password", DefaultPasswordParams)
	if err != nil {
		panic(err)
	}
	return h
}()

// Login checks a login (e-mail address or user name) and password. Failures say only
// "invalid login or password"; too many failures per account or per address give a
// RateLimitError (RATE_LIMITED), even for the right password.
func (a *Authorizer) Login(ctx context.Context, limiter *LoginLimiter, login, password, remoteAddr string) (*ent.User, error) {
	name := strings.ToLower(strings.TrimSpace(login))
	accountKey, addrKey := "account:"+name, "addr:"+remoteAddr
	if err := limiter.check(accountKey, addrKey); err != nil {
		return nil, err
	}
	u, err := a.client.User.Query().
		Where(user.Deleted(false), user.Or(user.Email(name), user.UserNameEqualFold(name))).
		First(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("look up login: %w", err)
	}
	hash := dummyHash
	if u != nil {
		hash = u.PasswordHash
	}
	if !CheckPassword(password, hash) || u == nil {
		limiter.fail(accountKey, addrKey)
		return nil, fault.New(fault.Unauthenticated, "invalid login or password")
	}
	limiter.reset(accountKey)
	u, err = u.Update().SetLastLogin(time.Now()).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("record login: %w", err)
	}
	return u, nil
}

// ChangePassword sets a new password after checking the current one. It ends the user's
// other sessions (the session epoch moves on); the caller renews the current one with the
// returned user's epoch.
func (a *Authorizer) ChangePassword(ctx context.Context, v *Viewer, current, next string, p PasswordParams) (*ent.User, error) {
	if err := a.RequireHuman(v); err != nil {
		return nil, err
	}
	if !CheckPassword(current, v.User.PasswordHash) {
		return nil, fault.New(fault.Forbidden, "the current password is wrong")
	}
	return a.setPassword(ctx, v.User.ID, next, p)
}

// setPassword stores a new password hash and bumps the session epoch, which ends every
// session of the user.
func (a *Authorizer) setPassword(ctx context.Context, userID int, password string, p PasswordParams) (*ent.User, error) {
	if len(password) < MinPasswordLength {
		return nil, fault.New(fault.BadInput, "password must have at least %d characters", MinPasswordLength)
	}
	hash, err := HashPassword(password, p)
	if err != nil {
		return nil, err
	}
	u, err := a.client.User.UpdateOneID(userID).SetPasswordHash(hash).AddSessionEpoch(1).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("set password: %w", err)
	}
	return u, nil
}

// Mailer sends e-mail. The messages issue adds SMTP; until then a log sink is used.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// ResetTokenLifetime is how long a password reset link works.
const ResetTokenLifetime = time.Hour

// RequestPasswordReset e-mails a one-time reset token if the address belongs to a user.
// It answers the same way whether or not the account exists.
func (a *Authorizer) RequestPasswordReset(ctx context.Context, mailer Mailer, email, baseURL string) error {
	norm := strings.ToLower(strings.TrimSpace(email))
	u, err := a.client.User.Query().Where(user.Email(norm), user.Deleted(false)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up user: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("reset token: %w", err)
	}
	token := hex.EncodeToString(b)
	now := time.Now()
	err = a.client.PasswordReset.Create().SetUserID(u.ID).SetTokenHash(HashSecret(token)).
		SetCreatedAt(now).SetExpiresAt(now.Add(ResetTokenLifetime)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store reset token: %w", err)
	}
	body := fmt.Sprintf("Someone asked to reset the rhizoflex password of %s.\n\nReset token: %s\nLink: %s/#/reset-password?token=%s\n\nIt works once, for one hour. Ignore this mail if it was not you.\n",
		u.Email, token, strings.TrimSuffix(baseURL, "/"), token)
	if err := mailer.Send(ctx, u.Email, "rhizoflex password reset", body); err != nil {
		return fmt.Errorf("send reset mail: %w", err)
	}
	return nil
}

// ResetPassword sets a new password with a reset token; a token works once, before it
// expires.
func (a *Authorizer) ResetPassword(ctx context.Context, token, password string, p PasswordParams) error {
	if len(password) < MinPasswordLength {
		return fault.New(fault.BadInput, "password must have at least %d characters", MinPasswordLength)
	}
	n, err := a.client.PasswordReset.Update().
		Where(passwordreset.TokenHash(HashSecret(strings.TrimSpace(token))),
			passwordreset.UsedAtIsNil(), passwordreset.ExpiresAtGT(time.Now())).
		SetUsedAt(time.Now()).Save(ctx)
	if err != nil {
		return fmt.Errorf("use reset token: %w", err)
	}
	if n != 1 {
		return fault.New(fault.BadInput, "the reset token is invalid, used or expired")
	}
	r, err := a.client.PasswordReset.Query().Where(passwordreset.TokenHash(HashSecret(strings.TrimSpace(token)))).Only(ctx)
	if err != nil {
		return fmt.Errorf("load reset token: %w", err)
	}
	_, err = a.setPassword(ctx, r.UserID, password, p)
	return err
}
