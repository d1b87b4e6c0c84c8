package rhizoapi

import (
	"crypto/rand"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/pin"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// PinLifetime is how long a PIN can be entered and polled (the original's 30 minutes).
const PinLifetime = 30 * time.Minute

// createPin is POST /api/v1/pins: a controller without a key asks for a PIN to show and a
// secret code to poll with. PINs of live requests are unique.
func (a *api) createPin(_ http.ResponseWriter, r *req) (any, error) {
	now := timeNow()
	// Expired requests are dropped here, so anonymous requests cannot pile up.
	if _, err := a.Client.Pin.Delete().Where(pin.CreatedAtLT(now.Add(-PinLifetime))).Exec(r.ctx); err != nil {
		return nil, err
	}
	code := (rand.Text() + rand.Text() + rand.Text())[:60]
	for range 20 {
		n, err := rand.Int(rand.Reader, big.NewInt(9000))
		if err != nil {
			return nil, err
		}
		number := int(n.Int64()) + 1000
		taken, err := a.Client.Pin.Query().Where(pin.Pin(number)).Exist(r.ctx)
		if err != nil {
			return nil, err
		}
		if taken {
			continue
		}
		if _, err := a.Client.Pin.Create().SetPin(number).SetCodeHash(access.HashSecret(code)).SetCreatedAt(now).Save(r.ctx); err != nil {
			return nil, err
		}
		return map[string]any{"status": "ok", "pin": number, "pin_code": code}, nil
	}
	return nil, fault.New(fault.Unavailable, "no free PIN; try again in a few minutes")
}

var errPinExpired = map[string]string{"status": "error", "message": "PIN has expired."}

// pollPin is GET /api/v1/pins/<pin>?pin_code=: once a person entered the PIN, the
// controller receives its key and path, exactly once.
func (a *api) pollPin(_ http.ResponseWriter, r *req) (any, error) {
	number, err := strconv.Atoi(r.PathValue("pin"))
	if err != nil {
		return nil, fault.New(fault.NotFound, "no such PIN")
	}
	p, err := a.Client.Pin.Query().Where(pin.Pin(number), pin.CodeHash(access.HashSecret(r.get("pin_code")))).Only(r.ctx)
	if err != nil {
		return nil, fault.New(fault.NotFound, "no such PIN")
	}
	if timeNow().Sub(p.CreatedAt) > PinLifetime {
		return errPinExpired, nil
	}
	if p.EnteredAt == nil || p.KeyCreated || p.ControllerID == nil || p.UserID == nil {
		return map[string]string{"status": "ok"}, nil
	}
	// Claim the key: only one poll gets it.
	n, err := a.Client.Pin.Update().Where(pin.ID(p.ID), pin.KeyCreated(false)).SetKeyCreated(true).Save(r.ctx)
	if err != nil || n == 0 {
		return map[string]string{"status": "ok"}, err
	}
	ctrl, err := a.Client.Resource.Get(r.ctx, *p.ControllerID)
	if err != nil || ctrl.Deleted {
		return nil, fault.New(fault.NotFound, "the controller of this PIN is gone")
	}
	// The person who entered the PIN had write access to the controller (checked then).
	_, secret, err := a.Authz.CreateKeyAsOperator(r.ctx, access.NewKey{
		Name: "PIN " + strconv.Itoa(number), AsControllerPath: ctrl.Path, RhizoFormat: true,
	}, *p.UserID)
	if err != nil {
		return nil, err
	}
	return map[string]string{"status": "ok", "controller_path": ctrl.Path, "secret_key": secret}, nil
}

// enterPin is PUT /api/v1/pins/<pin>: a signed-in person ties a PIN to a controller they
// may write.
func (a *api) enterPin(_ http.ResponseWriter, r *req) (any, error) {
	if err := a.Authz.RequireHuman(r.v); err != nil {
		if fault.Is(err, fault.Unauthenticated) {
			return nil, fault.New(fault.Forbidden, "sign in to enter a PIN")
		}
		return nil, err
	}
	path := r.get("controller")
	if !strings.HasPrefix(path, "/") {
		return nil, fault.New(fault.BadInput, "give the controller's path")
	}
	ctrl, err := tree.ByPath(r.ctx, a.Client, path)
	if err == nil {
		err = a.Authz.Require(r.ctx, r.v, ctrl, access.Write)
	}
	if fault.Is(err, fault.NotFound) {
		return nil, fault.New(fault.BadInput, "no controller at %s", path)
	}
	if err != nil {
		return nil, err
	}
	if ctrl.Type != tree.ControllerFolder {
		return nil, fault.New(fault.BadInput, "%s is not a controller", path)
	}
	number, err := strconv.Atoi(r.PathValue("pin"))
	if err != nil {
		return nil, fault.New(fault.NotFound, "no such PIN")
	}
	p, err := a.Client.Pin.Query().Where(pin.Pin(number)).Order(ent.Desc(pin.FieldCreatedAt)).First(r.ctx)
	if err != nil {
		return nil, fault.New(fault.NotFound, "no such PIN")
	}
	if timeNow().Sub(p.CreatedAt) > PinLifetime {
		return errPinExpired, nil
	}
	if p.EnteredAt != nil {
		return nil, fault.New(fault.BadInput, "this PIN was already entered")
	}
	n, err := a.Client.Pin.Update().Where(pin.ID(p.ID), pin.EnteredAtIsNil()).
		SetEnteredAt(timeNow()).SetUserID(r.v.User.ID).SetControllerID(ctrl.ID).Save(r.ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fault.New(fault.BadInput, "this PIN was already entered")
	}
	return map[string]string{"status": "ok"}, nil
}
