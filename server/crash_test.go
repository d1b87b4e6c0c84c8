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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/dbtest"
)

// A server killed with SIGKILL in the middle of a stream of writes loses no value whose
// call was acknowledged (HTTP 200 without errors), on both databases: updateSequences
// batches, and concurrent single updateSequence calls gathered by group commit (killed
// between gathering and committing as it happens).
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

			base0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			at := func(n int) string { return base0.Add(time.Duration(n) * time.Millisecond).Format(time.RFC3339Nano) }
			// Each writer sends until a call fails, then reports which values were acknowledged.
			run := func(base string, writers int, send func(base string, w, call int) ([]int, error)) map[int]bool {
				var mu sync.Mutex
				acked := map[int]bool{}
				var wg sync.WaitGroup
				for w := range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for call := 0; ; call++ {
							ns, err := send(base, w, call)
							if err != nil {
								return
							}
							mu.Lock()
							for _, n := range ns {
								acked[n] = true
							}
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
				return acked
			}
			scenarios := []struct {
				name    string
				writers int
				send    func(base string, w, call int) ([]int, error)
			}{
				{"batches", 1, func(base string, _, call int) ([]int, error) {
					const batch = 50
					values := make([]map[string]any, batch)
					ns := make([]int, batch)
					for i := range values {
						n := call*batch + i
						ns[i] = n
						values[i] = map[string]any{"path": path, "value": fmt.Sprint(n), "timestamp": at(n)}
					}
					_, err := post(base, `mutation($v: [SequenceValueInput!]!) { updateSequences(values: $v) }`, map[string]any{"v": values})
					return ns, err
				}},
				// Concurrent single values go through group commit: a value is acknowledged
				// only after the transaction holding it committed.
				{"group commit", 16, func(base string, w, call int) ([]int, error) {
					n := 1_000_000 + call*16 + w
					_, err := post(base, `mutation($v: String!, $t: Time!) { updateSequence(path: "`+path+`", value: $v, timestamp: $t) { timestamp } }`,
						map[string]any{"v": fmt.Sprint(n), "t": at(n)})
					return []int{n}, err
				}},
			}
			acked := map[int]bool{}
			var base string
			for _, sc := range scenarios {
				var cmd *exec.Cmd
				cmd, base = start()
				go func() {
					time.Sleep(700 * time.Millisecond)
					_ = cmd.Process.Signal(syscall.SIGKILL)
				}()
				got := run(base, sc.writers, sc.send)
				_ = cmd.Wait()
				if len(got) == 0 {
					t.Fatalf("%s: nothing was acknowledged before the kill", sc.name)
				}
				for n := range got {
					acked[n] = true
				}
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
			for n := range acked {
				if !seen[n] {
					t.Fatalf("acknowledged value %d lost after SIGKILL (%d acknowledged, %d stored)", n, len(acked), len(seen))
				}
			}
			t.Logf("%s: %d values acknowledged before SIGKILL, %d stored after restart", d, len(acked), len(seen))
		})
	}
}
