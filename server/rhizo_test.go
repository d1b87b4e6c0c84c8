package server

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/notify/notifytest"
)

// rhizoClient speaks the original hub's REST API as rhizo-client's send_request does:
// every parameter in an application/x-www-form-urlencoded body (GET included), HTTP Basic
// with the client version as user name and the key as password.
type rhizoClient struct {
	ts      *testServer
	version string
	key     string
	browser *gqlClient // a signed-in session instead of a key
}

type rhizoAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

func (a rhizoAnswer) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.Body, &m); err != nil {
		t.Fatalf("not a JSON object (%d): %s", a.Status, a.Body)
	}
	return m
}

func (a rhizoAnswer) list(t testing.TB) []map[string]any {
	t.Helper()
	var l []map[string]any
	if err := json.Unmarshal(a.Body, &l); err != nil {
		t.Fatalf("not a JSON list (%d): %s", a.Status, a.Body)
	}
	return l
}

func (a rhizoAnswer) expect(t testing.TB, status int) rhizoAnswer {
	t.Helper()
	if a.Status != status {
		t.Fatalf("status %d, want %d: %s", a.Status, status, a.Body)
	}
	return a
}

// message is the {"message": ...} of an error answer.
func (a rhizoAnswer) message(t testing.TB) string {
	t.Helper()
	m, _ := a.json(t)["message"].(string)
	if m == "" {
		t.Fatalf("no message in %s", a.Body)
	}
	return m
}

func (ts *testServer) rhizo(key string) *rhizoClient {
	return &rhizoClient{ts: ts, version: "0.0.6.unknown", key: key}
}

func (ts *testServer) rhizoSession(t testing.TB, name string) *rhizoClient {
	return &rhizoClient{ts: ts, browser: ts.login(t, name)}
}

// send sends params as a form body, as the Python client does for every method.
func (c *rhizoClient) send(t testing.TB, method, path string, params url.Values) rhizoAnswer {
	t.Helper()
	return c.raw(t, method, path, "application/x-www-form-urlencoded", strings.NewReader(params.Encode()))
}

func (c *rhizoClient) raw(t testing.TB, method, path, ctype string, body io.Reader) rhizoAnswer {
	t.Helper()
	req, err := http.NewRequest(method, c.ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "text/plain")
	hc := http.DefaultClient
	if c.browser != nil {
		hc = c.browser.http
	} else if c.key != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.version+":"+c.key)))
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return rhizoAnswer{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// rhizoKey makes an original-format controller key for /lab/ctrl through POST /api/v1/keys
// as a signed-in member, as the original's web page did.
func rhizoKey(t *testing.T, ts *testServer) (string, int) {
	t.Helper()
	member := ts.rhizoSession(t, "lmember")
	meta := member.send(t, "GET", "/api/v1/resources/lab/ctrl", form("meta", "1")).expect(t, 200).json(t)
	id := int(meta["id"].(float64))
	ans := member.send(t, "POST", "/api/v1/keys", form("access_as_controller_id", strconv.Itoa(id), "csrf_token", "ignored")).expect(t, 200).json(t)
	secret, _ := ans["secret_key"].(string)
	if ans["status"] != "ok" || !strings.HasPrefix(secret, "RHIZO") || len(secret) != 55 {
		t.Fatalf("key answer %v", ans)
	}
	for _, c := range secret[5:] {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			t.Fatalf("key %q has characters outside A-Z0-9", secret)
		}
	}
	return secret, id
}

// The calls of rhizo-client (rhizo/resources.py, sequences.py, controller.py), replayed
// with their exact parameters.
func TestRhizoClientCalls(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		key, ctrlID := rhizoKey(t, ts)
		c := ts.rhizo(key)

		// controller.path_on_server: file_info('/self') = GET meta=1&include_path=1.
		self := c.send(t, "GET", "/api/v1/resources/self", form("meta", "1", "include_path", "1")).expect(t, 200).json(t)
		if self["path"] != "/lab/ctrl" || int(self["id"].(float64)) != ctrlID || self["type"].(float64) != 12 {
			t.Fatalf("/self: %v", self)
		}
		if a := ts.rhizo(ts.world.Keys["userkey"]).send(t, "GET", "/api/v1/resources/self", form("meta", "1")); a.Status != 403 {
			t.Fatalf("/self with a user key: %d %s", a.Status, a.Body)
		}

		// sequences.create: exists check, then POST with system_attributes JSON.
		c.send(t, "GET", "/api/v1/resources/lab/ctrl/temp", form("meta", "1")).expect(t, 404)
		created := c.send(t, "POST", "/api/v1/resources", form("path", "/lab/ctrl", "name", "temp", "type", "21",
			"system_attributes", `{"data_type": 1, "min_storage_interval": 0, "decimal_places": 2, "units": "degrees C"}`)).expect(t, 200).json(t)
		if created["status"] != "ok" || created["id"] == nil {
			t.Fatalf("create sequence: %v", created)
		}
		dup := c.send(t, "POST", "/api/v1/resources", form("path", "/lab/ctrl", "name", "temp", "type", "21",
			"system_attributes", `{"data_type": 1}`)).expect(t, 200).json(t)
		if dup["status"] != "error" || dup["message"] != "Resource already exists." {
			t.Fatalf("duplicate create: %v", dup)
		}
		if m := c.send(t, "POST", "/api/v1/resources", form("path", "/lab/ctrl", "name", "nodt", "type", "21")).expect(t, 400).message(t); m == "" {
			t.Fatal("no message")
		}
		c.send(t, "POST", "/api/v1/resources", form("path", "lab/ctrl", "name", "x", "type", "10")).expect(t, 400)
		c.send(t, "POST", "/api/v1/resources", form("path", "/lab/ctrl", "name", "x")).expect(t, 400)

		// sequences.update with use_websocket=False: write_file = GET (with the data in the
		// body) then PUT, then read back.
		c.send(t, "GET", "/api/v1/resources/lab/ctrl/temp", form("data", b64("21.5"))).expect(t, 200)
		c.send(t, "PUT", "/api/v1/resources/lab/ctrl/temp", form("data", b64("21.5"))).expect(t, 200)
		got := c.send(t, "GET", "/api/v1/resources/lab/ctrl/temp", nil).expect(t, 200)
		if string(got.Body) != "21.5" || !strings.HasPrefix(got.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("current value %q %s", got.Body, got.Header.Get("Content-Type"))
		}

		// sequences.update_multiple(use_message=False): PUT /api/v1/resources.
		now := time.Now().UTC()
		c.send(t, "PUT", "/api/v1/resources", form("values", `{"/lab/ctrl/temp": "22", "/lab/ctrl/status/processor_usage": "7", "/other/data/temperature": "99", "/lab/nothing/x": "1"}`,
			"timestamp", now.Format("2006-01-02T15:04:05.000000")+" Z")).expect(t, 200)
		hist := c.send(t, "GET", "/api/v1/resources/lab/ctrl/temp", form("count", "10")).expect(t, 200).json(t)
		if vs := hist["values"].([]any); len(vs) != 2 || vs[0] != "21.5" || vs[1] != "22" || hist["units"] != "degrees C" || hist["path"] != "/lab/ctrl/temp" {
			t.Fatalf("history: %v", hist)
		}
		if ts0 := hist["timestamps"].([]any)[1].(float64); ts0 != float64(now.UnixMicro())/1e6 {
			t.Fatalf("stored at %v, want %v", ts0, float64(now.UnixMicro())/1e6)
		}
		if v := c.send(t, "GET", "/api/v1/resources/lab/ctrl/status/processor_usage", nil).expect(t, 200); string(v.Body) != "7" {
			t.Fatalf("processor_usage %q", v.Body)
		}
		// Another organization's sequence was skipped silently.
		if v := ts.rhizo(ts.world.Keys["userkey"]).send(t, "GET", "/api/v1/resources/other/data/temperature", nil); v.Status != 404 {
			t.Fatalf("cross-org read: %d %s", v.Status, v.Body)
		}

		// Clock drift: an hour slow controller's values land near the server's time, and
		// the correction is kept in its status.
		slow := now.Add(-time.Hour)
		c.send(t, "PUT", "/api/v1/resources", form("values", `{"/lab/ctrl/temp": "23"}`, "timestamp", slow.Format("2006-01-02T15:04:05")+" Z")).expect(t, 200)
		hist = c.send(t, "GET", "/api/v1/resources/lab/ctrl/temp", form("count", "1", "start_timestamp", now.Add(-time.Minute).Format(time.RFC3339Nano))).expect(t, 200).json(t)
		if vs := hist["values"].([]any); len(vs) != 1 || vs[0] != "23" {
			t.Fatalf("drift-corrected value not near now: %v", hist)
		}
		lab := c.send(t, "GET", "/api/v1/resources/lab", form("extended", "0", "type", "controller_folder")).expect(t, 200).list(t)
		if len(lab) != 1 || lab[0]["status"].(map[string]any)["timestamp_correction"] == nil || lab[0]["client_version"] == nil {
			t.Fatalf("controller status: %v", lab)
		}
		c.send(t, "PUT", "/api/v1/resources", form("values", `{}`, "timestamp", "2026-01-01T00:00:00")).expect(t, 400)
		c.send(t, "PUT", "/api/v1/resources", form("timestamp", "2026-01-01T00:00:00Z")).expect(t, 400)

		// History filters, CSV, bad times.
		csv := c.send(t, "GET", "/api/v1/resources/lab/ctrl/temp", form("count", "100", "download", "1")).expect(t, 200)
		if lines := strings.Split(strings.TrimSpace(string(csv.Body)), "\n"); len(lines) != 4 || lines[0] != "utc_timestamp,value" ||
			!strings.HasSuffix(lines[1], ",21.5") || !strings.Contains(csv.Header.Get("Content-Disposition"), "temp.csv") {
			t.Fatalf("csv: %q %v", csv.Body, csv.Header)
		}
		if m := c.send(t, "GET", "/api/v1/resources/lab/ctrl/temp", form("start_timestamp", "yesterday")).expect(t, 400).message(t); m != "Invalid date/time." {
			t.Fatalf("bad time message %q", m)
		}
		c.send(t, "GET", "/api/v1/resources/lab/ctrl/temp", form("count", "many")).expect(t, 400)

		// Folder listing: extended=0 counts as extended (any non-empty flag), type and
		// filter with a wildcard, recursive.
		ls := c.send(t, "GET", "/api/v1/resources/lab/ctrl", form("extended", "0")).expect(t, 200).list(t)
		names := []string{}
		for _, r := range ls {
			names = append(names, r["name"].(string))
			if _, ok := r["system_attributes"]; !ok {
				t.Fatalf("extended=0 is not extended: %v", r)
			}
		}
		if strings.Join(names, ",") != "log,status,temp" {
			t.Fatalf("listing %v", names)
		}
		seqs := c.send(t, "GET", "/api/v1/resources/lab/ctrl", form("type", "sequence", "filter", "t*")).expect(t, 200).list(t)
		if len(seqs) != 1 || seqs[0]["name"] != "temp" || seqs[0]["type"].(float64) != 21 || seqs[0]["system_attributes"] != nil {
			t.Fatalf("filtered %v", seqs)
		}
		rec := c.send(t, "GET", "/api/v1/resources/lab/ctrl", form("recursive", "1", "type", "sequence")).expect(t, 200).list(t)
		found := false
		for _, r := range rec {
			found = found || (r["path"] == "status/processor_usage" && r["fullPath"] == "/lab/ctrl/status/processor_usage")
		}
		if !found {
			t.Fatalf("recursive %v", rec)
		}
		c.send(t, "GET", "/api/v1/resources/lab/ctrl", form("type", "gizmo")).expect(t, 400)

		// Files: write (new_version) = GET -> 404 -> POST create; then GET bytes, PUT a new
		// version, rev=, the legacy POST, meta with lastRevisionId.
		c.send(t, "GET", "/api/v1/resources/lab/ctrl/notes.txt", form("data", b64("one"))).expect(t, 404)
		c.send(t, "POST", "/api/v1/resources", form("data", b64("one"), "path", "/lab/ctrl", "name", "notes.txt", "type", "20")).expect(t, 200)
		first := c.send(t, "GET", "/api/v1/resources/lab/ctrl/notes.txt", form("meta", "1")).expect(t, 200).json(t)
		c.send(t, "PUT", "/api/v1/resources/lab/ctrl/notes.txt", form("data", b64("two"))).expect(t, 200)
		if b := c.send(t, "GET", "/api/v1/resources/lab/ctrl/notes.txt", nil).expect(t, 200); string(b.Body) != "two" {
			t.Fatalf("file %q", b.Body)
		}
		rev := strconv.Itoa(int(first["lastRevisionId"].(float64)))
		if b := c.send(t, "GET", "/api/v1/resources/lab/ctrl/notes.txt", form("rev", rev)).expect(t, 200); string(b.Body) != "one" {
			t.Fatalf("rev %s: %q", rev, b.Body)
		}
		c.send(t, "POST", "/api/v1/resources/lab/ctrl/logs/today.txt", form("data", b64("legacy"))).expect(t, 200)
		if b := c.send(t, "GET", "/api/v1/resources/lab/ctrl/logs/today.txt", form("download", "1")).expect(t, 200); string(b.Body) != "legacy" ||
			!strings.Contains(b.Header.Get("Content-Disposition"), "today.txt") {
			t.Fatalf("legacy write %q %v", b.Body, b.Header)
		}

		// Move and rename.
		c.send(t, "PUT", "/api/v1/resources/lab/ctrl/notes.txt", form("parent", "/lab/ctrl/logs")).expect(t, 200)
		c.send(t, "PUT", "/api/v1/resources/lab/ctrl/logs/notes.txt", form("name", "n.txt")).expect(t, 200)
		c.send(t, "GET", "/api/v1/resources/lab/ctrl/logs/n.txt", form("meta", "1")).expect(t, 200)
		c.send(t, "PUT", "/api/v1/resources/lab/ctrl/logs/n.txt", form("parent", "/lab/nowhere")).expect(t, 400)

		// Sequence settings and controller status.
		// Form fields alone work (the original required system_attributes, which broke its
		// own web dialogs).
		c.send(t, "PUT", "/api/v1/resources/lab/ctrl/temp", form("units", "K")).expect(t, 200)
		c.send(t, "PUT", "/api/v1/resources/lab/ctrl/temp", form("system_attributes", `{"decimal_places": 3}`)).expect(t, 200)
		c.send(t, "PUT", "/api/v1/resources/lab/ctrl/temp", form("max_history", "-1")).expect(t, 400)
		meta := c.send(t, "GET", "/api/v1/resources/lab/ctrl/temp", form("meta", "1")).expect(t, 200).json(t)
		if sa := meta["system_attributes"].(map[string]any); sa["units"] != "K" || sa["decimal_places"].(float64) != 3 || sa["data_type"].(float64) != 1 {
			t.Fatalf("settings %v", sa)
		}
		c.send(t, "PUT", "/api/v1/resources/self", form("status", `{"ip": "10.0.0.2"}`)).expect(t, 200)

		// DELETE data_only keeps the sequence with no value; DELETE removes it.
		c.send(t, "DELETE", "/api/v1/resources/lab/ctrl/temp", form("data_only", "1")).expect(t, 200)
		if b := c.send(t, "GET", "/api/v1/resources/lab/ctrl/temp", nil).expect(t, 200); len(b.Body) != 0 {
			t.Fatalf("after data_only: %q", b.Body)
		}
		c.send(t, "DELETE", "/api/v1/resources/lab/ctrl/temp", nil).expect(t, 200)
		c.send(t, "GET", "/api/v1/resources/lab/ctrl/temp", nil).expect(t, 404)

		// messages: resources.send_message.
		if a := c.send(t, "POST", "/api/v1/messages", form("folder_path", "/lab/ctrl", "type", "hello", "parameters", `{"a": 1}`)).expect(t, 200).json(t); a["status"] != "ok" {
			t.Fatalf("message %v", a)
		}
		c.send(t, "POST", "/api/v1/messages", form("folder_path", "lab/ctrl", "type", "hello")).expect(t, 400)
		c.send(t, "POST", "/api/v1/messages", form("folder_path", "/lab/none", "type", "hello")).expect(t, 404)
		ts.rhizoSession(t, "lmember").send(t, "POST", "/api/v1/messages", form("folder_path", "/lab/ctrl", "type", "hello")).expect(t, 403)
	})
}

// Multipart upload, zip download, keys, users, organizations and stats.
func TestRhizoAdminAndFiles(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		member := ts.rhizoSession(t, "lmember")
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("path", "/lab/data")
		_ = mw.WriteField("type", "20")
		fw, _ := mw.CreateFormFile("file", "upload.csv")
		_, _ = fw.Write([]byte("a,b\n1,2\n"))
		_ = mw.Close()
		member.raw(t, "POST", "/api/v1/resources", mw.FormDataContentType(), &body).expect(t, 200)
		if b := member.send(t, "GET", "/api/v1/resources/lab/data/upload.csv", nil).expect(t, 200); string(b.Body) != "a,b\n1,2\n" {
			t.Fatalf("upload %q", b.Body)
		}
		ls := member.send(t, "GET", "/api/v1/resources/lab/data", nil).expect(t, 200).list(t)
		var ids []string
		for _, r := range ls {
			if r["name"] == "upload.csv" {
				ids = append(ids, strconv.Itoa(int(r["id"].(float64))))
			}
		}
		z := member.send(t, "GET", "/api/v1/resources/lab/data", form("ids", strings.Join(ids, ","), "download", "1")).expect(t, 200)
		zr, err := zip.NewReader(bytes.NewReader(z.Body), int64(len(z.Body)))
		if err != nil || len(zr.File) != 1 || zr.File[0].Name != "upload.csv" || !strings.Contains(z.Header.Get("Content-Disposition"), "data_files.zip") {
			t.Fatalf("zip: %v %v", err, z.Header)
		}
		other := ts.rhizoSession(t, "omember")
		otherLS := other.send(t, "GET", "/api/v1/resources/other/data", nil).expect(t, 200).list(t)
		member.send(t, "GET", "/api/v1/resources/lab/data", form("ids", strconv.Itoa(int(otherLS[0]["id"].(float64))), "download", "1")).expect(t, 404)

		// Keys: a controller key cannot make keys; list and revoke as a member.
		key, ctrlID := rhizoKey(t, ts)
		ts.rhizo(key).send(t, "POST", "/api/v1/keys", form("access_as_controller_id", strconv.Itoa(ctrlID))).expect(t, 403)
		keys := member.send(t, "GET", "/api/v1/keys", form("access_as_controller_id", strconv.Itoa(ctrlID))).expect(t, 200).json(t)
		var rhizoID string
		for id, k := range keys {
			if strings.HasPrefix(k.(map[string]any)["key_part"].(string), "RHIZO") {
				rhizoID = id
			}
		}
		if rhizoID == "" {
			t.Fatalf("keys %v", keys)
		}
		other.send(t, "GET", "/api/v1/keys", form("access_as_controller_id", strconv.Itoa(ctrlID))).expect(t, 404)
		other.send(t, "DELETE", "/api/v1/keys/"+rhizoID, nil).expect(t, 404)
		member.send(t, "GET", "/api/v1/keys", nil).expect(t, 403)
		member.send(t, "DELETE", "/api/v1/keys/"+rhizoID, nil).expect(t, 200)
		if a := ts.rhizo(key).send(t, "GET", "/api/v1/resources/self", form("meta", "1")); a.Status != 401 {
			t.Fatalf("revoked key: %d %s", a.Status, a.Body)
		}

		// Users, organizations, stats: system admins (signed in) only.
		sys := ts.rhizoSession(t, "sys")
		users := sys.send(t, "GET", "/api/v1/users", nil).expect(t, 200).json(t)
		if len(users) != 4 {
			t.Fatalf("users %v", users)
		}
		member.send(t, "GET", "/api/v1/users", nil).expect(t, 403)
		ts.rhizo("").send(t, "GET", "/api/v1/users", nil).expect(t, 401)
		ts.rhizo(ts.world.Keys["userkey"]).send(t, "GET", "/api/v1/system/stats", nil).expect(t, 403)
		st := sys.send(t, "GET", "/api/v1/system/stats", nil).expect(t, 200).json(t)
		if st["user_count"].(float64) != 4 || st["resource_count"].(float64) < 10 {
			t.Fatalf("stats %v", st)
		}
		if e := ts.rhizo("").send(t, "GET", "/api/v1/users/lmember@example.com", form("check_exists", "1")).expect(t, 200).json(t); e["exists"].(float64) != 1 {
			t.Fatalf("exists %v", e)
		}
		orgs := member.send(t, "GET", "/api/v1/organizations", nil).expect(t, 200).json(t)
		if len(orgs) != 1 {
			t.Fatalf("member's orgs %v", orgs)
		}
		var labID string
		for id := range orgs {
			labID = id
		}
		if len(sys.send(t, "GET", "/api/v1/organizations", nil).expect(t, 200).json(t)) != 2 {
			t.Fatal("sysadmin sees every organization")
		}
		created := sys.send(t, "POST", "/api/v1/organizations", form("folder_name", "neworg", "full_name", "New Org")).expect(t, 200).json(t)
		if created["status"] != "ok" || created["organization_id"] == nil {
			t.Fatalf("create org %v", created)
		}
		member.send(t, "POST", "/api/v1/organizations", form("folder_name", "mine")).expect(t, 403)
		ousers := sys.send(t, "GET", "/api/v1/organizations/"+labID+"/users", nil).expect(t, 200).json(t)
		if len(ousers) != 2 {
			t.Fatalf("org users %v", ousers)
		}
		admin := ts.rhizoSession(t, "ladmin")
		omemberID := strconv.Itoa(ts.world.Users["omember"].ID)
		member.send(t, "POST", "/api/v1/organizations/"+labID+"/users", form("user_id", omemberID, "is_admin", "0")).expect(t, 403)
		other.send(t, "POST", "/api/v1/organizations/"+labID+"/users", form("user_id", omemberID, "is_admin", "0")).expect(t, 404)
		admin.send(t, "POST", "/api/v1/organizations/"+labID+"/users", form("user_id", omemberID, "is_admin", "0")).expect(t, 200)
		if m := admin.send(t, "GET", "/api/v1/organizations/"+labID+"/users/"+omemberID, nil).expect(t, 200).json(t); m["is_admin"] != false {
			t.Fatalf("org user %v", m)
		}
		admin.send(t, "DELETE", "/api/v1/organizations/"+labID+"/users/"+omemberID, nil).expect(t, 200)
		admin.send(t, "GET", "/api/v1/organizations/"+labID+"/users/"+omemberID, nil).expect(t, 404)
	})
}

// Hidden resources answer exactly as missing ones, across organizations and for every
// method; read-only access refuses writes with 403.
func TestRhizoCrossOrganization(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		c := ts.rhizo(ts.world.Keys["userkey"]) // a member of lab
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			hidden := c.send(t, m, "/api/v1/resources/other/data/temperature", form("data", b64("1")))
			missing := c.send(t, m, "/api/v1/resources/other/data/nothing", form("data", b64("1")))
			if hidden.Status != 404 || missing.Status != 404 || strings.ReplaceAll(string(hidden.Body), "temperature", "nothing") != string(missing.Body) {
				t.Fatalf("%s hidden %d %s / missing %d", m, hidden.Status, hidden.Body, missing.Status)
			}
		}
		c.send(t, "POST", "/api/v1/resources", form("path", "/other/data", "name", "x", "type", "10")).expect(t, 404)
		c.send(t, "POST", "/api/v1/resources/other/data/legacy.txt", form("data", b64("x"))).expect(t, 404)
		c.send(t, "POST", "/api/v1/messages", form("folder_path", "/other/data", "type", "x")).expect(t, 404)
		c.send(t, "GET", "/api/v1/resources/other", nil).expect(t, 404)
		// Public is readable, not writable.
		c.send(t, "GET", "/api/v1/resources/other/pub", nil).expect(t, 200)
		c.send(t, "PUT", "/api/v1/resources/other/pub/pressure", form("data", b64("1"))).expect(t, 403)
		// A controller key reads its organization but writes only its controller.
		ctrl := ts.rhizo(ts.world.Keys["ctrlkey"])
		ctrl.send(t, "GET", "/api/v1/resources/lab/data/temperature", nil).expect(t, 200)
		ctrl.send(t, "PUT", "/api/v1/resources/lab/data/temperature", form("data", b64("1"))).expect(t, 403)
		// Anonymous sees only public things; ids counted up find nothing.
		anon := ts.rhizo("")
		anon.send(t, "GET", "/api/v1/resources/lab/data", nil).expect(t, 404)
		// Resource ids counted up through the key listing reveal nothing to a controller.
		other := ts.rhizo(ts.world.Keys["ctrlkey"])
		for id := 1; id < 30; id++ {
			if a := other.send(t, "GET", "/api/v1/keys", form("access_as_controller_id", strconv.Itoa(id))); a.Status == 200 {
				t.Fatalf("controller key listed keys of %d: %s", id, a.Body)
			}
		}
		// An unknown route and a bad key.
		c.send(t, "GET", "/api/v1/nothing", nil).expect(t, 404)
		ts.rhizo("RHIZO"+strings.Repeat("A", 50)).send(t, "GET", "/api/v1/resources/lab", nil).expect(t, 401)
	})
}

// rhizoWS is a client of the original websocket protocol.
type rhizoWS struct {
	t    testing.TB
	conn *websocket.Conn
	in   chan map[string]any
}

func (c *rhizoClient) websocket(t testing.TB) *rhizoWS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	header := http.Header{}
	opts := &websocket.DialOptions{HTTPHeader: header, Subprotocols: []string{"http-only"}}
	if c.browser != nil {
		opts.HTTPClient = c.browser.http
	} else if c.key != "" {
		header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.version+":"+c.key)))
	}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.ts.URL, "http")+"/api/v1/websocket", opts)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	w := &rhizoWS{t: t, conn: conn, in: make(chan map[string]any, 100)}
	t.Cleanup(func() { _ = conn.CloseNow() })
	go func() {
		defer close(w.in)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal(b, &m) == nil {
				w.in <- m
			}
		}
	}()
	return w
}

// send writes a frame as rhizo-client does: compact JSON and a newline.
func (w *rhizoWS) send(typ string, params map[string]any, folder string) {
	w.t.Helper()
	f := map[string]any{"type": typ, "parameters": params}
	if folder != "" {
		f["folder"] = folder
	}
	b, _ := json.Marshal(f)
	if err := w.conn.Write(context.Background(), websocket.MessageText, append(b, '\n')); err != nil {
		w.t.Fatal(err)
	}
}

// next is the next frame (of a type other than skip).
func (w *rhizoWS) next(skip ...string) map[string]any {
	w.t.Helper()
	for {
		select {
		case m, ok := <-w.in:
			if !ok {
				w.t.Fatal("websocket closed")
			}
			if slices.Contains(skip, m["type"].(string)) {
				continue
			}
			return m
		case <-time.After(10 * time.Second):
			w.t.Fatal("no frame within 10 s")
		}
	}
}

// settle lets subscriptions start (the protocol acknowledges nothing): a ping round trip
// through an error answer proves the server has handled every earlier frame.
func (w *rhizoWS) settle() {
	w.t.Helper()
	w.send("write_resource", map[string]any{}, "")
	if f := w.next("sequence_update"); f["type"] != "error" {
		w.t.Fatalf("settle: %v", f)
	}
}

func params(f map[string]any) map[string]any { p, _ := f["parameters"].(map[string]any); return p }

func TestRhizoWebsocket(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		key, _ := rhizoKey(t, ts)
		ctrl := ts.rhizo(key).websocket(t)
		ctrl.send("subscribe", map[string]any{"subscriptions": []any{map[string]any{"folder": "self", "include_children": false}}}, "")
		ctrl.settle()
		browser := ts.rhizoSession(t, "lmember").websocket(t)
		browser.send("subscribe", map[string]any{"subscriptions": []any{map[string]any{"folder": "/lab/ctrl"}}}, "")
		browser.settle()

		// Online, with the Basic user name as client version.
		ls := ts.rhizo(key).send(t, "GET", "/api/v1/resources/lab", form("extended", "1", "type", "controller_folder")).expect(t, 200).list(t)
		if ls[0]["web_socket_connected"] != true || ls[0]["client_version"] != "0.0.6.unknown" {
			t.Fatalf("controller status %v", ls[0])
		}

		// A GraphQL message reaches the controller in the original's frame shape.
		ts.login(t, "lmember").do(t, `mutation { sendMessage(path: "/lab/ctrl", type: "set_config", parameters: {a: 1}) { id } }`, nil).ok(t)
		f := ctrl.next()
		if f["type"] != "set_config" || params(f)["a"].(float64) != 1 || !strings.HasSuffix(f["timestamp"].(string), "Z") {
			t.Fatalf("controller got %v", f)
		}
		if f := browser.next(); f["type"] != "set_config" {
			t.Fatalf("browser got %v", f)
		}

		// A controller's message goes to its folder: the browser gets it, the controller
		// does not get its own message back.
		ctrl.send("status_report", map[string]any{"ok": true}, "")
		if f := browser.next(); f["type"] != "status_report" || params(f)["ok"] != true {
			t.Fatalf("browser got %v", f)
		}
		// update_sequence relative to the controller folder: sequence_update to everyone
		// subscribed to the folder.
		ctrl.send("update_sequence", map[string]any{"sequence": "log", "value": "hello"}, "")
		for _, w := range []*rhizoWS{browser, ctrl} {
			f := w.next()
			if p := params(f); f["type"] != "sequence_update" || p["name"] != "/lab/ctrl/log" || p["value"] != "hello" || p["id"] == nil {
				t.Fatalf("sequence_update %v", f)
			}
		}
		if b := ts.rhizo(key).send(t, "GET", "/api/v1/resources/lab/ctrl/log", nil).expect(t, 200); string(b.Body) != "hello" {
			t.Fatalf("log %q", b.Body)
		}
		// ... with a permission check: a read-only sequence is refused.
		ctrl.send("update_sequence", map[string]any{"sequence": "/lab/data/temperature", "value": 3}, "")
		if f := ctrl.next(); f["type"] != "error" {
			t.Fatalf("update_sequence outside: %v", f)
		}
		// A REST value reaches subscribers too (any write path).
		ts.rhizo(key).send(t, "PUT", "/api/v1/resources/lab/ctrl/log", form("data", b64("rest"))).expect(t, 200)
		if f := browser.next(); params(f)["value"] != "rest" {
			t.Fatalf("REST value: %v", f)
		}
		// write_resource from a browser.
		browser.send("write_resource", map[string]any{"path": "lab/ctrl/log", "data": "typed"}, "")
		if f := browser.next(); params(f)["value"] != "typed" {
			t.Fatalf("write_resource: %v", f)
		}
		// Messages from people come back to their socket (the original's echo rule).
		browser.send("hello", map[string]any{}, "/lab/ctrl")
		if f := browser.next("sequence_update"); f["type"] != "hello" {
			t.Fatalf("echo %v", f)
		}
		if f := ctrl.next("sequence_update"); f["type"] != "hello" {
			t.Fatalf("controller got %v", f)
		}
		// Controllers only: e-mail.
		browser.send("send_email", map[string]any{"email_addresses": "a@example.com", "subject": "s", "body": "b"}, "/lab/ctrl")
		if f := browser.next(); f["type"] != "error" {
			t.Fatalf("send_email by a person: %v", f)
		}

		// Another organization cannot subscribe, and hidden reads as missing.
		other := ts.rhizoSession(t, "omember").websocket(t)
		other.send("subscribe", map[string]any{"subscriptions": []any{map[string]any{"folder": "/lab/ctrl"}}}, "")
		hidden := other.next()
		other.send("subscribe", map[string]any{"subscriptions": []any{map[string]any{"folder": "/lab/none"}}}, "")
		missing := other.next()
		if hidden["type"] != "error" || strings.Replace(params(hidden)["message"].(string), "ctrl", "none", 1) != params(missing)["message"] {
			t.Fatalf("hidden %v / missing %v", hidden, missing)
		}
		other.send("hello", map[string]any{}, "/lab/ctrl")
		if f := other.next(); f["type"] != "error" {
			t.Fatalf("cross-org message: %v", f)
		}

		// Invalid JSON closes the socket.
		_ = other.conn.Write(context.Background(), websocket.MessageText, []byte("not json"))
		for range other.in { //nolint:revive // drain until closed
		}
	})
}

// controller.request_key: POST /api/v1/pins, a person enters the PIN, the controller polls
// and receives its key once.
func TestRhizoPins(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		nokey := ts.rhizo("x") // the client's placeholder before it has a key
		got := nokey.send(t, "POST", "/api/v1/pins", nil).expect(t, 200).json(t)
		pin := strconv.Itoa(int(got["pin"].(float64)))
		code, _ := got["pin_code"].(string)
		if got["status"] != "ok" || len(code) != 60 || len(pin) != 4 {
			t.Fatalf("pin %v", got)
		}
		poll := func() map[string]any {
			return nokey.send(t, "GET", "/api/v1/pins/"+pin, form("pin_code", code)).expect(t, 200).json(t)
		}
		if p := poll(); p["status"] != "ok" || p["secret_key"] != nil {
			t.Fatalf("before entry %v", p)
		}
		nokey.send(t, "GET", "/api/v1/pins/"+pin, form("pin_code", "wrong")).expect(t, 404)
		// Entering needs a signed-in person who may write the controller.
		nokey.send(t, "PUT", "/api/v1/pins/"+pin, form("controller", "/lab/ctrl")).expect(t, 403)
		ts.rhizo(ts.world.Keys["userkey"]).send(t, "PUT", "/api/v1/pins/"+pin, form("controller", "/lab/ctrl")).expect(t, 403)
		ts.rhizoSession(t, "omember").send(t, "PUT", "/api/v1/pins/"+pin, form("controller", "/lab/ctrl")).expect(t, 400)
		member := ts.rhizoSession(t, "lmember")
		member.send(t, "PUT", "/api/v1/pins/"+pin, form("controller", "/lab/data")).expect(t, 400)
		member.send(t, "PUT", "/api/v1/pins/"+pin, nil).expect(t, 400)
		member.send(t, "PUT", "/api/v1/pins/1", form("controller", "/lab/ctrl")).expect(t, 404)
		member.send(t, "PUT", "/api/v1/pins/"+pin, form("controller", "/lab/ctrl")).expect(t, 200)
		p := poll()
		secret, _ := p["secret_key"].(string)
		if p["status"] != "ok" || p["controller_path"] != "/lab/ctrl" || !strings.HasPrefix(secret, "RHIZO") {
			t.Fatalf("after entry %v", p)
		}
		if p := poll(); p["secret_key"] != nil {
			t.Fatalf("key given twice: %v", p)
		}
		self := ts.rhizo(secret).send(t, "GET", "/api/v1/resources/self", form("meta", "1")).expect(t, 200).json(t)
		if self["path"] != "/lab/ctrl" {
			t.Fatalf("/self with the PIN's key: %v", self)
		}
		// After 30 minutes a PIN has expired.
		pin, code = "9999", strings.Repeat("C", 60)
		if err := ts.db.Client.Pin.Create().SetPin(9999).SetCodeHash(access.HashSecret(code)).
			SetCreatedAt(time.Now().Add(-31 * time.Minute)).Exec(t.Context()); err != nil {
			t.Fatal(err)
		}
		if p := poll(); p["status"] != "error" || p["message"] != "PIN has expired." {
			t.Fatalf("expired poll %v", p)
		}
		if p := member.send(t, "PUT", "/api/v1/pins/"+pin, form("controller", "/lab/ctrl")).expect(t, 200).json(t); p["status"] != "error" {
			t.Fatalf("expired entry %v", p)
		}
	})
}

// send_email / send_text_message over the original websocket (rhizo-client's
// messages.send_email and send_sms: comma-separated recipients) go through the throttled
// senders to real servers on loopback; the 11th e-mail in an hour is an error frame.
func TestRhizoWebsocketEmail(t *testing.T) {
	smtpServer := notifytest.StartSMTP(t, notifytest.SMTPOptions{})
	textProvider := notifytest.StartText(t)
	eachServer2(t, func(c *Config) {
		c.SMTP = smtpServer.Config()
		c.Text = textProvider.Config()
	}, func(t *testing.T, ts *testServer) {
		key, _ := rhizoKey(t, ts)
		ctrl := ts.rhizo(key).websocket(t)
		before, textsBefore := len(smtpServer.Mails()), len(textProvider.Requests())
		for i := range 10 {
			ctrl.send("send_email", map[string]any{"email_addresses": "ops@example.org,lead@example.org", "subject": "pump", "body": "stalled " + strconv.Itoa(i)}, "")
		}
		ctrl.send("send_email", map[string]any{"email_addresses": "ops@example.org", "subject": "pump", "body": "too many"}, "")
		if f := ctrl.next(); f["type"] != "error" {
			t.Fatalf("11th e-mail: %v", f)
		}
		mails := smtpServer.Mails()[before:]
		n := 0
		for _, m := range mails {
			if m.Subject == "pump" && strings.Contains(m.Body, "stalled") {
				n++
			}
			if strings.Contains(m.Body, "too many") {
				t.Fatal("the throttled e-mail went out")
			}
		}
		if n != 10 || len(mails[0].To) != 2 {
			t.Fatalf("mails: %d of %d, to %v", n, len(mails), mails[0].To)
		}
		ctrl.send("send_text_message", map[string]any{"phone_numbers": "+1 555 0100", "message": "hello"}, "")
		ctrl.settle()
		reqs := textProvider.Requests()[textsBefore:]
		if len(reqs) != 1 || reqs[0].To != "+15550100" || reqs[0].Body != "hello" {
			t.Fatalf("text requests: %+v", reqs)
		}
	})
}
