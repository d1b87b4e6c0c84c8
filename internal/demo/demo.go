// Package demo seeds a demo organization so that a fresh server has something to show:
// folders, a controller and sequences holding a day of data, plus live values while the
// server runs. It may import ent and the other internal packages.
package demo

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/organization"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Demo login printed by `make run`.
const (
	OrgName  = "demo"
	Email    = "demo@example.com"
	Password = "demo-password"
)

// signal is one demo sequence and the function that makes its values.
type signal struct {
	path  string
	units string
	value func(t time.Time) float64
}

var signals = []signal{
	{"/demo/greenhouse/temperature", "degC", func(t time.Time) float64 {
		return 21 + 4*math.Sin(dayPhase(t)) + 0.3*math.Sin(float64(t.Unix())/97)
	}},
	{"/demo/greenhouse/humidity", "percent", func(t time.Time) float64 {
		return 55 - 12*math.Sin(dayPhase(t)) + 2*math.Cos(float64(t.Unix())/131)
	}},
	{"/demo/greenhouse/light", "lux", func(t time.Time) float64 {
		return math.Max(0, 800*math.Sin(dayPhase(t)))
	}},
}

func dayPhase(t time.Time) float64 {
	s := t.UTC()
	secs := float64(s.Hour()*3600 + s.Minute()*60 + s.Second())
	return 2 * math.Pi * (secs/86400 - 0.25)
}

// Result says what Seed did.
type Result struct {
	Created bool // false when the demo organization already existed
	Values  int
}

// Seed creates the demo organization, a demo member, folders, a controller and a day of
// one-minute values per sequence ending at now. It is idempotent: an existing demo
// organization is left as it is.
func Seed(ctx context.Context, client *ent.Client, now time.Time, params access.PasswordParams) (Result, error) {
	exists, err := client.Organization.Query().Where(organization.Name(OrgName)).Exist(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("check demo organization: %w", err)
	}
	if exists {
		return Result{}, nil
	}
	org, err := account.CreateOrganization(ctx, client, OrgName, "Demo Laboratory")
	if err != nil {
		return Result{}, err
	}
	u, _, err := account.EnsureAdmin(ctx, client, Email, Password, params)
	if err != nil {
		return Result{}, err
	}
	// The demo user is an org admin, not a system admin.
	if err := client.User.UpdateOne(u).SetSystemAdmin(false).SetFullName("Demo User").Exec(ctx); err != nil {
		return Result{}, fmt.Errorf("demo user: %w", err)
	}
	if _, err := account.AddMember(ctx, client, org.ID, u.ID, true); err != nil {
		return Result{}, err
	}
	if _, err := tree.CreateController(ctx, client, "/demo/lab-controller", false); err != nil {
		return Result{}, err
	}
	if _, err := tree.Create(ctx, client, tree.CreateParams{Path: "/demo/notes", Type: tree.Folder}); err != nil {
		return Result{}, err
	}
	total := 0
	start := now.Add(-24 * time.Hour).Truncate(time.Minute)
	for _, s := range signals {
		seq, err := tree.Create(ctx, client, tree.CreateParams{
			Path: s.path, Type: tree.Sequence, CreateParents: true,
			SystemAttributes: tree.SequenceAttributes(tree.Numeric, s.units, 2),
		})
		if err != nil {
			return Result{}, err
		}
		values := make([]series.Value, 0, 24*60)
		for t := start; !t.After(now); t = t.Add(time.Minute) {
			v := math.Round(s.value(t)*100) / 100
			values = append(values, series.Value{Time: t, Num: &v})
		}
		if err := series.Append(ctx, client, seq, values); err != nil {
			return Result{}, err
		}
		total += len(values)
	}
	return Result{Created: true, Values: total}, nil
}

// Live appends a fresh value to each demo sequence every interval until ctx ends. It
// returns quietly when the demo organization does not exist.
func Live(ctx context.Context, client *ent.Client, interval time.Duration, onError func(error)) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			for _, s := range signals {
				seq, err := tree.ByPath(ctx, client, s.path)
				if fault.Is(err, fault.NotFound) {
					return
				}
				if err == nil {
					v := math.Round(s.value(now)*100) / 100
					err = series.Append(ctx, client, seq, []series.Value{{Time: now, Num: &v}})
				}
				if err != nil && ctx.Err() == nil {
					onError(err)
				}
			}
		}
	}
}
