package database

import (
	"errors"
	"io/fs"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	atlas "ariga.io/atlas/sql/migrate"

	"github.com/rhizoflex/rhizoflex/ent/migrate/migrations"
)

// The runner's own reader of migration directories must agree with Atlas, which plans the
// files: Atlas is the oracle here (tests only; the server binary does not link it).

// trickySQL exercises the statement splitter where a naive split at ';' goes wrong.
var trickySQL = []string{
	"CREATE TABLE a (id integer);\nINSERT INTO a VALUES (1);\n",
	"-- leading comment\nCREATE TABLE a (x text DEFAULT ';');\n-- between\n/* block; comment */\nDROP TABLE a;\n",
	"INSERT INTO t (s) VALUES ('it''s; here'), (\"q;\"), (`b;`);\n",
	"UPDATE t SET x = 1 -- trailing; comment\nWHERE id = 2;\n",
	"CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN NEW.x := 1; RETURN NEW; END; $$ LANGUAGE plpgsql;\nSELECT 1;\n",
	"CREATE FUNCTION g() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n",
	"CREATE TABLE p (c integer CHECK (c IN (1, 2)), d text);\nSELECT f($1);\n",
	"SELECT 1;\nSELECT 2",
	"CREATE FUNCTION h() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;\nSELECT 3;\n",
	"/* only a comment */\n",
	"",
}

func atlasStmts(t *testing.T, src string) []string {
	t.Helper()
	stmts, err := atlas.Stmts(src)
	if err != nil {
		t.Fatalf("atlas: %v", err)
	}
	var out []string
	for _, s := range stmts {
		out = append(out, s.Text)
	}
	return out
}

func embeddedFiles(t *testing.T) map[string][]migrationFile {
	t.Helper()
	out := map[string][]migrationFile{}
	for _, d := range []string{"sqlite", "postgres"} {
		dir, err := fs.Sub(migrations.FS, d)
		if err != nil {
			t.Fatal(err)
		}
		files, err := loadDir(dir)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if len(files) == 0 {
			t.Fatalf("%s: no migrations", d)
		}
		out[d] = files
	}
	return out
}

func TestSplitStatementsMatchesAtlas(t *testing.T) {
	var inputs []string
	for _, files := range embeddedFiles(t) {
		for _, f := range files {
			inputs = append(inputs, string(f.data))
		}
	}
	inputs = append(inputs, trickySQL...)
	for i, src := range inputs {
		got, err := splitStatements(src)
		if err != nil {
			t.Fatalf("input %d: %v\n%s", i, err, src)
		}
		if want := atlasStmts(t, src); !slices.Equal(got, want) {
			t.Errorf("input %d:\n%s\ngot  %q\nwant %q", i, src, got, want)
		}
	}
}

// Atlas's default scanner splits SQLite trigger bodies at their inner semicolons; ours keeps
// a trigger one statement, as SQLite needs.
func TestSplitStatementsKeepsTriggerBodies(t *testing.T) {
	src := "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = n + 1;\n  UPDATE c SET k = CASE WHEN NEW.x THEN 1 ELSE 0 END;\nEND;\n" +
		"CREATE TEMP TRIGGER u AFTER DELETE ON a BEGIN DELETE FROM b; END;\n" +
		"CREATE TRIGGER v AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION f();\n" +
		"SELECT 'BEGIN';\n"
	got, err := splitStatements(src)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = n + 1;\n  UPDATE c SET k = CASE WHEN NEW.x THEN 1 ELSE 0 END;\nEND;",
		"CREATE TEMP TRIGGER u AFTER DELETE ON a BEGIN DELETE FROM b; END;",
		"CREATE TRIGGER v AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION f();",
		"SELECT 'BEGIN';",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func TestSplitStatementsRefusesBrokenInput(t *testing.T) {
	for _, src := range []string{
		"INSERT INTO t VALUES ('open;\n",
		"SELECT 1; /* open\n",
		"CREATE TABLE t (id integer;\n",
		"SELECT 1);\n",
		"SELECT $$ open;\n",
		"CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b;\n",
	} {
		if got, err := splitStatements(src); err == nil {
			t.Errorf("%q: split into %q, want an error", src, got)
		}
	}
}

func FuzzSplitStatements(f *testing.F) {
	for _, s := range trickySQL {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		stmts, err := splitStatements(src)
		if err != nil {
			return
		}
		// Statements are pieces of the input, in order.
		rest := src
		for _, s := range stmts {
			i := strings.Index(rest, s)
			if i < 0 {
				t.Fatalf("statement %q is not in what remains of the input %q", s, rest)
			}
			rest = rest[i+len(s):]
		}
	})
}

// atlasSum is atlas.sum as Atlas writes it for files.
func atlasSum(t *testing.T, files map[string]string) []byte {
	t.Helper()
	mem := atlas.OpenMemDir(t.Name())
	t.Cleanup(func() { _ = mem.Close() })
	for name, body := range files {
		if err := mem.WriteFile(name, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := mem.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	b, err := sum.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSumMatchesAtlas(t *testing.T) {
	for d, files := range embeddedFiles(t) {
		onDisk, err := fs.ReadFile(migrations.FS, d+"/"+sumFileName)
		if err != nil {
			t.Fatal(err)
		}
		if got := marshalSum(files); string(got) != string(onDisk) {
			t.Errorf("%s: our atlas.sum differs from the planner's:\n%s\nwant\n%s", d, got, onDisk)
		}
	}
	files := map[string]string{"1_a.sql": "CREATE TABLE a (id integer);\n", "2_b.sql": "", "10_c.sql": "SELECT 'ü';\n"}
	var ours []migrationFile
	for _, name := range []string{"10_c.sql", "1_a.sql", "2_b.sql"} { // lexical order, as Atlas
		ours = append(ours, migrationFile{name: name, data: []byte(files[name])})
	}
	if got, want := marshalSum(ours), atlasSum(t, files); string(got) != string(want) {
		t.Errorf("atlas.sum:\n%s\nwant\n%s", got, want)
	}
}

func TestLoadDirVerifiesSum(t *testing.T) {
	base := map[string]string{
		"20260101000000_a.sql": "CREATE TABLE a (id integer);\n",
		"20260102000000_b.sql": "CREATE TABLE b (id integer);\n",
	}
	dir := func(files map[string]string, sum []byte) fstest.MapFS {
		fsys := fstest.MapFS{}
		for name, body := range files {
			fsys[name] = &fstest.MapFile{Data: []byte(body)}
		}
		if sum != nil {
			fsys[sumFileName] = &fstest.MapFile{Data: sum}
		}
		return fsys
	}
	sum := atlasSum(t, base)
	with := func(name, body string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		if body == "" {
			delete(m, name)
		} else {
			m[name] = body
		}
		return m
	}
	for _, tc := range []struct {
		name string
		dir  fstest.MapFS
		want string // "" for success, else a piece of the error
	}{
		{"intact", dir(base, sum), ""},
		{"empty directory", dir(nil, nil), ""},
		{"edited", dir(with("20260101000000_a.sql", "CREATE TABLE x (id integer);\n"), sum), "20260101000000_a.sql was edited"},
		{"removed", dir(with("20260101000000_a.sql", ""), sum), "20260101000000_a.sql was removed"},
		{"added at the end", dir(with("20260103000000_c.sql", "SELECT 1;\n"), sum), "20260103000000_c.sql was added"},
		{"added before", dir(with("20251231000000_z.sql", "SELECT 1;\n"), sum), "20251231000000_z.sql was added before"},
		{"no atlas.sum", dir(base, nil), "atlas.sum is missing"},
		{"atlas.sum edited", dir(base, []byte(strings.Replace(string(sum), "h1:", "h1:x", 2))), "atlas.sum itself was edited"},
		{"atlas.sum malformed", dir(base, []byte("h1:abc\nnonsense\n")), "line 2"},
		{"atlas.sum empty", dir(base, []byte{}), "atlas.sum is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := loadDir(tc.dir)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(files) != len(tc.dir)-min(1, len(tc.dir)) {
					t.Fatalf("loaded %d files from %d entries", len(files), len(tc.dir))
				}
				return
			}
			if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrChecksum mentioning %q", err, tc.want)
			}
		})
	}
	// A file Atlas would run differently (its own delimiter, no transaction) is refused.
	directive := with("20260101000000_a.sql", "-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY i ON a (id);\n")
	if _, err := loadDir(dir(directive, atlasSum(t, directive))); err == nil || !strings.Contains(err.Error(), "atlas:txmode") {
		t.Fatalf("file with a txmode directive: %v", err)
	}
}

func TestMigrationFileNames(t *testing.T) {
	for _, tc := range []struct{ name, version, desc string }{
		{"20261122045300_initial.sql", "20261122045300", "initial"},
		{"20261122050836_rollups_password_resets.sql", "20261122050836", "rollups_password_resets"},
		{"7.sql", "7", ""},
	} {
		f := migrationFile{name: tc.name}
		if f.version() != tc.version || f.desc() != tc.desc {
			t.Errorf("%s: version %q desc %q, want %q %q", tc.name, f.version(), f.desc(), tc.version, tc.desc)
		}
		// Atlas names them the same way.
		af := atlas.NewLocalFile(tc.name, nil)
		if af.Version() != tc.version || af.Desc() != tc.desc {
			t.Errorf("%s: Atlas says version %q desc %q", tc.name, af.Version(), af.Desc())
		}
	}
}

// The runner reads migration directories itself: Atlas (its HCL, drivers and planner) is
// for ent/migrate/plan.go, not for this package.
func TestRunnerDoesNotImportAtlas(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, imp := range strings.Fields(string(out)) {
		if strings.HasPrefix(imp, "ariga.io/") {
			t.Errorf("internal/database imports %s", imp)
		}
	}
}
