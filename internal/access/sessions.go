package access

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/session"
)

// SessionStore is the scs session store on the ent Session entity: one schema for SQLite
// and PostgreSQL, so every instance sees every session. Tokens are stored as SHA-256
// hashes: a copy of the table cannot be replayed as cookies.
type SessionStore struct {
	client *ent.Client
}

// NewSessionStore returns a store over client.
func NewSessionStore(client *ent.Client) *SessionStore { return &SessionStore{client: client} }

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// FindCtx returns the session data for token if it exists and has not expired.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	row, err := s.client.Session.Query().
		Where(session.Token(hashToken(token)), session.ExpiryGT(time.Now())).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("find session: %w", err)
	}
	return row.Data, true, nil
}

// CommitCtx stores (or replaces) the session data for token.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	err := s.client.Session.Create().
		SetToken(hashToken(token)).SetData(b).SetExpiry(expiry).
		OnConflict(sql.ConflictColumns(session.FieldToken)).
		UpdateNewValues().
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("commit session: %w", err)
	}
	return nil
}

// DeleteCtx removes the session for token.
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	if _, err := s.client.Session.Delete().Where(session.Token(hashToken(token))).Exec(ctx); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// Find implements scs.Store.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit implements scs.Store.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete implements scs.Store.
func (s *SessionStore) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

// DeleteExpired removes expired sessions and returns how many.
func (s *SessionStore) DeleteExpired(ctx context.Context) (int, error) {
	n, err := s.client.Session.Delete().Where(session.ExpiryLTE(time.Now())).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

// RunCleanup deletes expired sessions every interval until ctx ends. Several instances may
// run it at once: the DELETE is idempotent.
func (s *SessionStore) RunCleanup(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.DeleteExpired(ctx); err != nil && ctx.Err() == nil {
				log.Warn("session cleanup", "err", err)
			} else if n > 0 {
				log.Debug("expired sessions deleted", "count", n)
			}
		}
	}
}
