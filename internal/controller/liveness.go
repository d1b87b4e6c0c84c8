package controller

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/controllerstatus"
)

// OnlineTTL is how long a heartbeat keeps a controller online.
func (s *Service) OnlineTTL() time.Duration { return s.ttl }

// HeartbeatInterval is how often the instance holding a controller's websocket should
// beat: a third of OnlineTTL, so one late or lost beat does not take it offline.
func (s *Service) HeartbeatInterval() time.Duration { return s.ttl / 3 }

// IsOnline reports whether st's heartbeat is fresher than OnlineTTL at now. A controller
// held by an instance that died goes offline by itself once its heartbeat is that old.
func (s *Service) IsOnline(st *ent.ControllerStatus, now time.Time) bool {
	return st != nil && st.HeartbeatAt != nil && now.Sub(*st.HeartbeatAt) < s.ttl
}

// Online reports whether a controller is online now.
func (s *Service) Online(ctx context.Context, controllerID int) (bool, error) {
	st, err := s.client.ControllerStatus.Query().Where(controllerstatus.ControllerID(controllerID)).Only(ctx)
	if ent.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("controller: status of %d: %w", controllerID, err)
	}
	return s.IsOnline(st, s.clock.Now()), nil
}

// Connected records that a controller opened a connection with clientVersion (control
// characters dropped, cut to 100 bytes: a connection is not refused for its version). It
// returns the connection's time, which Disconnected takes.
func (s *Service) Connected(ctx context.Context, controllerID int, clientVersion string) (time.Time, error) {
	now := s.now()
	err := s.client.ControllerStatus.Create().SetControllerID(controllerID).
		SetHeartbeatAt(now).SetLastConnectAt(now).SetLastOnlineAt(now).SetClientVersion(cleanVersion(clientVersion)).
		OnConflictColumns(controllerstatus.FieldControllerID).
		Update(func(u *ent.ControllerStatusUpsert) {
			u.UpdateHeartbeatAt()
			u.UpdateLastConnectAt()
			u.UpdateLastOnlineAt()
			u.UpdateClientVersion()
		}).Exec(ctx)
	if err != nil {
		return time.Time{}, upsertErr(err, controllerID)
	}
	return now, nil
}

// heartbeatChunk bounds the ids of one UPDATE, well below every driver's parameter limit.
const heartbeatChunk = 1000

// Heartbeat keeps the given controllers online: one UPDATE (per 1,000 ids). Controllers
// without a status row are skipped (Connected makes it).
func (s *Service) Heartbeat(ctx context.Context, controllerIDs ...int) error {
	ids := slices.Clone(controllerIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	now := s.now()
	for chunk := range slices.Chunk(ids, heartbeatChunk) {
		err := s.client.ControllerStatus.Update().Where(controllerstatus.ControllerIDIn(chunk...)).
			SetHeartbeatAt(now).SetLastOnlineAt(now).Exec(ctx)
		if err != nil {
			return fmt.Errorf("controller: heartbeat of %d controllers: %w", len(chunk), err)
		}
	}
	return nil
}

// Disconnected records that the connection a controller opened at connectedAt (what
// Connected returned) closed: it is offline at once, unless it connected again since
// (then the newer connection keeps it online). A zero connectedAt takes it offline in any
// case. When a controller holds two connections at once and the newer one closes first,
// the older one's next heartbeat brings it back.
func (s *Service) Disconnected(ctx context.Context, controllerID int, connectedAt time.Time) error {
	upd := s.client.ControllerStatus.Update().Where(controllerstatus.ControllerID(controllerID))
	if !connectedAt.IsZero() {
		upd.Where(controllerstatus.LastConnectAtLTE(dbTime(connectedAt)))
	}
	if err := upd.ClearHeartbeatAt().SetLastOnlineAt(s.now()).Exec(ctx); err != nil {
		return fmt.Errorf("controller: disconnect %d: %w", controllerID, err)
	}
	return nil
}

// KeepAlive beats for the controllers held returns, every HeartbeatInterval, until ctx
// ends. Each instance runs one for the websockets it holds. A failed beat is logged and
// the next one comes as usual.
func (s *Service) KeepAlive(ctx context.Context, held func() []int) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(s.HeartbeatInterval()):
		}
		if ids := held(); len(ids) > 0 {
			if err := s.Heartbeat(ctx, ids...); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "controller: heartbeat failed", "controllers", len(ids), "err", err)
			}
		}
	}
}

// RecordWatchdog records a controller's watchdog message at at. The watchdog check
// compares it with the controller's watchdog minutes.
func (s *Service) RecordWatchdog(ctx context.Context, controllerID int, at time.Time) error {
	err := s.client.ControllerStatus.Create().SetControllerID(controllerID).SetLastWatchdogAt(dbTime(at)).
		OnConflictColumns(controllerstatus.FieldControllerID).
		Update(func(u *ent.ControllerStatusUpsert) { u.UpdateLastWatchdogAt() }).Exec(ctx)
	if err != nil {
		return upsertErr(err, controllerID)
	}
	return nil
}
