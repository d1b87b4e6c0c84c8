// Package graph holds the GraphQL resolvers: each checks access through internal/access and
// makes one call into the internal/ domain layer. It may import ent, internal/* and
// graph/generated, graph/model; never server.
package graph

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/graph/model"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/blob"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/live"
	"github.com/rhizoflex/rhizoflex/internal/messages"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Sessions is what resolvers need of the session manager (scs).
type Sessions interface {
	RenewToken(ctx context.Context) error
	Put(ctx context.Context, key string, val any)
	Destroy(ctx context.Context) error
}

// Session keys: the signed-in user's ID and the user's session epoch at login (a session
// whose epoch is behind the user's, after a password change, is over).
const (
	SessionUserKey  = "user_id"
	SessionEpochKey = "epoch"
)

// Resolver is the root resolver; its fields are the dependencies resolvers share.
type Resolver struct {
	Client         *ent.Client
	Version        string
	Authz          *access.Authorizer
	Sessions       Sessions
	Limiter        *access.LoginLimiter
	Mailer         access.Mailer
	PasswordParams access.PasswordParams
	BaseURL        string
	Blobs          blob.Store
	BulkThreshold  int64
	MaxUploadBytes int64
	Live           *live.Live
	Messages       *messages.Service
	Controllers    Controllers
	// Group commits single-value writes together; nil stores each on its own.
	Group *series.Group
	// Paths caches the write path's lookups by path; nil reads the database every time.
	Paths *tree.PathCache
}

func viewer(ctx context.Context) *access.Viewer { return access.ViewerFrom(ctx) }

func encodeCursor(id int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("id:" + strconv.Itoa(id)))
}

func decodeCursor(c string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil && strings.HasPrefix(string(b), "id:") {
		if id, err := strconv.Atoi(string(b[3:])); err == nil {
			return id, nil
		}
	}
	return 0, fault.New(fault.BadInput, "invalid cursor %q", c)
}

func pageSize(first *int, def, maxSize int) (int, error) {
	if first == nil {
		return def, nil
	}
	if *first < 0 || *first > maxSize {
		return 0, fault.New(fault.BadInput, "first must be between 0 and %d", maxSize)
	}
	return *first, nil
}

// page makes the edges of a connection page and its PageInfo: edge builds one edge from a
// node and its cursor.
func page[N, E any](nodes []N, cursor func(N) string, edge func(N, string) E, hasNext, hasPrev bool) ([]E, *model.PageInfo) {
	out := make([]E, len(nodes))
	cursors := make([]string, len(nodes))
	for i, n := range nodes {
		cursors[i] = cursor(n)
		out[i] = edge(n, cursors[i])
	}
	info := &model.PageInfo{HasNextPage: hasNext, HasPreviousPage: hasPrev}
	if len(nodes) > 0 {
		info.StartCursor, info.EndCursor = &cursors[0], &cursors[len(nodes)-1]
	}
	return out, info
}

// firstN cuts rows read with Limit(n+1) to n and says whether more followed.
func firstN[T any](rows []T, n int) ([]T, bool) {
	if len(rows) > n {
		return rows[:n], true
	}
	return rows, false
}
