package series_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/sources"
)

// rssKiB is this process's resident set size.
func rssKiB(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkDasHTTP streams a whole sequence (1 M points; 10 M with RHIZOFLEX_BENCH_BIG=1)
// as das2 binary over HTTP through the das handler, and asks for it reduced to about
// 2,000 bins (whole 60 s rollup buckets, so the rollups answer).
func BenchmarkDasHTTP(b *testing.B) {
	n := int64(1_000_000)
	if os.Getenv(series.BenchBig) == "1" {
		n = 10_000_000
	}
	for _, d := range dbtest.Dialects {
		b.Run(d, func(b *testing.B) {
			db, seqs := series.BenchDB(b, d, "s")
			from, to := series.LoadPoints(b, db, seqs[0], n)
			srv := httptest.NewServer(sources.Handler(sources.Options{
				Service: &sources.Service{Client: db.Client}, Prefix: "/das",
				Authorize: func(_ *http.Request, _ *ent.Resource, missing error) error { return missing },
			}))
			defer srv.Close()
			rng := "read.time.min=" + from.Format("2006-01-02T15:04:05") + "&read.time.max=" + to.Format("2006-01-02T15:04:05")
			get := func(b *testing.B, q string) int64 {
				resp, err := http.Get(srv.URL + "/das/source/lab/s/flex?" + rng + q)
				if err != nil {
					b.Fatal(err)
				}
				defer func() { _ = resp.Body.Close() }()
				nb, err := io.Copy(io.Discard, resp.Body)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatal(resp.StatusCode, err)
				}
				return nb
			}
			b.Run("das2binary", func(b *testing.B) {
				base := rssKiB(b)
				var growth int64
				for b.Loop() {
					nb := get(b, "&format.version=2")
					if want := n * 16; nb < want {
						b.Fatalf("%d bytes, want more than %d", nb, want)
					}
					growth = max(growth, rssKiB(b)-base)
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
				b.ReportMetric(float64(growth)/1024, "RSS_growth_MB")
			})
			b.Run("reduced2000", func(b *testing.B) {
				// bin.time.max for 2,000 bins; the answer has whole rollup buckets no wider.
				q := fmt.Sprintf("&format.version=2&bin.time.max=%g", to.Sub(from).Seconds()/2000)
				var nb int64
				for b.Loop() {
					nb = get(b, q)
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/request")
				b.ReportMetric(float64(nb), "bytes")
			})
		})
	}
}
