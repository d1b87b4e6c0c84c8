package server

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/graph/generated"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/files"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// The cross-organization test walks the schema: every query and mutation is called by
// viewers of organization beta (member, org admin, a key of a user in both organizations
// confined to beta, a controller key, anonymous) with arguments aimed at organization
// alpha's resources, users, keys and grants. A new operation is covered without editing
// this test. For each call it asserts
//
//   - that the answer equals the answer for a twin target that does not exist (alpha ->
//     alphz, ids shifted): hidden looks exactly like missing, so nothing is learnt;
//   - that no answer's data names anything of alpha's;
//   - that alpha is unchanged afterwards (a dump before and after).
//
// Known, documented exceptions: an admin (of an organization or a resource) adding a
// member or granting access by e-mail learns whether that address has an account.

type crossWorld struct {
	ids   map[string][]int // target kind -> alpha ids
	paths []string         // alpha paths, existing and one to be created
}

const (
	aMark = "alpha"
	zMark = "alphz" // the twin: nothing is called this
	idGap = 900000  // twin ids: alpha id + idGap, which do not exist
)

func buildCrossWorld(t *testing.T, ts *testServer) (*crossWorld, map[string]*gqlClient) {
	t.Helper()
	ctx := t.Context()
	c := ts.db.Client
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	users := map[string]*ent.User{}
	for _, name := range []string{"alpha-admin", "alpha-user", "beta-admin", "beta-user", "dual"} {
		u, err := account.CreateUser(ctx, c, account.NewUser{Email: name + "@example.com", Password: fixture.Password}, fixture.FastPasswords)
		check(err)
		users[name] = u
	}
	alpha, err := account.CreateOrganization(ctx, c, "alpha", "Alpha")
	check(err)
	beta, err := account.CreateOrganization(ctx, c, "beta", "Beta")
	check(err)
	for _, m := range []struct {
		org   int
		user  string
		admin bool
	}{{alpha.ID, "alpha-admin", true}, {alpha.ID, "alpha-user", false}, {alpha.ID, "dual", false},
		{beta.ID, "beta-admin", true}, {beta.ID, "beta-user", false}, {beta.ID, "dual", false}} {
		_, err := account.AddMember(ctx, c, m.org, users[m.user].ID, m.admin)
		check(err)
	}
	for _, p := range []struct {
		path string
		typ  tree.Type
	}{{"/alpha/vault", tree.Folder}, {"/alpha/vault/plans.txt", tree.File}, {"/beta/own", tree.Folder}, {"/beta/own/x", tree.Sequence}} {
		_, err := tree.Create(ctx, c, tree.CreateParams{Path: p.path, Type: p.typ})
		check(err)
	}
	_, err = tree.Create(ctx, c, tree.CreateParams{Path: "/alpha/vault/level", Type: tree.Sequence, SystemAttributes: tree.SequenceAttributes(tree.Numeric, "m", 2)})
	check(err)
	_, err = tree.CreateController(ctx, c, "/alpha/rig", false)
	check(err)
	_, err = tree.CreateController(ctx, c, "/beta/rig", false)
	check(err)
	plans, err := tree.ByPath(ctx, c, "/alpha/vault/plans.txt")
	check(err)
	_, err = files.Write(ctx, c, ts.app.blobs, plans, strings.NewReader("alpha secret plans"), "text/plain", files.Author{}, 0, 0)
	check(err)
	level, err := tree.ByPath(ctx, c, "/alpha/vault/level")
	check(err)
	check(series.Append(ctx, c, level, []series.Value{{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Num: new(42.0)}}))

	authz := ts.app.authz
	as := func(name string) *access.Viewer {
		v := &access.Viewer{User: users[name]}
		check(authz.LoadMemberships(ctx, v))
		return v
	}
	vault, err := tree.ByPath(ctx, c, "/alpha/vault")
	check(err)
	grant, err := authz.Grant(ctx, as("alpha-admin"), vault, access.Grantee{UserID: &users["alpha-user"].ID}, access.Read)
	check(err)
	aKey, _, err := authz.CreateKey(ctx, as("alpha-user"), access.NewKey{Name: "alpha key", OrganizationID: &alpha.ID})
	check(err)
	rigKey, _, err := authz.CreateKey(ctx, as("alpha-admin"), access.NewKey{Name: "alpha rig", AsControllerPath: "/alpha/rig"})
	check(err)
	_, dualBeta, err := authz.CreateKey(ctx, as("dual"), access.NewKey{Name: "dual for beta", OrganizationID: &beta.ID})
	check(err)
	_, betaRig, err := authz.CreateKey(ctx, as("beta-admin"), access.NewKey{Name: "beta rig", AsControllerPath: "/beta/rig"})
	check(err)

	resIDs := []int{}
	for _, p := range []string{"/alpha", "/alpha/vault", "/alpha/vault/plans.txt", "/alpha/vault/level", "/alpha/rig"} {
		r, err := tree.ByPath(ctx, c, p)
		check(err)
		resIDs = append(resIDs, r.ID)
	}
	w := &crossWorld{
		ids: map[string][]int{
			"resource": resIDs, "permission": {grant.ID}, "key": {aKey.ID, rigKey.ID},
		},
		paths: []string{"/alpha/vault", "/alpha/vault/plans.txt", "/alpha/vault/level", "/alpha/rig", "/alpha/vault/new-thing"},
	}
	viewers := map[string]*gqlClient{
		"beta-admin": ts.login(t, "beta-admin@example.com"), "beta-user": ts.login(t, "beta-user@example.com"),
		"dual-key-for-beta": ts.bearer(t, dualBeta), "beta-controller-key": ts.bearer(t, betaRig), "anonymous": ts.client(t),
	}
	return w, viewers
}

// dumpAlpha is everything of alpha's that a call could change, as text.
func dumpAlpha(t *testing.T, ts *testServer) string {
	t.Helper()
	var out []string
	q := func(query string) {
		rows, err := ts.db.SQL.QueryContext(context.Background(), query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer func() { _ = rows.Close() }()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(vals...))
		}
	}
	const alphaOrg = `(SELECT id FROM organizations WHERE name = 'alpha')`
	q(`SELECT id, name, full_name FROM organizations WHERE name = 'alpha'`)
	q(`SELECT user_id, is_admin FROM memberships WHERE organization_id = ` + alphaOrg + ` ORDER BY user_id`)
	q(`SELECT id, email, password_hash, system_admin, session_epoch, deleted FROM users WHERE email LIKE 'alpha-%' OR email = 'dual@example.com' ORDER BY id`)
	q(`SELECT id, path, name, type, deleted, system_attributes, user_attributes FROM resources WHERE organization_id = ` + alphaOrg + ` ORDER BY id`)
	q(`SELECT resource_id, count(*), sum(size) FROM revisions WHERE resource_id IN (SELECT id FROM resources WHERE organization_id = ` + alphaOrg + `) GROUP BY resource_id ORDER BY resource_id`)
	q(`SELECT id, resource_id, grantee_type, level FROM permissions WHERE resource_id IN (SELECT id FROM resources WHERE organization_id = ` + alphaOrg + `) ORDER BY id`)
	q(`SELECT id, name, revoked_at FROM keys WHERE organization_id = ` + alphaOrg + ` ORDER BY id`)
	return strings.Join(out, "\n")
}

// slot is one argument (or input field) that can be aimed at alpha.
type slot struct {
	arg   string // top-level argument
	field string // input object field, or ""
	kind  string // path, organization, email, id:<entity>
}

// targetKind says what an argument names, by its name (and the operation for ids).
func targetKind(op, name string) string {
	switch name {
	case "path", "newParent", "asController":
		return "path"
	case "organization":
		return "organization"
	case "email", "userEmail", "asUserEmail", "login":
		return "email"
	case "id":
		switch op {
		case "revokePermission":
			return "id:permission"
		case "revokeKey":
			return "id:key"
		default:
			return "id:resource"
		}
	case "name":
		if op == "organization" || op == "createOrganization" {
			return "organization"
		}
	}
	return ""
}

// betaValue is what a target slot holds when another slot is the one aimed at alpha.
func betaValue(kind string) any {
	switch kind {
	case "path":
		return "/beta/own"
	case "organization":
		return "beta"
	case "email":
		return "beta-user@example.com"
	}
	return nil
}

func plainValue(name string, typ *ast.Type, schema *ast.Schema) any {
	if typ.Elem != nil {
		return []any{plainValue(name, typ.Elem, schema)}
	}
	switch typ.NamedType {
	case "String":
		switch name {
		case "password", "currentPassword", "newPassword":
			return "wrong-password-123"
		case "value":
			return "1"
		case "contentBase64":
			return "eA=="
		case "name":
			return "renamed-x"
		}
		return "x"
	case "Int":
		return 1
	case "Float":
		return 1.5
	case "Boolean":
		return false
	case "Time":
		return "2026-01-01T00:00:00Z"
	case "JSON":
		return map[string]any{"k": "v"}
	case "ID":
		return "1"
	}
	def := schema.Types[typ.NamedType]
	if def != nil && def.Kind == ast.Enum {
		return def.EnumValues[0].Name
	}
	return nil
}

// selection selects the scalar fields of typ and of its argument-free object fields, so
// that any data an answer carries shows.
func selection(schema *ast.Schema, typ *ast.Type, depth int) string {
	def := schema.Types[typ.Name()]
	if def == nil || (def.Kind != ast.Object && def.Kind != ast.Interface) {
		return ""
	}
	parts := []string{"__typename"}
	for _, f := range def.Fields {
		if strings.HasPrefix(f.Name, "__") || slices.ContainsFunc(f.Arguments, func(a *ast.ArgumentDefinition) bool { return a.Type.NonNull }) {
			continue
		}
		sub := schema.Types[f.Type.Name()]
		switch {
		case sub == nil:
		case sub.Kind == ast.Scalar || sub.Kind == ast.Enum:
			if f.Name != "secret" { // a created key's secret differs on every call
				parts = append(parts, f.Name)
			}
		case depth < 2 && f.Name != "permissions" && f.Name != "memberships":
			if s := selection(schema, f.Type, depth+1); s != "" {
				parts = append(parts, f.Name+" "+s)
			}
		}
	}
	return "{ " + strings.Join(parts, " ") + " }"
}

type variant struct {
	query     string
	vars      map[string]any
	twinVars  map[string]any
	aimed     slot
	aimedText string // the alpha value, for messages and normalisation
	twinText  string
}

// variants builds, for one root field, one call per (slot, alpha target).
func variants(schema *ast.Schema, opType string, f *ast.FieldDefinition, w *crossWorld) []variant {
	var slots []slot
	for _, a := range f.Arguments {
		if k := targetKind(f.Name, a.Name); k != "" {
			slots = append(slots, slot{arg: a.Name, kind: k})
		}
		in := schema.Types[a.Type.Name()]
		if in != nil && in.Kind == ast.InputObject {
			for _, fld := range in.Fields {
				if k := targetKind(f.Name, fld.Name); k != "" {
					slots = append(slots, slot{arg: a.Name, field: fld.Name, kind: k})
				}
			}
		}
	}
	sel := selection(schema, f.Type, 0)
	var decls, uses []string
	for i, a := range f.Arguments {
		decls = append(decls, fmt.Sprintf("$a%d: %s", i, a.Type.String()))
		uses = append(uses, fmt.Sprintf("%s: $a%d", a.Name, i))
	}
	q := opType
	if len(decls) > 0 {
		q += "(" + strings.Join(decls, ", ") + ")"
	}
	q += " { " + f.Name
	if len(uses) > 0 {
		q += "(" + strings.Join(uses, ", ") + ")"
	}
	q += " " + sel + " }"

	build := func(aim slot, value any) map[string]any {
		vars := map[string]any{}
		for i, a := range f.Arguments {
			key := fmt.Sprintf("a%d", i)
			in := schema.Types[a.Type.Name()]
			switch {
			case aim.arg == a.Name && aim.field == "":
				vars[key] = value
			case in != nil && in.Kind == ast.InputObject:
				obj := map[string]any{}
				for _, fld := range in.Fields {
					k := targetKind(f.Name, fld.Name)
					switch {
					case aim.arg == a.Name && aim.field == fld.Name:
						obj[fld.Name] = value
					case fld.Type.NonNull && k != "":
						obj[fld.Name] = betaValue(k)
					case fld.Type.NonNull:
						obj[fld.Name] = plainValue(fld.Name, fld.Type, schema)
					}
				}
				if a.Type.Elem != nil {
					vars[key] = []any{obj}
				} else {
					vars[key] = obj
				}
			case a.Type.NonNull:
				if k := targetKind(f.Name, a.Name); k != "" {
					vars[key] = betaValue(k)
				} else {
					vars[key] = plainValue(a.Name, a.Type, schema)
				}
			}
		}
		return vars
	}
	var out []variant
	if len(slots) == 0 {
		return []variant{{query: q, vars: build(slot{}, nil)}}
	}
	for _, s := range slots {
		var targets []string
		switch {
		case s.kind == "path":
			targets = w.paths
		case s.kind == "organization":
			targets = []string{"alpha"}
		case s.kind == "email":
			targets = []string{"alpha-admin@example.com", "alpha-user@example.com"}
		case strings.HasPrefix(s.kind, "id:"):
			for _, id := range w.ids[strings.TrimPrefix(s.kind, "id:")] {
				targets = append(targets, strconv.Itoa(id))
			}
		}
		for _, target := range targets {
			twin := strings.ReplaceAll(target, aMark, zMark)
			if strings.HasPrefix(s.kind, "id:") {
				n, _ := strconv.Atoi(target)
				twin = strconv.Itoa(n + idGap)
			}
			out = append(out, variant{query: q, vars: build(s, target), twinVars: build(s, twin), aimed: s, aimedText: target, twinText: twin})
		}
	}
	return out
}

// normalise makes the twin's answer comparable with the original's.
func normalise(raw []byte, twinText, aimedText string) string {
	s := string(raw)
	if twinText != "" {
		s = strings.ReplaceAll(s, twinText, aimedText)
	}
	// The login limiter's wait counts down between the two calls.
	s = retryAfterText.ReplaceAllString(s, "try again in N seconds")
	return strings.ReplaceAll(s, zMark, aMark)
}

var retryAfterText = regexp.MustCompile(`try again in \d+ seconds`)

// mayLearnAccounts: admins adding members or granting by e-mail learn whether the
// address has an account (documented in docs/ARCHITECTURE.md); the walk does not make
// those calls.
func mayLearnAccounts(op, viewerName string, s slot) bool {
	return s.kind == "email" && viewerName == "beta-admin" && (op == "addMember" || op == "grantPermission")
}

func TestCrossOrganizationSchemaWalk(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		w, viewers := buildCrossWorld(t, ts)
		schema := generated.NewExecutableSchema(generated.Config{}).Schema()
		before := dumpAlpha(t, ts)
		names := make([]string, 0, len(viewers))
		for n := range viewers {
			names = append(names, n)
		}
		sort.Strings(names)
		calls := 0
		for _, viewerName := range names {
			c := viewers[viewerName]
			for _, op := range []struct {
				typ string
				def *ast.Definition
			}{{"query", schema.Query}, {"mutation", schema.Mutation}} {
				for _, f := range op.def.Fields {
					if strings.HasPrefix(f.Name, "__") || f.Name == "logout" {
						continue // logout would end the viewer's own session mid-walk
					}
					for _, v := range variants(schema, op.typ, f, w) {
						if mayLearnAccounts(f.Name, viewerName, v.aimed) {
							// The documented exception: it succeeds for a real address
							// and would make alpha's user a beta member or grantee, whom
							// beta may then see. Tested in TestHiddenLooksMissing.
							continue
						}
						calls++
						r := c.do(t, v.query, v.vars)
						var data any
						_ = json.Unmarshal(r.Data[f.Name], &data)
						if d := string(r.Data[f.Name]); strings.Contains(d, aMark) || strings.Contains(d, "vault") || strings.Contains(d, "secret plans") {
							t.Errorf("%s %s(%s=%s): data names alpha's: %s", viewerName, f.Name, v.aimed.arg+v.aimed.field, v.aimedText, r.raw)
						}
						if v.twinVars == nil {
							continue
						}
						twin := c.do(t, v.query, v.twinVars)
						got, want := normalise(r.raw, "", ""), normalise(twin.raw, v.twinText, v.aimedText)
						if got != want || r.Status != twin.Status {
							t.Errorf("%s %s(%s%s=%s): existing and missing targets answer differently:\n  %d %s\n  %d %s",
								viewerName, f.Name, v.aimed.arg, "."+v.aimed.field, v.aimedText, r.Status, r.raw, twin.Status, twin.raw)
						}
					}
				}
			}
			if after := dumpAlpha(t, ts); after != before {
				t.Fatalf("%s changed alpha:\nbefore:\n%s\nafter:\n%s", viewerName, before, after)
			}
		}
		t.Logf("%d calls", calls)
		if calls < 200 {
			t.Fatalf("only %d calls: the walk is not covering the schema", calls)
		}
	})
}
