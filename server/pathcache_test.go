package server

import (
	"encoding/json"
	"fmt"
	"testing"
)

// writePathScenario changes sequences through admin and writes values through writer
// after each change: whatever the writer's instance cached from the writes before, the
// next write sees the change (the write path's cache of lookups by path, tree.PathCache).
func writePathScenario(t *testing.T, admin, writer, reader *gqlClient) {
	t.Helper()
	write := func(path, value string) gqlResult {
		t.Helper()
		return writer.do(t, `mutation($p: String!, $v: String!) { updateSequence(path: $p, value: $v) { timestamp } }`,
			map[string]any{"p": path, "v": value})
	}
	writeAt := func(path, value, at string) gqlResult {
		t.Helper()
		return writer.do(t, `mutation($p: String!, $v: String!, $t: Time) { updateSequence(path: $p, value: $v, timestamp: $t) { timestamp } }`,
			map[string]any{"p": path, "v": value, "t": at})
	}
	batch := func(path, value string) gqlResult {
		t.Helper()
		return writer.do(t, `mutation($p: String!, $v: String!) { updateSequences(values: [{path: $p, value: $v}]) }`,
			map[string]any{"p": path, "v": value})
	}
	type node struct {
		Number *float64
		Text   *string
	}
	values := func(path string) []node {
		t.Helper()
		var res struct {
			ID     string
			Values struct{ Edges []struct{ Node node } }
		}
		reader.do(t, `query($p: String!) { resource(path: $p) { id values(first: 100) { edges { node { number text } } } } }`,
			map[string]any{"p": path}).ok(t).decode(t, "resource", &res)
		out := make([]node, len(res.Values.Edges))
		for i, e := range res.Values.Edges {
			out[i] = e.Node
		}
		return out
	}
	admin.do(t, `mutation { createFolder(path: "/lab/pc", createParents: true) { id } }`, nil).ok(t)
	admin.do(t, `mutation { createFolder(path: "/lab/pc2") { id } }`, nil).ok(t)
	admin.do(t, `mutation { createSequence(input: {path: "/lab/pc/s", dataType: NUMERIC, min: 0, max: 10}) { id } }`, nil).ok(t)
	for range 3 { // cached on the writer's instance now
		write("/lab/pc/s", "5").ok(t)
		batch("/lab/pc/s", "6").ok(t)
	}

	// A new range takes effect on the next write.
	if r := write("/lab/pc/s", "50"); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("50 above max 10: %s", r.raw)
	}
	admin.do(t, `mutation { updateResourceAttributes(path: "/lab/pc/s", sequence: {max: 100}) { id } }`, nil).ok(t)
	write("/lab/pc/s", "50").ok(t)
	admin.do(t, `mutation { updateResourceAttributes(path: "/lab/pc/s", sequence: {max: 1}) { id } }`, nil).ok(t)
	if r := batch("/lab/pc/s", "5"); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("5 above the new max 1 in a batch: %s", r.raw)
	}

	// A value at a time already written replaces it (the cached sequence does not hide
	// what is stored).
	const at = "2099-01-02T03:04:05.000006Z" // after everything the cached copy knows of
	writeAt("/lab/pc/s", "0.25", at).ok(t)
	writeAt("/lab/pc/s", "0.5", at).ok(t)

	// Renamed: the old path is gone, the new one writes to the same sequence.
	admin.do(t, `mutation { renameResource(path: "/lab/pc/s", name: "r") { id } }`, nil).ok(t)
	if r := write("/lab/pc/s", "1"); r.code() != "NOT_FOUND" {
		t.Fatalf("write by the old path after a rename: %s", r.raw)
	}
	if r := batch("/lab/pc/s", "1"); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("batch by the old path after a rename: %s", r.raw)
	}
	write("/lab/pc/r", "1").ok(t)
	if n := len(values("/lab/pc/r")); n != 9 {
		t.Fatalf("the renamed sequence has %d values, want 9", n)
	}

	// Moved.
	for range 2 {
		write("/lab/pc/r", "1").ok(t)
	}
	admin.do(t, `mutation { moveResource(path: "/lab/pc/r", newParent: "/lab/pc2") { id } }`, nil).ok(t)
	if r := write("/lab/pc/r", "1"); r.code() != "NOT_FOUND" {
		t.Fatalf("write by the old path after a move: %s", r.raw)
	}
	write("/lab/pc2/r", "1").ok(t)
	if n := len(values("/lab/pc2/r")); n != 12 {
		t.Fatalf("the moved sequence has %d values, want 12", n)
	}

	// Deleted, then a text sequence at the same path: writes go to the new one and are
	// checked against its type.
	admin.do(t, `mutation { deleteResource(path: "/lab/pc2/r") }`, nil).ok(t)
	if r := write("/lab/pc2/r", "1"); r.code() != "NOT_FOUND" {
		t.Fatalf("write after a delete: %s", r.raw)
	}
	admin.do(t, `mutation { createSequence(input: {path: "/lab/pc2/r", dataType: TEXT}) { id } }`, nil).ok(t)
	write("/lab/pc2/r", "hello").ok(t)
	batch("/lab/pc2/r", "world").ok(t)
	got := values("/lab/pc2/r")
	if len(got) != 2 || got[0].Text == nil || *got[0].Text != "hello" || got[1].Text == nil || *got[1].Text != "world" {
		b, _ := json.Marshal(got)
		t.Fatalf("the recreated text sequence holds %s, want hello, world", b)
	}
}

func TestWritePathFollowsResourceChanges(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		c := ts.login(t, "lmember")
		writePathScenario(t, c, c, c)
	})
}

// The same on two instances: the changes are made on A, the values written on B.
func TestWritePathFollowsResourceChangesOnAnotherInstance(t *testing.T) {
	servers := twoInstances(t, "")
	a, b := servers[0].login(t, "lmember"), servers[1].login(t, "lmember")
	writePathScenario(t, a, b, a)
}

// PUT /api/v1/resources (rhizo-client's update_multiple) goes through the same cache: a
// write by a renamed sequence's old path is skipped, as for any unknown path, and a
// recreated path is written to the new sequence.
func TestRhizoUpdateManyFollowsResourceChanges(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		admin := ts.login(t, "lmember")
		c := ts.rhizoSession(t, "lmember")
		put := func(path, value string) {
			t.Helper()
			c.send(t, "PUT", "/api/v1/resources", form("values", `{"`+path+`": "`+value+`"}`)).expect(t, 200)
		}
		admin.do(t, `mutation { createSequence(input: {path: "/lab/data/pm", dataType: NUMERIC}) { id } }`, nil).ok(t)
		for range 3 {
			put("/lab/data/pm", "1")
		}
		admin.do(t, `mutation { renameResource(path: "/lab/data/pm", name: "pn") { id } }`, nil).ok(t)
		put("/lab/data/pm", "2")
		if n := countValues(t, admin, "/lab/data/pn"); n != 3 {
			t.Fatalf("the renamed sequence has %d values after a write by its old path, want 3", n)
		}
		put("/lab/data/pn", "2")
		admin.do(t, `mutation { deleteResource(path: "/lab/data/pn") }`, nil).ok(t)
		admin.do(t, `mutation { createSequence(input: {path: "/lab/data/pn", dataType: TEXT}) { id } }`, nil).ok(t)
		put("/lab/data/pn", "hello")
		if n := countValues(t, admin, "/lab/data/pn"); n != 1 {
			t.Fatalf("the recreated sequence has %d values, want 1", n)
		}
	})
}

// The MQTT broker writes through the path cache too: after a rename the old path stores
// nothing; a sequence deleted and created again as text takes text at its path.
func TestRhizoMQTTFollowsResourceChanges(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		member := ts.login(t, "lmember")
		key, _ := rhizoKey(t, ts)
		ctrl, err := ts.mqtt(t, "key", key)
		if err != nil {
			t.Fatal(err)
		}
		observer, err := ts.mqtt(t, "key", ts.world.Keys["userkey"])
		if err != nil || !observer.subscribe("lab/ctrl") {
			t.Fatalf("observer: %v", err)
		}
		n := 0
		// send publishes name=value on the controller's topic and waits until the broker
		// handled it: values are stored in the order sent, so a value to the marker
		// sequence shown after it means everything before it was stored or refused.
		send := func(name, value string) {
			t.Helper()
			n++
			at := fmt.Sprintf("2026-03-01T10:00:%02d Z", n)
			ctrl.publish("lab/ctrl", fmt.Sprintf(`{"update": {"$t": "%s", %q: %q}}`, at, name, value))
			ctrl.publish("lab/ctrl", fmt.Sprintf(`{"update": {"$t": "%s", "marker": "%d"}}`, at, n))
			observer.next(fmt.Sprintf("d,marker,%s,%d", at, n))
		}
		member.do(t, `mutation { createSequence(input: {path: "/lab/ctrl/marker", dataType: NUMERIC}) { id } }`, nil).ok(t)
		member.do(t, `mutation { createSequence(input: {path: "/lab/ctrl/pm", dataType: NUMERIC}) { id } }`, nil).ok(t)
		for range 3 {
			send("pm", "1")
		}
		if c := countValues(t, member, "/lab/ctrl/pm"); c != 3 {
			t.Fatalf("%d values stored over MQTT, want 3", c)
		}
		member.do(t, `mutation { renameResource(path: "/lab/ctrl/pm", name: "pn") { id } }`, nil).ok(t)
		send("pm", "2")
		if c := countValues(t, member, "/lab/ctrl/pn"); c != 3 {
			t.Fatalf("the renamed sequence has %d values after a write by its old path, want 3", c)
		}
		send("pn", "2")
		member.do(t, `mutation { deleteResource(path: "/lab/ctrl/pn") }`, nil).ok(t)
		member.do(t, `mutation { createSequence(input: {path: "/lab/ctrl/pn", dataType: TEXT}) { id } }`, nil).ok(t)
		send("pn", "hello")
		if c := countValues(t, member, "/lab/ctrl/pn"); c != 1 {
			t.Fatalf("the recreated sequence has %d values, want 1", c)
		}
	})
}

// countValues is how many values (up to 100) the sequence at path holds, as c sees it.
func countValues(t *testing.T, c *gqlClient, path string) int {
	t.Helper()
	var res struct {
		Values struct {
			Edges []struct{ Node struct{ Text *string } }
		}
	}
	c.do(t, `query($p: String!) { resource(path: $p) { values(first: 100) { edges { node { text } } } } }`,
		map[string]any{"p": path}).ok(t).decode(t, "resource", &res)
	return len(res.Values.Edges)
}
