package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/rs/cors"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/outgoingmessage"
	"github.com/rhizoflex/rhizoflex/frontend"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/blob"
	"github.com/rhizoflex/rhizoflex/internal/bus"
	"github.com/rhizoflex/rhizoflex/internal/catalog"
	"github.com/rhizoflex/rhizoflex/internal/cluster"
	"github.com/rhizoflex/rhizoflex/internal/controller"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/demo"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/files"
	"github.com/rhizoflex/rhizoflex/internal/hapi"
	"github.com/rhizoflex/rhizoflex/internal/live"
	"github.com/rhizoflex/rhizoflex/internal/messages"
	"github.com/rhizoflex/rhizoflex/internal/notify"
	"github.com/rhizoflex/rhizoflex/internal/readers"
	"github.com/rhizoflex/rhizoflex/internal/rhizoapi"
	"github.com/rhizoflex/rhizoflex/internal/rhizomqtt"
	"github.com/rhizoflex/rhizoflex/internal/selfcheck"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/sources"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// App is one running rhizoflex instance: configuration, database and HTTP routes.
type App struct {
	cfg         Config
	db          *database.DB
	log         *slog.Logger
	authz       *access.Authorizer
	sessions    *scs.SessionManager
	store       *access.SessionStore
	limiter     *access.LoginLimiter
	mailer      access.Mailer
	blobs       blob.Store
	bus         bus.Bus
	live        *live.Live
	messages    *messages.Service
	presence    *presence
	notifier    *notify.Notifier
	controllers *controller.Service
	group       *series.Group
	paths       *tree.PathCache   // the write path's lookups by path (nil: off)
	mqtt        *rhizomqtt.Broker // the rhizo MQTT face, started with the handler
	readers     *readers.Set      // reader sources of sources_dir (nil: none)
	runner      *readers.Runner
	cache       *readers.Cache
	// extraRoutes lets tests add handlers (for example a slow one) before start.
	extraRoutes func(mux *http.ServeMux)
}

// Login rate limit: this many failures per account and per address in the window.
const (
	loginMaxFailures = 10
	loginWindow      = 15 * time.Minute
)

// NewApp wires an instance over an open, migrated database.
func NewApp(cfg Config, db *database.DB, blobs blob.Store, log *slog.Logger) *App {
	store := access.NewSessionStore(db.Client)
	a := &App{
		cfg: cfg, db: db, log: log, blobs: blobs,
		authz:    access.NewAuthorizer(db.Client),
		store:    store,
		sessions: newSessionManager(cfg, store),
		limiter:  access.NewLoginLimiter(db.Client, loginMaxFailures, loginWindow),
		mailer:   logMailer{log},
	}
	a.notifier = notify.New(db.Client, notify.Options{Email: emailTransport(cfg, log), Text: textTransport(cfg, log), Limits: cfg.Notify, Logger: log})
	if cfg.SMTP.Configured() {
		a.mailer = a.notifier // password resets go out by e-mail (recorded without their token)
	}
	// Every committed resource change reaches every instance's path cache (UseBus).
	db.Client.Resource.Use(tree.ChangeHook(a.resourceChanged))
	a.controllers = controller.New(db.Client, controller.Options{
		OnlineTTL: cfg.ControllerOnline, Notifier: a.notifier, BaseURL: cfg.BaseURL, Logger: log,
	})
	a.presence = newPresence(a.controllers, log)
	a.group = series.NewGroup(db.Client, series.GroupOptions{})
	hub, err := bus.NewHub(bus.Options{Buffer: cfg.SubscriberBuffer, Logger: log})
	if err != nil {
		// Only a bad buffer size gets here, and config validation refuses it first.
		panic(fmt.Sprintf("in-process bus: %v", err))
	}
	a.UseBus(hub)
	a.runner = &readers.Runner{Timeout: cfg.ReaderTimeout, MaxRunning: cfg.MaxReaders, QueueWait: cfg.ReaderQueueWait, Log: log}
	a.cache = &readers.Cache{Dir: cfg.ReaderCacheDir(), Runner: a.runner, Log: log}
	if cfg.SourcesDir != "" {
		set, err := readers.Load(cfg.SourcesDir)
		if err != nil {
			log.Error("reader sources are off: cannot read sources_dir", "err", err)
		} else {
			a.readers = set
			set.LogState(log)
		}
	}
	return a
}

// catalog is every das source (sequences and reader sources) for the HAPI server.
func (a *App) catalog() *catalog.Catalog {
	return &catalog.Catalog{
		Sequences: &sources.Service{Client: a.db.Client, Authz: a.authz},
		Authorize: a.authorizeDownload,
		Authz:     a.authz,
		Readers:   a.readers,
		Runner:    a.runner,
		Cache:     a.cache,
	}
}

// hapiHandler serves HAPI 3.3 at /hapi for every source (docs/HAPI.md).
func (a *App) hapiHandler() http.Handler {
	return hapi.New(a.catalog(), hapi.Options{
		Prefix: hapiPrefix, ID: a.cfg.SiteName, Title: a.cfg.SiteName + " HAPI server",
		Contact: a.cfg.BaseURL, Description: "Sequences and reader sources of " + a.cfg.SiteName,
		Realm: a.cfg.SiteName, Logger: a.log,
	})
}

// hapiPrefix is where the HAPI server is mounted.
const hapiPrefix = "/hapi"

// UseBus makes b the bus live updates travel on (NewApp starts with an in-process one;
// serve opens the configured one). Call it before Handler.
func (a *App) UseBus(b bus.Bus) {
	if a.bus != nil && a.bus != b {
		_ = a.bus.Close() // the in-process one NewApp started with
	}
	a.bus = b
	// Identities are cached per instance only while every access change reaches this
	// instance through the bus to invalidate them. A new authorizer: a watch on a bus
	// being replaced ends and turns its authorizer's cache off.
	// The same holds for the write path's cache of lookups by path: resource changes are
	// announced as access changes (resourceChanged).
	a.authz = access.NewAuthorizer(a.db.Client)
	a.live = live.New(b, a.db.Client, a.authz, a.log)
	paths := tree.NewPathCache()
	authz := a.authz
	invalidate := func() { authz.InvalidateCache(); paths.Invalidate() }
	disable := func() { authz.DisableCache(); paths.Disable() }
	if err := a.live.WatchAccess(context.Background(), invalidate, disable); err != nil {
		a.log.Error("identity and path caches off: cannot watch access changes", "err", err)
		a.paths = nil
	} else {
		a.authz.EnableCache()
		a.paths = paths
	}
	a.messages = &messages.Service{
		Client: a.db.Client, Authz: a.authz, Live: a.live, MaxParameterBytes: int(a.cfg.MaxMessageBytes),
		Actions: messages.Actions{
			Watchdog: a.controllers.RecordWatchdog,
			Email: func(ctx context.Context, ctrl *ent.Resource, to []string, subject, body string) error {
				return a.notifier.SendEmail(ctx, controllerSender(ctrl), to, subject, body)
			},
			Text: func(ctx context.Context, ctrl *ent.Resource, numbers []string, text string) error {
				return a.notifier.SendText(ctx, controllerSender(ctrl), numbers, text)
			},
		},
	}
}

// resourceChanged announces a committed resource change (rename, move, settings, delete)
// to every instance, so their caches of lookups by path forget it before the change's
// request is answered.
func (a *App) resourceChanged(ctx context.Context) {
	if a.live != nil {
		a.live.AccessChanged(ctx, "resource changed")
	}
}

func controllerSender(ctrl *ent.Resource) notify.Sender {
	org := 0
	if ctrl.OrganizationID != nil {
		org = *ctrl.OrganizationID
	}
	return notify.ControllerSender(org, ctrl.ID)
}

// emailTransport is the SMTP mailer, or nil (e-mail refused and recorded as failed) when
// none is configured or it cannot be set up.
func emailTransport(cfg Config, log *slog.Logger) notify.EmailTransport {
	if !cfg.SMTP.Configured() {
		return nil
	}
	m, err := notify.NewSMTPMailer(cfg.SMTP)
	if err != nil {
		log.Error("e-mail is off: the SMTP settings do not work", "err", err)
		return nil
	}
	return m
}

// textTransport is the text-message sender, or nil when none is configured.
func textTransport(cfg Config, log *slog.Logger) notify.TextTransport {
	if !cfg.Text.Configured() {
		return nil
	}
	t, err := notify.NewTextSender(cfg.Text)
	if err != nil {
		log.Error("text messages are off: the text settings do not work", "err", err)
		return nil
	}
	return t
}

// Handler returns the complete HTTP handler with middleware.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", a.ready)
	mux.Handle("/graphql", a.graphqlHandler())
	mux.Handle(files.Prefix+"/", files.Handler(a.db.Client, a.blobs, a.authorizeDownload))
	mux.Handle(a.cfg.DasPrefix+"/", a.dasHandler())
	hapiH := a.hapiHandler()
	mux.Handle(hapiPrefix, hapiH)
	mux.Handle(hapiPrefix+"/", hapiH)
	mux.Handle(rhizoapi.Prefix+"/", a.rhizoHandler())
	if a.mqtt != nil {
		mux.Handle("/mqtt", a.mqtt.Handler()) // paho's default websocket path, which rhizo-client uses
	}
	if a.cfg.Playground {
		mux.Handle("GET /playground", playgroundHandler())
	} else {
		mux.Handle("/playground", http.NotFoundHandler())
	}
	mux.Handle("/", spaHandler(frontend.Dist(), frontend.Built(), apiPrefixes(a.cfg.DasPrefix)))
	if a.extraRoutes != nil {
		a.extraRoutes(mux)
	}
	// Order: recover, log, body idle timeout, CORS, session load/save, viewer, CSRF,
	// status hints, routes.
	h := a.sessions.LoadAndSave(a.authenticate(a.csrf(withHints(mux))))
	if len(a.cfg.CORSOrigins) > 0 {
		// rs/cors allows every origin when the list is empty; with no origins configured
		// no CORS headers are sent at all, so browsers keep to the same origin.
		h = cors.New(cors.Options{
			AllowedOrigins:   a.cfg.CORSOrigins,
			AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodOptions},
			AllowedHeaders:   []string{"Authorization", "Content-Type"},
			AllowCredentials: true,
			MaxAge:           600,
		}).Handler(h)
	}
	return recoverPanics(a.log, logRequests(a.log, bodyIdleTimeout(a.cfg.BodyIdleTimeout, h)))
}

// authorizeDownload decides a download URL. res is nil when nothing is at the path. A
// hidden resource and a missing one get the same answer: 401 with a Basic realm for an
// anonymous viewer (who may have a key to offer), 404 for everyone else.
func (a *App) authorizeDownload(r *http.Request, res *ent.Resource, missing error) error {
	v := access.ViewerFrom(r.Context())
	err := missing
	if res != nil {
		err = a.authz.Require(r.Context(), v, res, access.Read)
	}
	if fault.Is(err, fault.NotFound) && v.Anonymous() {
		return fault.Wrap(err, fault.Unauthenticated, "sign in or send an API key to read this")
	}
	return err
}

// dasHandler serves the das2 server API and the dasFlex URL API (docs/DAS.md); a source is
// authorized like a download.
func (a *App) dasHandler() http.Handler {
	var rdrs sources.ReaderSources
	if a.readers != nil {
		rdrs = a.catalog()
	}
	return sources.Handler(sources.Options{
		Readers:   rdrs,
		Service:   &sources.Service{Client: a.db.Client, Authz: a.authz},
		Prefix:    a.cfg.DasPrefix,
		Authorize: a.authorizeDownload,
		Realm:     a.cfg.SiteName,
		Site:      a.cfg.SiteName,
		BaseURL:   a.cfg.BaseURL,
		Log:       a.log,
		Live:      a.live,
		WSOrigins: originHosts(a.cfg.CORSOrigins),
	})
}

// outgoingRetention is how long records of sent e-mail and text messages are kept.
const outgoingRetention = 90 * 24 * time.Hour

// jobs are the periodic background jobs, each run once per cluster.
func (a *App) jobs() []cluster.Job {
	jobs := []cluster.Job{
		{Name: "trim-sequences", Every: a.cfg.TrimInterval, Run: func(ctx context.Context) error {
			n, err := series.Trim(ctx, a.db.Client)
			if n > 0 {
				a.log.InfoContext(ctx, "trimmed sequences", "values", n)
			}
			return err
		}},
		{Name: "message-retention", Every: min(a.cfg.MessageRetention/4, 10*time.Minute), Run: func(ctx context.Context) error {
			n, err := messages.DeleteOlderThan(ctx, a.db.Client, time.Now().Add(-a.cfg.MessageRetention))
			if n > 0 {
				a.log.InfoContext(ctx, "deleted old messages", "messages", n)
			}
			if err != nil {
				return err
			}
			n, err = a.db.Client.OutgoingMessage.Delete().
				Where(outgoingmessage.CreatedAtLT(time.Now().Add(-outgoingRetention))).Exec(ctx)
			if n > 0 {
				a.log.InfoContext(ctx, "deleted old e-mail and text records", "records", n)
			}
			return err
		}},
		a.controllers.WatchdogJob(a.cfg.WatchdogInterval),
	}
	if a.readers != nil && a.cfg.SelfcheckInterval > 0 {
		jobs = append(jobs, cluster.Job{Name: "source-selfcheck", Every: a.cfg.SelfcheckInterval, Run: func(ctx context.Context) error {
			_, err := selfcheck.Run(ctx, a.db.Client, a.readers, a.catalog().WriteReader, a.log)
			return err
		}})
	}
	return jobs
}

func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := a.db.Ping(ctx); err != nil {
		a.log.WarnContext(r.Context(), "readiness check failed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// apiPrefixes are the paths that belong to programs, not to the web app: an unknown path
// under one of them is a 404, never the app's index.html (a client asking /api/v1/x for
// JSON must not get a 200 HTML page).
func apiPrefixes(dasPrefix string) []string {
	return []string{"/api", "/hapi", dasPrefix, files.Prefix, "/graphql", "/assets"}
}

// underPrefix reports whether p is prefix itself or a path below it.
func underPrefix(p string, prefixes []string) bool {
	for _, pre := range prefixes {
		if p == pre || strings.HasPrefix(p, pre+"/") {
			return true
		}
	}
	return false
}

// spaHandler serves the built single-page app: hashed assets (assets/) cached for a year,
// every other existing file as it is, unknown paths under reserved (program) prefixes 404,
// and every other path index.html (client-side routing: deep links survive a reload), never
// cached.
func spaHandler(dist fs.FS, built bool, reserved []string) http.Handler {
	files := http.FileServerFS(dist)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		clean := path.Clean("/" + r.URL.Path)
		p := strings.TrimPrefix(clean, "/")
		if p != "" && p != "index.html" && built {
			if st, err := fs.Stat(dist, p); err == nil && !st.IsDir() {
				if strings.HasPrefix(p, "assets/") {
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				files.ServeHTTP(w, r)
				return
			}
		}
		if underPrefix(clean, reserved) {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if !built {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(`<!doctype html><title>rhizoflex</title><p>The web app is not built into this binary. ` +
				`Run <code>make build</code>. The GraphQL API is at <a href="/graphql">/graphql</a>.`))
			return
		}
		index, err := fs.ReadFile(dist, "index.html")
		if err != nil {
			http.Error(w, "index.html missing", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(index)
	})
}

// Serve serves HTTP on ln until ctx ends, then shuts down gracefully: the listener closes,
// in-flight requests get up to ShutdownTimeout to finish.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: a.cfg.HeaderTimeout,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	bg, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	go a.store.RunCleanup(bg, 5*time.Minute, a.log)
	go a.presence.run(bg)
	if a.readers != nil {
		if err := a.readers.Watch(bg, a.log); err != nil {
			a.log.Warn("reader sources are not reloaded on change", "err", err)
		}
	}
	jobs := cluster.NewRunner(a.db.SQL, cluster.Options{Logger: a.log})
	jobsDone := make(chan error, 1)
	go func() { jobsDone <- jobs.Run(bg, a.jobs()...) }()
	defer func() {
		stopBackground()
		if err := <-jobsDone; err != nil && !errors.Is(err, context.Canceled) {
			a.log.Warn("background jobs", "err", err)
		}
	}()
	if a.cfg.DemoLiveInterval > 0 {
		go demo.Live(bg, a.db.Client, a.cfg.DemoLiveInterval, func(err error) {
			a.log.Warn("demo live values", "err", err)
		})
		secret, err := demo.ControllerKey(ctx, a.db.Client, a.authz)
		if err != nil {
			a.log.Warn("demo controller", "err", err)
		}
		if secret != "" {
			go demo.RunController(bg, demo.WebsocketURL(ln.Addr().String()), secret, a.cfg.DemoLiveInterval, func(err error) {
				a.log.Warn("demo controller", "err", err)
			})
		}
	}
	errCh := make(chan error, 1)
	go func() { errCh <- srv.Serve(ln) }()
	a.log.Info("listening", "address", ln.Addr().String(), "version", Version)
	select {
	case err := <-errCh:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout)
	stopBackground()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errCh; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	if a.mqtt != nil {
		_ = a.mqtt.Close()
	}
	a.group.Close() // after the requests that write through it have finished
	a.log.Info("stopped")
	return nil
}
