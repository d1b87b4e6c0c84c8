package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"net/url"

	"github.com/rhizoflex/rhizoflex/frontend"
	"github.com/rhizoflex/rhizoflex/graph"
	"github.com/rhizoflex/rhizoflex/graph/generated"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// graphqlHandler builds the gqlgen server with explicit transports and limits.
func (a *App) graphqlHandler() http.Handler {
	srv := handler.New(generated.NewExecutableSchema(generated.Config{
		Resolvers: &graph.Resolver{
			Client: a.db.Client, Version: Version, Authz: a.authz, Sessions: a.sessions,
			Limiter: a.limiter, Mailer: a.mailer, PasswordParams: a.cfg.Password, BaseURL: a.cfg.BaseURL,
			Blobs: a.blobs, BulkThreshold: a.cfg.BulkThreshold, MaxUploadBytes: a.cfg.MaxUploadBytes,
			Live: a.live, Messages: a.messages, Controllers: a.controllers, Group: a.group,
			Paths: a.paths,
		},
		Complexity: graph.Complexity(),
	}))
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		InitFunc:              a.websocketInit,
		CloseFunc:             func(ctx context.Context, _ int) { a.presence.disconnect(ctx) },
		// coder/websocket refuses cross-origin upgrades unless the origin host is listed.
		Implementation: transport.CoderWebsocketImplementation{
			AcceptOptions: websocket.AcceptOptions{OriginPatterns: originHosts(a.cfg.CORSOrigins)},
		},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(decodedPOST{})
	srv.AddTransport(transport.MultipartForm{MaxUploadSize: a.cfg.MaxUploadBytes, MaxMemory: 8 << 20})
	// Parsed and validated documents are cached, and clients may send a query's hash
	// instead of its text (automatic persisted queries), so a controller's repeated
	// mutation costs no parsing.
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(extension.FixedComplexityLimit(a.cfg.QueryComplexity))
	srv.Use(graph.DepthLimit{Max: a.cfg.QueryDepth})
	srv.Use(graph.SubscriptionEnds{})
	if a.cfg.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.SetErrorPresenter(graph.PresentError)
	srv.SetRecoverFunc(graph.Recover)

	small, large := a.cfg.MaxBodyBytes, a.cfg.MaxUploadBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			// Subscriptions live as long as the client wants; they have no deadline.
			srv.ServeHTTP(w, r)
			return
		}
		// The deadline covers reading the body too; resolvers see it in their context
		// and their database work is cancelled when it passes.
		ctx, cancel := context.WithTimeout(r.Context(), a.cfg.RequestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		multipart := strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
		limit := small
		if multipart {
			limit = large
		}
		if r.ContentLength > limit {
			writeGraphQLError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes is over the limit of %d bytes", r.ContentLength, limit))
			return
		}
		if r.Method == http.MethodPost && !multipart {
			params, status, msg := checkGraphQLBody(r, w, limit)
			if status != 0 {
				writeGraphQLError(w, status, msg)
				return
			}
			r = r.WithContext(withDecoded(r.Context(), params))
		}
		if ctx.Err() != nil {
			// gqlgen answers a context that is already over with a bare null.
			writeGraphQLErrorCode(w, http.StatusServiceUnavailable, fault.Timeout, timeoutMessage)
			return
		}
		limitBody(limit, srv).ServeHTTP(w, r)
	})
}

// playgroundHandler serves the GraphiQL page bundled into the SPA build (no CDN, works
// offline); a binary built without the web app falls back to gqlgen's CDN-based page.
func playgroundHandler() http.Handler {
	page, err := fs.ReadFile(frontend.Dist(), "playground.html")
	if err != nil {
		return playground.Handler("rhizoflex GraphQL", "/graphql")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(page)
	})
}

// originHosts turns configured origins (https://app.example.org) into the host patterns
// the websocket library matches.
func originHosts(origins []string) []string {
	hosts := make([]string, 0, len(origins))
	for _, o := range origins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			hosts = append(hosts, u.Host)
		}
	}
	return hosts
}

// websocketInit authenticates a websocket connection from its connection_init payload
// ({"Authorization": "Bearer rfk_..."}), for clients that cannot set headers on the upgrade
// request. Without one, the viewer of the upgrade request (cookie or header) stays.
//
// A controller key holding the connection makes its controller online (with the
// clientVersion of the payload) until the connection closes.
func (a *App) websocketInit(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	if h := p.Authorization(); h != "" {
		secret, ok := keyFromAuthorization(h)
		if !ok {
			return ctx, nil, errors.New("unsupported Authorization in connection_init: use Bearer <key>")
		}
		v, err := a.authz.AuthenticateKey(ctx, secret)
		if err != nil {
			return ctx, nil, errors.New(fault.SafeMessage(err))
		}
		ctx = access.WithViewer(ctx, v)
	}
	version := p.GetString("clientVersion")
	if len(version) > 100 {
		version = version[:100]
	}
	return a.presence.connect(ctx, access.ViewerFrom(ctx), version), nil, nil
}
