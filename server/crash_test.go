package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/dbtest"
)

// A server killed with SIGKILL in the middle of a stream of updateSequences calls loses no
// value whose call was acknowledged (HTTP 200 without errors), on both databases.
func TestKilledServerKeepsAcknowledgedValues(t *testing.T) {
	bin := buildBinary(t)
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"RHIZOFLEX_DATABASE_URL=" + dbtest.URL(t, d), "RHIZOFLEX_DATA_DIR=" + filepath.Join(dir, "data"),
				"RHIZOFLEX_PASSWORD__MEMORY_KIB=8192", "RHIZOFLEX_PASSWORD__ITERATIONS=1", "RHIZOFLEX_LOG_LEVEL=warn"}
			if _, errOut, code := runBinary(t, bin, dir, env, "create-admin", "root@example.com:correct-horse"); code != 0 {
				t.Fatal(errOut)
			}
			if _, errOut, code := runBinary(t, bin, dir, env, "demo"); code != 0 {
				t.Fatal(errOut)
			}
			secret, errOut, code := runBinary(t, bin, dir, env, "create-key", "--name", "crash", "--controller", "/demo/lab-controller", "--by", "root@example.com")
			if code != 0 {
				t.Fatal(errOut)
			}
			secret = strings.TrimSpace(secret)
			const path = "/demo/lab-controller/status/messages_sent"

			start := func() (*exec.Cmd, string) {
				addr := freeAddr(t)
				cmd := exec.Command(bin, "serve", "--listen", addr)
				cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
				waitUp(t, "http://"+addr+"/healthz")
				return cmd, "http://" + addr
			}
			post := func(base, query string, vars map[string]any) (map[string]any, error) {
				body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
				req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(string(body)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+secret)
				resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
				if err != nil {
					return nil, err
				}
				defer func() { _ = resp.Body.Close() }()
				raw, err := io.ReadAll(resp.Body)
				if err != nil {
					return nil, err
				}
				var out map[string]any
				if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != http.StatusOK || out["errors"] != nil {
					return nil, fmt.Errorf("status %d: %s", resp.StatusCode, raw)
				}
				return out, nil
			}

			cmd, base := start()
			base0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			acked := 0
			const batch = 50
			killed := make(chan struct{})
			go func() {
				time.Sleep(700 * time.Millisecond)
				close(killed) // before the signal, so a failing call always sees it
				_ = cmd.Process.Signal(syscall.SIGKILL)
			}()
			for call := 0; ; call++ {
				values := make([]map[string]any, batch)
				for i := range values {
					n := call*batch + i
					values[i] = map[string]any{"path": path, "value": fmt.Sprint(n), "timestamp": base0.Add(time.Duration(n) * time.Millisecond).Format(time.RFC3339Nano)}
				}
				if _, err := post(base, `mutation($v: [SequenceValueInput!]!) { updateSequences(values: $v) }`, map[string]any{"v": values}); err != nil {
					select {
					case <-killed:
					default:
						t.Fatalf("call %d failed before the kill: %v", call, err)
					}
					break
				}
				acked = (call + 1) * batch
			}
			_ = cmd.Wait()
			if acked == 0 {
				t.Fatal("no call was acknowledged before the kill")
			}

			_, base = start()
			seen := map[int]bool{}
			var after any
			for {
				out, err := post(base, `query($from: Time!, $after: String) { resource(path: "`+path+`") { values(from: $from, first: 10000, after: $after) { edges { node { number } } pageInfo { hasNextPage endCursor } } } }`,
					map[string]any{"from": base0.Format(time.RFC3339), "after": after})
				if err != nil {
					t.Fatal(err)
				}
				values := out["data"].(map[string]any)["resource"].(map[string]any)["values"].(map[string]any)
				for _, e := range values["edges"].([]any) {
					seen[int(e.(map[string]any)["node"].(map[string]any)["number"].(float64))] = true
				}
				info := values["pageInfo"].(map[string]any)
				if info["hasNextPage"] != true {
					break
				}
				after = info["endCursor"]
			}
			for n := 0; n < acked; n++ {
				if !seen[n] {
					t.Fatalf("acknowledged value %d lost after SIGKILL (%d acknowledged, %d stored)", n, acked, len(seen))
				}
			}
			t.Logf("%s: %d values acknowledged before SIGKILL, %d stored after restart", d, acked, len(seen))
		})
	}
}
