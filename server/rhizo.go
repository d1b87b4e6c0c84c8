package server

import (
	"context"
	"net/http"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/rhizoapi"
	"github.com/rhizoflex/rhizoflex/internal/rhizomqtt"
)

// rhizoHandler serves the original hub's API at /api/v1 (docs/RHIZO.md), with its MQTT
// broker at /api/v1/mqtt (and on mqtt_listen when set).
func (a *App) rhizoHandler() http.Handler {
	extra := map[string]http.Handler{}
	if a.mqtt == nil {
		b, err := rhizomqtt.New(rhizomqtt.Options{
			Client: a.db.Client, Authz: a.authz, Live: a.live, Messages: a.messages, Store: a.group.Store,
			Paths: a.paths, Log: a.log, TCPAddress: a.cfg.MQTTListen, OriginPatterns: originHosts(a.cfg.CORSOrigins),
		})
		if err != nil {
			a.log.Error("MQTT is off", "err", err)
		}
		a.mqtt = b
	}
	if a.mqtt != nil {
		extra["/mqtt"] = a.mqtt.Handler()
	}
	return rhizoapi.Handler(rhizoapi.Options{
		Extra:  extra,
		Client: a.db.Client, Authz: a.authz, Blobs: a.blobs, Live: a.live, Messages: a.messages,
		Controllers: a.controllers, Presence: rhizoPresence{a.presence}, Store: a.group.Store, Paths: a.paths, Log: a.log,
		BulkThreshold: a.cfg.BulkThreshold, MaxUploadBytes: a.cfg.MaxUploadBytes, MaxBodyBytes: a.cfg.MaxBodyBytes,
		OriginPatterns: originHosts(a.cfg.CORSOrigins),
	})
}

// rhizoPresence makes controllers on the rhizo websocket online as on the GraphQL one.
type rhizoPresence struct{ p *presence }

func (r rhizoPresence) Connect(ctx context.Context, v *access.Viewer, version string) context.Context {
	return r.p.connect(ctx, v, version)
}

func (r rhizoPresence) Disconnect(ctx context.Context) { r.p.disconnect(ctx) }
