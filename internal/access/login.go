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
	"github.com/rhizoflex/rhizoflex/ent/loginfailure"
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
// window. The failures are rows in the database (login_failures), so every instance counts
// the same ones: N instances do not give an attacker N times the budget.
type LoginLimiter struct {
	MaxFailures int
	Window      time.Duration

	client *ent.Client
	now    func() time.Time
}

// NewLoginLimiter allows maxFailures failures per window per account and per address.
func NewLoginLimiter(client *ent.Client, maxFailures int, window time.Duration) *LoginLimiter {
	return &LoginLimiter{MaxFailures: maxFailures, Window: window, client: client, now: time.Now}
}

// check returns a RateLimitError when any of keys is over the limit.
func (l *LoginLimiter) check(ctx context.Context, keys ...string) error {
	now := l.now().UTC()
	for _, k := range keys {
		recent, err := l.client.LoginFailure.Query().
			Where(loginfailure.Key(k), loginfailure.AtGT(now.Add(-l.Window))).
			Order(ent.Desc(loginfailure.FieldAt)).Limit(l.MaxFailures).All(ctx)
		if err != nil {
			return fmt.Errorf("count failed logins: %w", err)
		}
		if len(recent) >= l.MaxFailures {
			// The oldest of the last MaxFailures leaves the window first.
			wait := l.Window - now.Sub(recent[len(recent)-1].At)
			return &RateLimitError{
				Fault:      fault.New(fault.RateLimited, "too many failed logins; try again in %d seconds", int(wait.Seconds())+1),
				RetryAfter: wait,
			}
		}
	}
	return nil
}

// fail records a failure for each key, and forgets the failures that left the window.
func (l *LoginLimiter) fail(ctx context.Context, keys ...string) error {
	now := l.now().UTC()
	bulk := make([]*ent.LoginFailureCreate, len(keys))
	for i, k := range keys {
		bulk[i] = l.client.LoginFailure.Create().SetKey(k).SetAt(now)
	}
	if err := l.client.LoginFailure.CreateBulk(bulk...).Exec(ctx); err != nil {
		return fmt.Errorf("record failed login: %w", err)
	}
	if _, err := l.client.LoginFailure.Delete().Where(loginfailure.AtLT(now.Add(-l.Window))).Exec(ctx); err != nil {
		return fmt.Errorf("forget old failed logins: %w", err)
	}
	return nil
}

// reset forgets the failures of key (a successful login of the account).
func (l *LoginLimiter) reset(ctx context.Context, k string) error {
	if _, err := l.client.LoginFailure.Delete().Where(loginfailure.Key(k)).Exec(ctx); err != nil {
		return fmt.Errorf("reset failed logins: %w", err)
	}
	return nil
}

// dummyHash is compared against when the account does not exist, so that a wrong login
// takes as long as a wrong password and does not reveal which accounts exist. It is
// computed on first use, not at package initialisation: an argon2id hash takes 19 MiB
// and ~100 ms, which every run of the binary (rhizoflex das, version) would pay.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("not a password", DefaultPasswordParams)
	if err != nil {
		panic(err)
	}
	return h
})

// Login checks a login (e-mail address or user name) and password. Failures say only
// "invalid login or password"; too many failures per account or per address give a
// RateLimitError (RATE_LIMITED), even for the right password.
func (a *Authorizer) Login(ctx context.Context, limiter *LoginLimiter, login, password, remoteAddr string) (*ent.User, error) {
	name := strings.ToLower(strings.TrimSpace(login))
	accountKey, addrKey := "account:"+name, "addr:"+remoteAddr
	if err := limiter.check(ctx, accountKey, addrKey); err != nil {
		return nil, err
	}
	u, err := a.client.User.Query().
		Where(user.Deleted(false), user.Or(user.Email(name), user.UserNameEqualFold(name))).
		First(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("look up login: %w", err)
	}
	hash := dummyHash()
	if u != nil {
		hash = u.PasswordHash
	}
	if !CheckPassword(password, hash) || u == nil {
		if err := limiter.fail(ctx, accountKey, addrKey); err != nil {
			return nil, err
		}
		return nil, fault.New(fault.Unauthenticated, "invalid login or password")
	}
	if err := limiter.reset(ctx, accountKey); err != nil {
		return nil, err
	}
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
