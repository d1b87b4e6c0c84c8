package tree_test

import (
	"fmt"
	"strings"
	"testing"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

func TestValidateName(t *testing.T) {
	good := []string{"a", "temp sensor", "x.y", "A_b-c", "2026", strings.Repeat("n", 100)}
	bad := []string{"", ".hidden", " lead", "trail ", "sl/ash", "tab\t", "ü", strings.Repeat("n", 101), "semi;colon"}
	for _, n := range good {
		if err := tree.ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v, want ok", n, err)
		}
	}
	for _, n := range bad {
		err := tree.ValidateName(n)
		if !fault.Is(err, fault.BadInput) {
			t.Errorf("ValidateName(%q) = %v, want BAD_USER_INPUT", n, err)
		}
	}
}

func TestSplitPath(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"/a/b", "/a/b", true},
		{"/a/b/", "/a/b", true},
		{"a/b", "", false},
		{"/", "", false},
		{"/a//b", "", false},
		{"/a/../b", "", false},
	}
	for _, tc := range tests {
		got, err := tree.CleanPath(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestCreateRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		c := db.Client
		org, err := account.CreateOrganization(ctx, c, "lab", "Lab")
		if err != nil {
			t.Fatal(err)
		}
		f, err := tree.Create(ctx, c, tree.CreateParams{Path: "/lab/data", Type: tree.Folder})
		if err != nil {
			t.Fatal(err)
		}
		if f.Path != "/lab/data" || f.OrganizationID == nil || *f.OrganizationID != org.ID {
			t.Fatalf("folder: %+v", f)
		}
		cases := []struct {
			name string
			p    tree.CreateParams
			code fault.Code
		}{
			{"duplicate", tree.CreateParams{Path: "/lab/data", Type: tree.Folder}, fault.Conflict},
			{"bad name", tree.CreateParams{Path: "/lab/.x", Type: tree.Folder}, fault.BadInput},
			{"missing parent", tree.CreateParams{Path: "/lab/none/x", Type: tree.Folder}, fault.NotFound},
			{"unknown org", tree.CreateParams{Path: "/nolab/x", Type: tree.Folder}, fault.NotFound},
			{"top-level folder", tree.CreateParams{Path: "/top", Type: tree.Folder}, fault.BadInput},
			{"unknown type", tree.CreateParams{Path: "/lab/q", Type: "blob"}, fault.BadInput},
		}
		for _, tc := range cases {
			if _, err := tree.Create(ctx, c, tc.p); !fault.Is(err, tc.code) {
				t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
			}
		}
		seq, err := tree.Create(ctx, c, tree.CreateParams{Path: "/lab/data/seq", Type: tree.Sequence,
			SystemAttributes: tree.SequenceAttributes(tree.Numeric, "V", 2)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tree.Create(ctx, c, tree.CreateParams{Path: "/lab/data/seq/child", Type: tree.Folder}); !fault.Is(err, fault.BadInput) {
			t.Errorf("child of a sequence: got %v, want BAD_USER_INPUT", err)
		}
		deep, err := tree.Create(ctx, c, tree.CreateParams{Path: "/lab/a/b/c", Type: tree.Folder, CreateParents: true})
		if err != nil {
			t.Fatalf("create parents: %v", err)
		}
		if got, err := tree.ByPath(ctx, c, "/lab/a/b"); err != nil || got.ID != *deep.ParentID {
			t.Fatalf("intermediate folder: %v %v", got, err)
		}
		// A deleted resource's name can be reused.
		if err := c.Resource.UpdateOne(seq).SetDeleted(true).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := tree.ByPath(ctx, c, "/lab/data/seq"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("deleted resource still found: %v", err)
		}
		if _, err := tree.Create(ctx, c, tree.CreateParams{Path: "/lab/data/seq", Type: tree.Sequence}); err != nil {
			t.Fatalf("reuse of a deleted name: %v", err)
		}
	})
}

func TestCreateControllerScaffold(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		if _, err := account.CreateOrganization(ctx, db.Client, "lab", ""); err != nil {
			t.Fatal(err)
		}
		ctrl, err := tree.CreateController(ctx, db.Client, "/lab/ctrl", false)
		if err != nil {
			t.Fatal(err)
		}
		if ctrl.Type != tree.ControllerFolder {
			t.Fatalf("type %s", ctrl.Type)
		}
		for _, p := range []string{"log", "status", "status/free_disk_space", "status/processor_usage", "status/messages_sent", "status/messages_received", "status/serial_errors"} {
			if _, err := tree.ByPath(ctx, db.Client, "/lab/ctrl/"+p); err != nil {
				t.Errorf("scaffold %s: %v", p, err)
			}
		}
		if _, err := tree.CreateController(ctx, db.Client, "/lab/ctrl", false); !fault.Is(err, fault.Conflict) {
			t.Fatalf("second controller at the same path: %v", err)
		}
	})
}

// A lookup by path uses the partial index on live paths on both databases: with the
// deleted flag bound as a parameter, SQLite scanned the whole resources table instead.
func TestLookupByPathUsesTheIndex(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		var query string
		var args []any
		_, _ = db.Client.Resource.Query().Where(resource.Path("/a/b"), tree.NotDeleted()).
			Modify(func(s *entsql.Selector) { query, args = s.Query() }).All(ctx)
		conn, err := db.SQL.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close() }()
		explain := "EXPLAIN QUERY PLAN " + query
		if db.Dialect == "postgres" {
			// The generic plan (what a cached prepared statement may use), on a table too
			// small to be worth an index unless scans are ruled out.
			for _, q := range []string{"SET enable_seqscan = off", "SET plan_cache_mode = force_generic_plan", "PREPARE by_path AS " + query} {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			explain = "EXPLAIN EXECUTE by_path(" + strings.Repeat("'/a/b',", len(args)-1) + "'/a/b')"
			args = nil
		}
		rows, err := conn.QueryContext(ctx, explain, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan strings.Builder
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
			_, _ = fmt.Fprintln(&plan, vals...)
		}
		_ = rows.Close()
		if !strings.Contains(plan.String(), "resource_path") {
			t.Fatalf("%s\nis planned without the path index:\n%s", query, plan.String())
		}
	})
}
