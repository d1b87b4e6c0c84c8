package server

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/rhizoflex/rhizoflex"

// The dependency direction of DESIGN.md: main -> server -> {graph, streams, internal/*,
// frontend}; graph -> internal/* -> ent; internal/* may use streams; streams imports only
// the standard library; nothing but main imports server.
func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for _, imp := range imports {
			if msg := violation(pkg, imp); msg != "" {
				t.Errorf("%s imports %s: %s", pkg, imp, msg)
			}
		}
	}
}

func under(pkg, dir string) bool {
	p := module + "/" + dir
	return pkg == p || strings.HasPrefix(pkg, p+"/")
}

func violation(pkg, imp string) string {
	ours := strings.HasPrefix(imp, module)
	stdlib := !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")
	switch {
	case under(imp, "server") && pkg != module && !under(pkg, "server"):
		return "only main may import server"
	case under(pkg, "streams") && !stdlib && !under(imp, "streams"):
		return "streams imports only the standard library"
	case under(pkg, "internal") && (under(imp, "graph") || under(imp, "server") || under(imp, "frontend")):
		return "internal/ may not import graph, server or frontend"
	case under(pkg, "ent") && ours && !under(imp, "ent"):
		return "ent imports nothing of ours"
	case under(pkg, "graph") && (under(imp, "server") || under(imp, "frontend")):
		return "graph may not import server or frontend"
	}
	return ""
}

func TestViolationRules(t *testing.T) {
	bad := [][2]string{
		{module + "/graph", module + "/server"},
		{module + "/streams/das2", "github.com/lib/pq"},
		{module + "/streams/das2", module + "/internal/tree"},
		{module + "/internal/tree", module + "/graph"},
		{module + "/ent/user", module + "/internal/fault"},
	}
	for _, b := range bad {
		if violation(b[0], b[1]) == "" {
			t.Errorf("%s -> %s should be refused", b[0], b[1])
		}
	}
	good := [][2]string{
		{module, module + "/server"},
		{module + "/internal/series", module + "/streams"},
		{module + "/streams/das2", "encoding/binary"},
		{module + "/graph", module + "/internal/tree"},
	}
	for _, g := range good {
		if msg := violation(g[0], g[1]); msg != "" {
			t.Errorf("%s -> %s refused: %s", g[0], g[1], msg)
		}
	}
}
