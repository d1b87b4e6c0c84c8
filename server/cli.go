// Package server is the composition root of rhizoflex: configuration, the command line,
// database open and migration, HTTP routes and middleware, the embedded SPA. Only main
// imports it.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/blob"
	"github.com/rhizoflex/rhizoflex/internal/bus"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/demo"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/streams/dascli"
)

// Version is the build version, set with -ldflags "-X .../server.Version=...".
var Version = "dev"

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError marks bad command-line arguments (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// Main runs the rhizoflex command line with args (without the program name) and returns
// the process exit code. SIGINT and SIGTERM cancel the context: serve shuts down
// gracefully.
func Main(args []string) int {
	ctx, stop := notifyContext(context.Background())
	defer stop()
	return run(ctx, args, os.Environ(), os.Stdin, os.Stdout, os.Stderr)
}

func run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := newRootCommand(environ, stdin, stdout, stderr)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ue usageError
	var ce configError
	var code exitCodeError
	switch {
	case errors.As(err, &code):
		return code.code
	case errors.As(err, &ce):
		_, _ = fmt.Fprintf(stderr, "rhizoflex: %v\n", ce)
		return exitUsage
	case errors.As(err, &ue), isCobraUsageError(err):
		_, _ = fmt.Fprintf(stderr, "rhizoflex: %v\nRun 'rhizoflex --help' for usage.\n", err)
		return exitUsage
	case fault.CodeOf(err) == fault.BadInput || fault.CodeOf(err) == fault.Conflict:
		_, _ = fmt.Fprintf(stderr, "rhizoflex: %s\n", fault.SafeMessage(err))
		return exitError
	default:
		_, _ = fmt.Fprintf(stderr, "rhizoflex: %v\n", err)
		return exitError
	}
}

// isCobraUsageError recognises cobra's own argument errors, which are plain errors.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") || strings.HasPrefix(msg, "required flag")
}

// notifyContext is cancelled by SIGINT or SIGTERM.
func notifyContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}

// exitCodeError carries an exit code from a subcommand that printed its own messages.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// cli holds what every subcommand shares.
type cli struct {
	environ        []string
	stdin          io.Reader
	stdout, stderr io.Writer
	configPath     string
}

// config loads the configuration and makes its logger the default one.
func (c *cli) config(cmd *cobra.Command) (Config, error) {
	cfg, err := loadConfig(c.configPath, c.environ, cmd.Flags())
	if err == nil {
		slog.SetDefault(newLogger(c.stderr, cfg.LogLevel, cfg.LogFormat))
	}
	return cfg, err
}

func (c *cli) openDatabase(ctx context.Context, cfg Config, log *slog.Logger) (*database.DB, error) {
	db, err := database.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("database migrated", "applied", len(applied), "url", database.Redact(cfg.DatabaseURL))
	}
	return db, nil
}

// withDatabase loads the configuration, opens and migrates the database, runs fn and
// closes the database: the shape of every operator subcommand.
func (c *cli) withDatabase(cmd *cobra.Command, fn func(ctx context.Context, cfg Config, db *database.DB) error) error {
	cfg, err := c.config(cmd)
	if err != nil {
		return err
	}
	db, err := c.openDatabase(cmd.Context(), cfg, slog.Default())
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	return fn(cmd.Context(), cfg, db)
}

func newRootCommand(environ []string, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	c := &cli{environ: environ, stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "rhizoflex",
		Short:         "rhizoflex: a lab and instrument data hub with a das2/das3 stream server",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&c.configPath, "config", "", "YAML config file (default ./rhizoflex.yaml if present)")
	pf.String("database-url", "", "database URL: sqlite:PATH or postgres://... (setting database_url)")
	pf.String("data-dir", "", "directory for bulk storage and local files (setting data_dir)")
	pf.String("log-level", "", "debug, info, warn or error (setting log_level)")
	pf.String("log-format", "", "text or json (setting log_format)")

	root.AddCommand(c.serveCommand(), c.migrateCommand(), c.createAdminCommand(), c.demoCommand(), c.versionCommand(), c.dasCommand(), c.createKeyCommand(), c.sourcesCommand())
	return root
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("expected %s, got %d argument(s)", what, len(args))}
		}
		return nil
	}
}

func (c *cli) serveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP server (migrates the database first)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.config(cmd)
			if err != nil {
				return err
			}
			log := slog.Default()
			ctx := cmd.Context()
			db, err := c.openDatabase(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer func() {
				if err := db.Close(); err != nil {
					log.Error("close database", "err", err)
				}
			}()
			ln, err := net.Listen("tcp", cfg.Listen)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
			}
			blobs, err := blob.Open(ctx, cfg.BlobLocation())
			if err != nil {
				return fmt.Errorf("bulk storage %s: %w", cfg.BlobLocation(), err)
			}
			defer func() { _ = blobs.Close() }()
			app := NewApp(cfg, db, blobs, log)
			b, err := bus.Open(ctx, bus.Config{
				URL: cfg.BusURL, Dialect: db.Dialect, DB: db.SQL, DatabaseURL: cfg.DatabaseURL,
				Options: bus.Options{Buffer: cfg.SubscriberBuffer, Logger: log},
			})
			if err != nil {
				return fmt.Errorf("bus %s: %w", database.Redact(cfg.BusURL), err)
			}
			defer func() { _ = b.Close() }()
			app.UseBus(b)
			return app.Serve(ctx, ln)
		},
	}
	f := cmd.Flags()
	f.String("listen", "", "address to listen on, e.g. :8080 (setting listen)")
	f.Bool("production", false, "production mode: secure cookies required, playground off (setting production)")
	f.String("demo-live-interval", "", "append live demo values this often, e.g. 5s; 0 is off (setting demo_live_interval)")
	return cmd
}

func (c *cli) migrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "migrate",
		Aliases: []string{"init-db"},
		Short:   "Create or upgrade the database schema",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.config(cmd)
			if err != nil {
				return err
			}
			log := slog.Default()
			db, err := database.Open(cmd.Context(), cfg.DatabaseURL)
			if err != nil {
				return err
			}
			defer func() { _ = db.Close() }()
			applied, err := db.Migrate(cmd.Context())
			if err != nil {
				return err
			}
			log.Debug("migrate done", "applied", applied)
			_, _ = fmt.Fprintf(c.stdout, "database %s: %d migration(s) applied\n", database.Redact(cfg.DatabaseURL), len(applied))
			return nil
		},
	}
}

func (c *cli) createAdminCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "create-admin EMAIL:PASSWORD",
		Short: "Create a system admin (or reset an existing user's password and make it admin)",
		Args:  exactArgs(1, "one EMAIL:PASSWORD argument"),
		RunE: func(cmd *cobra.Command, args []string) error {
			email, password, ok := strings.Cut(args[0], ":")
			if !ok || email == "" || password == "" {
				return usageError{errors.New("create-admin takes EMAIL:PASSWORD")}
			}
			return c.withDatabase(cmd, func(ctx context.Context, cfg Config, db *database.DB) error {
				u, created, err := account.EnsureAdmin(ctx, db.Client, email, password, cfg.Password)
				if err != nil {
					return err
				}
				verb := "updated"
				if created {
					verb = "created"
				}
				_, _ = fmt.Fprintf(c.stdout, "system admin %s %s\n", u.Email, verb)
				return nil
			})
		},
	}
}

func (c *cli) demoCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Seed the demo organization (folders, a controller, a day of sequence data)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withDatabase(cmd, func(ctx context.Context, cfg Config, db *database.DB) error {
				res, err := demo.Seed(ctx, db.Client, time.Now().UTC(), cfg.Password)
				if err != nil {
					return err
				}
				if !res.Created {
					_, _ = fmt.Fprintf(c.stdout, "demo organization already present; log in as %s / %s\n", demo.Email, demo.Password)
					return nil
				}
				_, _ = fmt.Fprintf(c.stdout, "demo organization created with %d values; log in as %s / %s\n", res.Values, demo.Email, demo.Password)
				return nil
			})
		},
	}
}

func (c *cli) createKeyCommand() *cobra.Command {
	var name, userEmail, controller, by, org string
	cmd := &cobra.Command{
		Use:   "create-key --name NAME (--user EMAIL | --controller PATH) [--by EMAIL] [--organization NAME]",
		Short: "Create an API key and print its secret (shown once)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (userEmail == "") == (controller == "") {
				return usageError{errors.New("create-key needs exactly one of --user EMAIL and --controller PATH")}
			}
			if controller != "" && by == "" {
				return usageError{errors.New("a controller key needs --by EMAIL (the person recorded as its creator)")}
			}
			return c.withDatabase(cmd, func(ctx context.Context, _ Config, db *database.DB) error {
				in := access.NewKey{Name: name, AsControllerPath: controller}
				if org != "" {
					o, err := account.OrganizationByName(ctx, db.Client, org)
					if err != nil {
						return err
					}
					in.OrganizationID = &o.ID
				}
				var creator int
				if userEmail != "" {
					u, err := account.UserByEmail(ctx, db.Client, userEmail)
					if err != nil {
						return err
					}
					in.AsUserID, creator = &u.ID, u.ID
				}
				if by != "" {
					u, err := account.UserByEmail(ctx, db.Client, by)
					if err != nil {
						return err
					}
					creator = u.ID
				}
				k, secret, err := access.NewAuthorizer(db.Client).CreateKeyAsOperator(ctx, in, creator)
				if err != nil {
					return err
				}
				_, _ = fmt.Fprintf(c.stderr, "key %d (%s) created; the secret below is shown only once\n", k.ID, k.Prefix)
				_, _ = fmt.Fprintln(c.stdout, secret)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "a name to tell the key apart (required)")
	f.StringVar(&userEmail, "user", "", "the key acts as this user")
	f.StringVar(&controller, "controller", "", "the key acts as this controller folder")
	f.StringVar(&by, "by", "", "the person recorded as creator (default: the --user)")
	f.StringVar(&org, "organization", "", "the organization the key belongs to")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

// dasCommand hands everything after "das" to the stream tools (their own flags and usage).
func (c *cli) dasCommand() *cobra.Command {
	return &cobra.Command{
		Use:                "das convert|reduce|verify ...",
		Short:              "das2/das3/CSV stream tools: convert, reduce, verify (stdin to stdout)",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := dascli.Main(cmd.Context(), args, c.stdin, c.stdout, c.stderr); code != 0 {
				return exitCodeError{code}
			}
			return nil
		},
	}
}

func (c *cli) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			_, _ = fmt.Fprintf(c.stdout, "rhizoflex %s\n", Version)
			return nil
		},
	}
}
