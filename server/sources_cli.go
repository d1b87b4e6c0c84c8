package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rhizoflex/rhizoflex/internal/catalog"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/readers"
	"github.com/rhizoflex/rhizoflex/internal/selfcheck"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// sourcesCommand is `rhizoflex sources list|check|precache`: the reader source
// definitions of sources_dir, without a database or a running server.
func (c *cli) sourcesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sources list|check|precache|selfcheck",
		Short: "Reader source definitions in sources_dir: list, check, fill the cache",
	}
	load := func(cmd *cobra.Command) (Config, *readers.Set, error) {
		cfg, err := c.config(cmd)
		if err != nil {
			return cfg, nil, err
		}
		if cfg.SourcesDir == "" {
			return cfg, nil, configError{errors.New("sources_dir is not set (RHIZOFLEX_SOURCES_DIR or the config file)")}
		}
		set, err := readers.Load(cfg.SourcesDir)
		return cfg, set, err
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the sources that load: id, stream format, cache levels, description",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, set, err := load(cmd)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
			_, _ = fmt.Fprintln(tw, "ID\tFORMAT\tCACHE LEVELS\tDESCRIPTION")
			for _, d := range set.List() {
				_, _ = fmt.Fprintf(tw, "%s\tdas%d\t%d\t%s\n", d.ID, d.Format, len(d.CacheLevels), d.Description)
			}
			_ = tw.Flush()
			if n := len(set.Errors()); n > 0 {
				_, _ = fmt.Fprintf(c.stderr, "%d bad definition files left out; run `rhizoflex sources check`\n", n)
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Check every definition; print one line per bad file (file:line: key: problem); exit 1 if any",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, set, err := load(cmd)
			if err != nil {
				return err
			}
			errs := set.Errors()
			for _, e := range errs {
				_, _ = fmt.Fprintln(c.stdout, e.Error())
			}
			_, _ = fmt.Fprintf(c.stdout, "%d sources, %d bad files\n", len(set.List()), len(errs))
			if len(errs) > 0 {
				return exitCodeError{1}
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "precache ID BEGIN END",
		Short: "Compute and store every finished cache block of a source's cache levels in [BEGIN, END)",
		Args:  exactArgs(3, "a source id, a begin time and an end time"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, set, err := load(cmd)
			if err != nil {
				return err
			}
			def, ok := set.Get(args[0])
			if !ok {
				return usageError{fmt.Errorf("no source %q in %s", args[0], cfg.SourcesDir)}
			}
			if len(def.CacheLevels) == 0 {
				return usageError{fmt.Errorf("source %q has no cacheLevel_NN", def.ID)}
			}
			begin, err1 := parseCLITime(args[1])
			end, err2 := parseCLITime(args[2])
			if err := errors.Join(err1, err2); err != nil {
				return usageError{err}
			}
			if !begin.Before(end) {
				return usageError{errors.New("BEGIN must be before END")}
			}
			runner := &readers.Runner{Timeout: cfg.ReaderTimeout, MaxRunning: cfg.MaxReaders, QueueWait: cfg.ReaderQueueWait}
			cache := &readers.Cache{Dir: cfg.ReaderCacheDir(), Runner: runner}
			for _, l := range def.CacheLevels {
				n, err := cache.Fill(cmd.Context(), def, l, begin, end, l.RawParams)
				res := "intrinsic"
				if l.Resolution > 0 {
					res = strconv.FormatFloat(l.Resolution.Seconds(), 'f', -1, 64) + " s"
				}
				_, _ = fmt.Fprintf(c.stdout, "%s %s %s: %d blocks computed\n", def.ID, res, l.Period, n)
				if err != nil {
					return err
				}
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "selfcheck",
		Short: "Request every source's first example range in every format, verify, record the results; exit 1 if any fails",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withDatabase(cmd, func(ctx context.Context, cfg Config, db *database.DB) error {
				if cfg.SourcesDir == "" {
					return configError{errors.New("sources_dir is not set (RHIZOFLEX_SOURCES_DIR or the config file)")}
				}
				set, err := readers.Load(cfg.SourcesDir)
				if err != nil {
					return err
				}
				runner := &readers.Runner{Timeout: cfg.ReaderTimeout, MaxRunning: cfg.MaxReaders, QueueWait: cfg.ReaderQueueWait}
				cat := &catalog.Catalog{Runner: runner, Cache: &readers.Cache{Dir: cfg.ReaderCacheDir(), Runner: runner}}
				results, err := selfcheck.Run(ctx, db.Client, set, cat.WriteReader, slog.Default())
				failed := 0
				tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
				_, _ = fmt.Fprintln(tw, "SOURCE\tRESULT\tMS\tPROBLEM")
				for _, r := range results {
					verdict := "ok"
					if !r.OK {
						verdict, failed = "FAILED", failed+1
					}
					_, _ = fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", r.Source, verdict, r.Latency.Milliseconds(), r.Error)
				}
				_ = tw.Flush()
				if err != nil {
					return err
				}
				if failed > 0 {
					return exitCodeError{1}
				}
				return nil
			})
		},
	})
	return cmd
}

// parseCLITime reads any time form the das tools accept, as UTC.
func parseCLITime(s string) (time.Time, error) {
	t, err := dastime.ParseString(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a time: %w", s, err)
	}
	return readers.GoTime(t), nil
}
