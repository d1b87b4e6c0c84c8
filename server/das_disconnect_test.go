package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// smallBuffers makes every accepted connection's send buffer small, so that the server
// cannot run far ahead of a client into the kernel's socket buffers.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// A client that reads the first bytes of a large das2 stream and hangs up stops the
// database reading: the chunk queries stop well before the sequence's end and, on
// PostgreSQL, no query of the read is left running.
func TestDasClientDisconnectStopsQuery(t *testing.T) {
	const values = 300_000
	chunks := int64((values + series.ReadChunk - 1) / series.ReadChunk)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2024, 1, 5, 0, 0, 0, 0, time.UTC)
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			ts := newTestServer(t, d)
			seq, err := tree.ByPath(t.Context(), ts.db.Client, "/other/pub/pressure")
			if err != nil {
				t.Fatal(err)
			}
			vals := make([]series.Value, values)
			for i := range vals {
				v := float64(i)
				vals[i] = series.Value{Time: start.Add(time.Duration(i) * time.Second), Num: &v}
			}
			if err := series.Append(t.Context(), ts.db.Client, seq, vals); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(ts.app.Handler())
			srv.Listener = smallBuffers{srv.Listener}
			srv.Start()
			t.Cleanup(srv.Close)

			client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetReadBuffer(4 << 10)
				}
				return c, err
			}}}
			path := fmt.Sprintf("/das/source/other/pub/pressure/flex?read.time.min=%s&read.time.max=%s&format.version=2",
				start.Format(time.RFC3339), end.Format(time.RFC3339))
			// A client that reads it all (normal buffers): every chunk is queried (at least
			// one query per ReadChunk values).
			before := series.NumericChunkQueries.Load()
			resp, err := http.Get(ts.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := io.Copy(io.Discard, resp.Body); err != nil || n < values*16 {
				t.Fatalf("whole read: %d bytes, %v", n, err)
			}
			_ = resp.Body.Close()
			if n := series.NumericChunkQueries.Load() - before; n < chunks {
				t.Fatalf("whole read: %d chunk queries, want at least %d", n, chunks)
			}

			before = series.NumericChunkQueries.Load()
			resp, err = client.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if _, err := io.ReadFull(resp.Body, make([]byte, 64<<10)); err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close() // unread data: the connection is closed, not reused
			client.CloseIdleConnections()

			// Wait until the count holds still (the handler returned), at most 20 s.
			n := series.NumericChunkQueries.Load() - before
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
				time.Sleep(300 * time.Millisecond)
				m := series.NumericChunkQueries.Load() - before
				if m == n {
					break
				}
				n = m
			}
			if n < 1 || n >= chunks {
				t.Fatalf("%d chunk queries after the client left, the whole read is %d", n, chunks)
			}
			if d != "postgres" {
				return
			}
			// No query of the read is still running on the server (the text is ReadNumeric's
			// chunk query: SELECT ... FROM revisions WHERE resource_id = N AND "timestamp" >= ...).
			pattern := fmt.Sprintf(`%%FROM revisions WHERE resource_id = %d AND "timestamp" >= %%`, seq.ID)
			var active int
			for deadline := time.Now().Add(10 * time.Second); ; {
				if err := ts.db.SQL.QueryRowContext(t.Context(),
					`SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE $1`, pattern).Scan(&active); err != nil {
					t.Fatal(err)
				}
				if active == 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if active != 0 {
				t.Fatalf("%d queries of the read still active", active)
			}
		})
	}
}
