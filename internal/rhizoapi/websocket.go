package rhizoapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/live"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Frame is a websocket frame of the original protocol.
type Frame struct {
	Type       string         `json:"type"`
	Timestamp  string         `json:"timestamp,omitempty"`
	Parameters map[string]any `json:"parameters"`
	Folder     any            `json:"folder,omitempty"`
}

// HandledTypes are acted on by the server and never delivered to subscribers, as in the
// original (its handlers stored no message for them).
var HandledTypes = map[string]bool{
	"update_sequence": true, "updateSequence": true, "setNode": true, "watchdog": true,
	"send_email": true, "sendEmail": true, "send_text_message": true, "sendTextMessage": true, "send_sms": true,
}

// MessageFrame is a folder message as an outbound frame.
func MessageFrame(m live.Message) Frame {
	p := m.Parameters
	if p == nil {
		p = map[string]any{}
	}
	return Frame{Type: m.Type, Timestamp: isoTime(m.Timestamp), Parameters: p}
}

// ValueText is a stored value as text ("" for images, which carry no value).
func ValueText(v live.Value) (string, bool) {
	switch {
	case v.Num != nil:
		return strconv.FormatFloat(*v.Num, 'f', -1, 64), true
	case v.Text != nil:
		return *v.Text, true
	}
	return "", false
}

// SequenceUpdateFrame is the server's sequence_update message for a stored value.
func SequenceUpdateFrame(v live.Value) Frame {
	p := map[string]any{"id": v.SequenceID, "name": v.Path, "timestamp": isoTime(v.Timestamp)}
	if s, ok := ValueText(v); ok {
		p["value"] = s
	}
	return Frame{Type: "sequence_update", Timestamp: isoTime(time.Now()), Parameters: p}
}

// wsConn is one websocket client.
type wsConn struct {
	a    *api
	conn *websocket.Conn
	v    *access.Viewer
	out  chan Frame
	ctx  context.Context
}

// outBuffer bounds the frames waiting for a slow client; past it the client is cut off.
const outBuffer = 256

func (a *api) websocket(w http.ResponseWriter, r *http.Request) {
	v := access.ViewerFrom(r.Context())
	version, _, _ := r.BasicAuth()
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OriginPatterns: a.OriginPatterns, Subprotocols: []string{"http-only"},
	})
	if err != nil {
		return
	}
	defer func() { _ = conn.CloseNow() }()
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	if a.Presence != nil && v.Controller != nil {
		if len(version) > 100 {
			version = version[:100]
		}
		ctx = a.Presence.Connect(ctx, v, version)
		defer a.Presence.Disconnect(ctx)
	}
	c := &wsConn{a: a, conn: conn, v: v, out: make(chan Frame, outBuffer), ctx: ctx}
	go c.write(cancel)
	conn.SetReadLimit(a.MaxBodyBytes)
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		var f struct {
			Type       string         `json:"type"`
			Parameters map[string]any `json:"parameters"`
			Folder     any            `json:"folder"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			_ = conn.Close(websocket.StatusUnsupportedData, "frames are JSON objects")
			return
		}
		if f.Parameters == nil {
			f.Parameters = map[string]any{}
		}
		if err := c.handle(f.Type, f.Parameters, f.Folder); err != nil {
			c.send(Frame{Type: "error", Timestamp: isoTime(time.Now()), Parameters: map[string]any{"message": fault.SafeMessage(err)}})
			if status(err) == http.StatusInternalServerError {
				a.Log.ErrorContext(ctx, "rhizo websocket", "type", f.Type, "err", err)
			}
		}
	}
}

func (c *wsConn) write(cancel context.CancelFunc) {
	defer cancel()
	for {
		select {
		case <-c.ctx.Done():
			return
		case f := <-c.out:
			b, err := json.Marshal(f)
			if err != nil {
				continue
			}
			wctx, done := context.WithTimeout(c.ctx, 10*time.Second)
			err = c.conn.Write(wctx, websocket.MessageText, b)
			done()
			if err != nil {
				return
			}
		}
	}
}

// send queues a frame; a client too slow to take it is disconnected.
func (c *wsConn) send(f Frame) {
	select {
	case c.out <- f:
	default:
		_ = c.conn.Close(websocket.StatusPolicyViolation, "too slow to keep up with the messages")
	}
}

func (c *wsConn) handle(typ string, p map[string]any, folder any) error {
	switch typ {
	case "connect", "ping", "debug_messaging":
		return nil
	case "subscribe":
		return c.subscribe(p)
	case "write_resource":
		return c.writeResource(p)
	case "setNode":
		typ = "update_sequence"
		if _, ok := p["sequence"]; !ok {
			p["sequence"] = p["node"]
		}
	}
	path, err := c.folderPath(folder)
	if err != nil {
		return err
	}
	if typ == "update_sequence" || typ == "updateSequence" {
		if n, ok := p["value"].(float64); ok {
			p["value"] = strconv.FormatFloat(n, 'f', -1, 64)
		}
		if enc, _ := p["encoded"].(bool); enc {
			if s, ok := p["value"].(string); ok {
				if _, err := base64.StdEncoding.DecodeString(s); err != nil {
					return fault.New(fault.BadInput, "an encoded value is base64")
				}
			}
		}
	}
	_, err = c.a.Messages.Send(c.ctx, c.v, path, typ, p)
	return err
}

// folderPath is a frame's target folder: an absolute path, a legacy numeric id, or (none)
// the controller's own folder.
func (c *wsConn) folderPath(folder any) (string, error) {
	switch f := folder.(type) {
	case nil:
		if c.v.Controller == nil {
			return "", fault.New(fault.BadInput, "give the folder to send to")
		}
		return c.v.Controller.Path, nil
	case string:
		if f == "" || f == "self" || f == "[self]" {
			return c.folderPath(nil)
		}
		return f, nil
	case float64:
		res, err := c.a.Client.Resource.Get(c.ctx, int(f))
		if err != nil || res.Deleted {
			return "", fault.New(fault.NotFound, "no folder %d", int(f))
		}
		return res.Path, nil
	}
	return "", fault.New(fault.BadInput, "folder is a path")
}

func (c *wsConn) subscribe(p map[string]any) error {
	subs, _ := p["subscriptions"].([]any)
	for _, s := range subs {
		sub, _ := s.(map[string]any)
		if sub == nil {
			continue
		}
		target := sub["folder"]
		if target == nil {
			target = sub["folderId"]
		}
		if s, ok := target.(string); ok && (s == "self" || s == "[self]") {
			if c.v.Controller == nil {
				return fault.New(fault.BadInput, "only a controller key subscribes to self")
			}
			target = nil
		} else if target == nil {
			return fault.New(fault.BadInput, "a subscription needs a folder")
		}
		path, err := c.folderPath(target)
		if err != nil {
			return err
		}
		folder, err := tree.ByPath(c.ctx, c.a.Client, path)
		if err != nil {
			return err
		}
		if err := c.a.Authz.Require(c.ctx, c.v, folder, access.Read); err != nil {
			return err
		}
		mt, _ := sub["message_type"].(string)
		if mt == "" {
			mt, _ = sub["messageType"].(string)
		}
		children, _ := sub["include_children"].(bool)
		if !children {
			children, _ = sub["includeChildren"].(bool)
		}
		if err := c.follow(folder, mt, children); err != nil {
			return err
		}
	}
	return nil
}

// follow forwards a folder's messages (and sequence_update messages for values stored in
// its sequences) to the client until the connection ends.
func (c *wsConn) follow(folder *ent.Resource, messageType string, children bool) error {
	f := live.MessageFilter{IncludeChildren: children}
	if messageType != "" {
		f.Types = []string{messageType}
	}
	if messageType != "sequence_update" {
		ms, err := c.a.Live.FolderMessages(c.ctx, c.v, folder, f)
		if err != nil {
			return err
		}
		go func() {
			for m := range ms.C() {
				if !HandledTypes[m.Type] {
					c.send(MessageFrame(m))
				}
			}
		}()
	}
	if messageType == "" || messageType == "sequence_update" {
		vs, err := c.a.Live.SequenceUpdates(c.ctx, c.v, folder)
		if err != nil {
			return err
		}
		go func() {
			for v := range vs.C() {
				c.send(SequenceUpdateFrame(v))
			}
		}()
	}
	return nil
}

// writeResource writes a value to a sequence the client may write.
func (c *wsConn) writeResource(p map[string]any) error {
	path, _ := p["path"].(string)
	if path == "" {
		return fault.New(fault.BadInput, "write_resource needs a path")
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	res, err := tree.ByPath(c.ctx, c.a.Client, path)
	if err != nil {
		return err
	}
	if err := c.a.Authz.Require(c.ctx, c.v, res, access.Write); err != nil {
		return err
	}
	if res.Type != tree.Sequence {
		return fault.New(fault.BadInput, "write_resource writes sequences only")
	}
	value := p["data"]
	if n, ok := value.(float64); ok {
		value = strconv.FormatFloat(n, 'f', -1, 64)
	}
	return c.a.storeValues(c.ctx, []series.Item{{Resource: res, Value: value}})
}
