package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/blob"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
)

func TestTreeOverGraphQL(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		c := ts.login(t, "lmember")
		c.do(t, `mutation { createFolder(path: "/lab/runs") { path type } }`, nil).ok(t)
		for _, tc := range []struct{ q, code string }{
			{`mutation { createFolder(path: "/lab/runs") { id } }`, "CONFLICT"},
			{`mutation { createFolder(path: "/lab/.hidden") { id } }`, "BAD_USER_INPUT"},
			{`mutation { createFolder(path: "/lab/a/b") { id } }`, "NOT_FOUND"},
			{`mutation { createFolder(path: "/lab/runs/x;y") { id } }`, "BAD_USER_INPUT"},
			{`mutation { renameResource(path: "/lab/nope", name: "x") { id } }`, "NOT_FOUND"},
			{`mutation { createFolder(path: "/toplevel") { id } }`, "BAD_USER_INPUT"},
			{`mutation { createSequence(input: {path: "/lab/runs/t", dataType: TEXT, min: 1}) { id } }`, "BAD_USER_INPUT"},
		} {
			if r := c.do(t, tc.q, nil); r.code() != tc.code {
				t.Errorf("%s: code %q, want %s (%s)", tc.q, r.code(), tc.code, r.raw)
			}
		}
		c.do(t, `mutation { createFolder(path: "/lab/a/b", createParents: true) { id } }`, nil).ok(t)
		c.do(t, `mutation { createSequence(input: {path: "/lab/runs/volts", dataType: NUMERIC, units: "V", decimalPlaces: 3, min: -10, max: 10}) { id } }`, nil).ok(t)
		c.do(t, `mutation { createFile(path: "/lab/runs/readme.txt", contentBase64: "aGVsbG8K", contentType: "text/plain") { id } }`, nil).ok(t)
		c.do(t, `mutation { createController(path: "/lab/runs/pi") { id } }`, nil).ok(t)

		var root struct {
			Children struct {
				Edges    []struct{ Node struct{ Name, Type string } }
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
			Descendants []struct{ Path string }
		}
		c.do(t, `{ resource(path: "/lab/runs") { children(first: 2) { edges { node { name type } } pageInfo { hasNextPage endCursor } } descendants(depth: 2) { path } } }`, nil).ok(t).decode(t, "resource", &root)
		if len(root.Children.Edges) != 2 || root.Children.Edges[0].Node.Name != "pi" || !root.Children.PageInfo.HasNextPage {
			t.Fatalf("children page: %+v", root.Children)
		}
		var more struct {
			Children struct {
				Edges []struct{ Node struct{ Name string } }
			}
		}
		c.do(t, `query($a: String) { resource(path: "/lab/runs") { children(first: 10, after: $a) { edges { node { name } } } } }`, map[string]any{"a": root.Children.PageInfo.EndCursor}).ok(t).decode(t, "resource", &more)
		if len(more.Children.Edges) != 1 || more.Children.Edges[0].Node.Name != "volts" {
			t.Fatalf("second children page: %+v", more)
		}
		paths := []string{}
		for _, d := range root.Descendants {
			paths = append(paths, d.Path)
		}
		for _, want := range []string{"/lab/runs/pi/log", "/lab/runs/pi/status", "/lab/runs/volts"} {
			if !strings.Contains(strings.Join(paths, " "), want) {
				t.Errorf("descendants lack %s: %v", want, paths)
			}
		}

		var seq struct {
			ID        string
			Parent    struct{ Path string }
			Ancestors []struct{ Path string }
			Sequence  struct {
				DataType      string
				Units         string
				DecimalPlaces int
				Min, Max      float64
			}
		}
		c.do(t, `{ resource(path: "/lab/runs/volts") { id parent { path } ancestors { path } sequence { dataType units decimalPlaces min max } } }`, nil).ok(t).decode(t, "resource", &seq)
		if seq.Parent.Path != "/lab/runs" || len(seq.Ancestors) != 2 || seq.Sequence.Units != "V" || seq.Sequence.Max != 10 || seq.Sequence.DataType != "NUMERIC" {
			t.Fatalf("sequence resource: %+v", seq)
		}
		var node struct{ Path string }
		c.do(t, `query($id: ID!) { node(id: $id) { ... on Resource { path } } }`, map[string]any{"id": seq.ID}).ok(t).decode(t, "node", &node)
		if node.Path != "/lab/runs/volts" {
			t.Fatalf("node: %+v", node)
		}
		if r := ts.login(t, "omember").do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": seq.ID}).ok(t); string(r.Data["node"]) != "null" {
			t.Fatalf("node of a hidden resource: %s", r.raw)
		}

		c.do(t, `mutation { renameResource(path: "/lab/runs", name: "trials") { path } }`, nil).ok(t)
		c.do(t, `mutation { moveResource(path: "/lab/trials/volts", newParent: "/lab/a/b") { path } }`, nil).ok(t)
		if r := c.do(t, `{ resource(path: "/lab/a/b/volts") { sequence { units } } }`, nil).ok(t); !strings.Contains(string(r.raw), `"units":"V"`) {
			t.Fatalf("moved sequence: %s", r.raw)
		}
		if r := c.do(t, `mutation { moveResource(path: "/lab/a", newParent: "/lab/a/b") { path } }`, nil); r.code() != "BAD_USER_INPUT" {
			t.Fatalf("move into itself: %s", r.raw)
		}
		if r := c.do(t, `mutation { moveResource(path: "/lab/a/b/volts", newParent: "/other/data") { path } }`, nil); r.code() != "NOT_FOUND" {
			t.Fatalf("move into another organization: %s", r.raw)
		}
		c.do(t, `mutation { updateResourceAttributes(path: "/lab/a/b/volts", userAttributes: {color: "red"}, sequence: {units: "mV", max: 5}) { userAttributes systemAttributes } }`, nil).ok(t)
		if r := c.do(t, `mutation { updateResourceAttributes(path: "/lab/a/b/volts", sequence: {min: 6}) { id } }`, nil); r.code() != "BAD_USER_INPUT" {
			t.Fatalf("min above max: %s", r.raw)
		}
		c.do(t, `mutation { updateResourceAttributes(path: "/lab/trials/pi", watchdogMinutes: 10) { id } }`, nil).ok(t)

		c.do(t, `mutation { deleteResource(path: "/lab/trials") }`, nil).ok(t)
		if r := c.do(t, `{ resource(path: "/lab/trials/pi/log") { id } }`, nil).ok(t); string(r.Data["resource"]) != "null" {
			t.Fatalf("deleted subtree still visible: %s", r.raw)
		}
		c.do(t, `mutation { createFolder(path: "/lab/trials") { id } }`, nil).ok(t)
	})
}

// Write operations by viewer: the write column of the permission matrix.
func TestWriteMatrixOverGraphQL(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		for viewerName, expected := range fixture.Expected {
			c := viewerClient(t, ts, viewerName)
			for i, res := range fixture.Resources {
				want := expected[res.Name]
				var q string
				var vars map[string]any
				switch {
				case strings.HasSuffix(res.Name, "-seq"):
					q, vars = `mutation($p: String!) { updateSequence(path: $p, value: "1.5") { number } }`, map[string]any{"p": res.Path}
				case strings.HasSuffix(res.Name, "-file"):
					q, vars = `mutation($p: String!) { writeFile(path: $p, contentBase64: "eA==") { id } }`, map[string]any{"p": res.Path}
				default:
					q, vars = `mutation($p: String!) { createFolder(path: $p) { id } }`, map[string]any{"p": fmt.Sprintf("%s/%s-%d", res.Path, viewerName, i)}
				}
				r := c.do(t, q, vars)
				wantCode := ""
				switch {
				case want >= access.Write:
				case want == access.None:
					wantCode = "NOT_FOUND"
				default:
					wantCode = "FORBIDDEN"
				}
				if r.code() != wantCode {
					t.Errorf("%s writing %s: code %q, want %q (%s)", viewerName, res.Path, r.code(), wantCode, r.raw)
				}
			}
		}
	})
}

func everyByte(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// uploadFile sends a GraphQL multipart request (the upload spec) with one file.
func uploadFile(t *testing.T, c *gqlClient, path string, content []byte) gqlResult {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{
		"query":     `mutation($p: String!, $f: Upload!) { writeFile(path: $p, content: $f) { id size sha256 contentType url } }`,
		"variables": map[string]any{"p": path, "f": nil},
	})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0": ["variables.f"]}`)
	fw, err := mw.CreateFormFile("0", "data.bin")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.ts.URL+"/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	res := gqlResult{Status: resp.StatusCode, Header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &res)
	return res
}

// response is what a test needs of an HTTP answer (the body is already read and closed).
type response struct {
	StatusCode int
	Header     http.Header
}

func get(t *testing.T, c *gqlClient, url string, header map[string]string) (response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.ts.URL+url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header}, b
}

func blobFiles(t *testing.T, store blob.Store) int {
	t.Helper()
	dir, ok := store.(*blob.Dir)
	if !ok {
		t.Fatalf("test blob store is %T", store)
	}
	n := 0
	_ = filepath.WalkDir(dir.Root(), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestFilesOverGraphQL(t *testing.T) {
	content := everyByte(256000)
	for _, mode := range []struct {
		name      string
		threshold int64
		blobs     int
	}{{"inline", 1 << 20, 0}, {"bulk", 64 << 10, 1}} {
		t.Run(mode.name, func(t *testing.T) {
			eachServer(t, func(t *testing.T, ts *testServer) {
				ts.app.cfg.BulkThreshold = mode.threshold
				ts = restart(t, ts)
				c := ts.login(t, "lmember")
				c.do(t, `mutation { createFile(path: "/lab/data/blob.bin") { id } }`, nil).ok(t)
				var rev struct {
					ID, Sha256, ContentType, URL string
					Size                         int
				}
				uploadFile(t, c, "/lab/data/blob.bin", content).ok(t).decode(t, "writeFile", &rev)
				if rev.Size != len(content) || len(rev.Sha256) != 64 {
					t.Fatalf("revision: %+v", rev)
				}
				if got := blobFiles(t, ts.app.blobs); got != mode.blobs {
					t.Fatalf("blob files: %d, want %d", got, mode.blobs)
				}
				resp, body := get(t, c, rev.URL, nil)
				if resp.StatusCode != http.StatusOK || !bytes.Equal(body, content) {
					t.Fatalf("download: %d, %d bytes, equal=%v", resp.StatusCode, len(body), bytes.Equal(body, content))
				}
				etag := resp.Header.Get("ETag")
				resp, body = get(t, c, "/files/lab/data/blob.bin", map[string]string{"Range": "bytes=1000-1999"})
				if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, content[1000:2000]) {
					t.Fatalf("range: %d %d bytes", resp.StatusCode, len(body))
				}
				if resp, _ = get(t, c, "/files/lab/data/blob.bin", map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
					t.Fatalf("If-None-Match: %d", resp.StatusCode)
				}
				// Downloads go through the authorizer.
				if resp, _ = get(t, ts.login(t, "omember"), rev.URL, nil); resp.StatusCode != http.StatusNotFound {
					t.Fatalf("download by a non-member: %d", resp.StatusCode)
				}
				if resp, _ = get(t, ts.client(t), rev.URL, nil); resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("anonymous download: %d", resp.StatusCode)
				}
				// Text keeps its bytes exactly.
				text := "line one\r\nline two\nno newline at end"
				c.do(t, `mutation($b: String!) { writeFile(path: "/lab/data/blob.bin", contentBase64: $b, contentType: "text/plain") { id } }`,
					map[string]any{"b": base64.StdEncoding.EncodeToString([]byte(text))}).ok(t)
				if _, body = get(t, c, "/files/lab/data/blob.bin", nil); string(body) != text {
					t.Fatalf("text changed: %q", body)
				}
				var hist struct {
					Revisions struct {
						Edges []struct{ Node struct{ Size int } }
					}
				}
				c.do(t, `{ resource(path: "/lab/data/blob.bin") { revisions { edges { node { size } } } } }`, nil).ok(t).decode(t, "resource", &hist)
				if len(hist.Revisions.Edges) != 2 || hist.Revisions.Edges[1].Node.Size != len(content) {
					t.Fatalf("revisions: %+v", hist)
				}
				c.do(t, `mutation { deleteResource(path: "/lab/data/blob.bin") }`, nil).ok(t)
				if got := blobFiles(t, ts.app.blobs); got != 0 {
					t.Fatalf("%d blob files left after delete", got)
				}
				if resp, _ = get(t, c, rev.URL, nil); resp.StatusCode != http.StatusNotFound {
					t.Fatalf("download after delete: %d", resp.StatusCode)
				}
			})
		})
	}
}

// restart rebuilds the HTTP server of ts with its (possibly changed) config.
func restart(t *testing.T, ts *testServer) *testServer {
	t.Helper()
	app := NewApp(ts.app.cfg, ts.db, ts.app.blobs, ts.app.log)
	app.mailer = ts.mail
	srv := newHTTPTestServer(t, app)
	return &testServer{URL: srv, app: app, db: ts.db, world: ts.world, mail: ts.mail}
}

func TestSequencesOverGraphQL(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		c := ts.login(t, "lmember")
		c.do(t, `mutation { createSequence(input: {path: "/lab/data/v", dataType: NUMERIC, min: -100, max: 100}) { id } }`, nil).ok(t)
		c.do(t, `mutation { createSequence(input: {path: "/lab/data/note", dataType: TEXT}) { id } }`, nil).ok(t)

		var stored struct{ Number float64 }
		c.do(t, `mutation { updateSequence(path: "/lab/data/v", value: "42.5", timestamp: "2026-01-02T03:04:05.123456Z") { number } }`, nil).ok(t).decode(t, "updateSequence", &stored)
		if stored.Number != 42.5 {
			t.Fatalf("stored: %+v", stored)
		}
		for _, bad := range []string{"101", "abc", ""} {
			if r := c.do(t, `mutation($v: String!) { updateSequence(path: "/lab/data/v", value: $v) { number } }`, map[string]any{"v": bad}); r.code() != "BAD_USER_INPUT" {
				t.Errorf("value %q: %s", bad, r.raw)
			}
		}
		// Dates far from now keep microsecond precision.
		for _, ts := range []string{"1965-07-14T01:02:03.000004Z", "2150-12-31T23:59:59.999999Z"} {
			c.do(t, `mutation($t: Time!) { updateSequence(path: "/lab/data/v", value: "7", timestamp: $t) { number } }`, map[string]any{"t": ts}).ok(t)
		}
		var vals struct {
			Values struct {
				Edges []struct {
					Node struct {
						Timestamp string
						Number    float64
					}
				}
			}
		}
		c.do(t, `{ resource(path: "/lab/data/v") { values(first: 10) { edges { node { timestamp number } } } } }`, nil).ok(t).decode(t, "resource", &vals)
		got := []string{}
		for _, e := range vals.Values.Edges {
			got = append(got, e.Node.Timestamp)
		}
		want := []string{"1965-07-14T01:02:03.000004Z", "2026-01-02T03:04:05.123456Z", "2150-12-31T23:59:59.999999Z"}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("values: %v, want %v", got, want)
		}

		// A batch with one bad item stores nothing and names the bad item.
		batch := `mutation($v: [SequenceValueInput!]!) { updateSequences(values: $v) }`
		items := []map[string]any{
			{"path": "/lab/data/v", "value": "1", "timestamp": "2026-02-01T00:00:00Z"},
			{"path": "/lab/data/v", "value": "1000", "timestamp": "2026-02-01T00:00:01Z"},
			{"path": "/lab/data/note", "value": "hello", "timestamp": "2026-02-01T00:00:02Z"},
			{"path": "/other/data/temperature", "value": "1"},
		}
		r := c.do(t, batch, map[string]any{"v": items})
		if r.code() != "BAD_USER_INPUT" || !strings.Contains(string(r.raw), `"index":3`) {
			t.Fatalf("batch with a hidden path: %s", r.raw)
		}
		r = c.do(t, batch, map[string]any{"v": items[:3]})
		if r.code() != "BAD_USER_INPUT" || !strings.Contains(string(r.raw), `"index":1`) || strings.Contains(string(r.raw), `"index":0`) {
			t.Fatalf("batch with an out-of-range value: %s", r.raw)
		}
		var count struct {
			Values struct{ Edges []struct{} }
		}
		c.do(t, `{ resource(path: "/lab/data/v") { values(first: 100) { edges { cursor } } } }`, nil).ok(t).decode(t, "resource", &count)
		if len(count.Values.Edges) != 3 {
			t.Fatalf("a failed batch stored values: %d", len(count.Values.Edges))
		}
		items[1]["value"] = "99"
		var n int
		c.do(t, batch, map[string]any{"v": items[:3]}).ok(t).decode(t, "updateSequences", &n)
		if n != 3 {
			t.Fatalf("batch stored %d", n)
		}
		var last struct {
			LastValue struct{ Text string }
		}
		c.do(t, `{ resource(path: "/lab/data/note") { lastValue { text } } }`, nil).ok(t).decode(t, "resource", &last)
		if last.LastValue.Text != "hello" {
			t.Fatalf("text lastValue: %+v", last)
		}
		var ser struct {
			Series []struct {
				Count    int
				Min, Max float64
			}
		}
		c.do(t, `{ resource(path: "/lab/data/v") { series(from: "2026-01-01T00:00:00Z", to: "2026-03-01T00:00:00Z", maxPoints: 1) { count min max } } }`, nil).ok(t).decode(t, "resource", &ser)
		if len(ser.Series) != 1 || ser.Series[0].Count != 3 || ser.Series[0].Min != 1 || ser.Series[0].Max != 99 {
			t.Fatalf("series: %+v", ser)
		}
		var deleted int
		c.do(t, `mutation { deleteSequenceData(path: "/lab/data/v", from: "2026-01-01T00:00:00Z", to: "2026-03-01T00:00:00Z") }`, nil).ok(t).decode(t, "deleteSequenceData", &deleted)
		if deleted != 3 {
			t.Fatalf("deleted %d", deleted)
		}
		// A controller key writes its own sequences only.
		ck := ts.bearer(t, ts.world.Keys["ctrlkey"])
		ck.do(t, `mutation { updateSequence(path: "/lab/ctrl/status/processor_usage", value: "12.5") { number } }`, nil).ok(t)
		if r := ck.do(t, `mutation { updateSequence(path: "/lab/data/v", value: "1") { number } }`, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("controller key writing outside its folder: %s", r.raw)
		}
	})
}

func TestImageSequenceThumbnails(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	c := ts.login(t, "lmember")
	c.do(t, `mutation { createSequence(input: {path: "/lab/data/cam", dataType: IMAGE}) { id } }`, nil).ok(t)
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	c.do(t, `mutation($v: String!) { updateSequence(path: "/lab/data/cam", value: $v) { timestamp } }`,
		map[string]any{"v": base64.StdEncoding.EncodeToString(buf.Bytes())}).ok(t)
	if r := c.do(t, `mutation { updateSequence(path: "/lab/data/cam", value: "bm90IGFuIGltYWdl") { timestamp } }`, nil); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("non-image bytes: %s", r.raw)
	}
	var got struct {
		LastValue struct {
			ContentType, ImageBase64, ThumbnailBase64 string
		}
	}
	c.do(t, `{ resource(path: "/lab/data/cam") { lastValue { contentType imageBase64 thumbnailBase64(size: 64) } } }`, nil).ok(t).decode(t, "resource", &got)
	raw, _ := base64.StdEncoding.DecodeString(got.LastValue.ImageBase64)
	if got.LastValue.ContentType != "image/png" || !bytes.Equal(raw, buf.Bytes()) {
		t.Fatalf("stored image differs: %s", got.LastValue.ContentType)
	}
	thumb, _ := base64.StdEncoding.DecodeString(got.LastValue.ThumbnailBase64)
	cfg, _, err := image.DecodeConfig(bytes.NewReader(thumb))
	if err != nil || cfg.Width != 64 || cfg.Height != 48 {
		t.Fatalf("thumbnail %dx%d %v", cfg.Width, cfg.Height, err)
	}
}
