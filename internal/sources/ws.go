package sources

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/coder/websocket"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/live"
)

// websocket answers source/<id>/flexRT: the same request as flex (das3 only), each das3
// packet one binary websocket message. The request was validated and authorized before
// the upgrade, so refusals are plain HTTP answers.
func (h *handler) websocket(w http.ResponseWriter, r *http.Request, src Source, rd Read, out output, follow bool) {
	ctx := r.Context()
	var updates *live.Stream[live.Value]
	if follow {
		s, err := h.Live.SequenceUpdates(ctx, access.ViewerFrom(ctx), src.Res)
		if err != nil {
			h.internal(w, r, out.version, err)
			return
		}
		updates = s
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.WSOrigins})
	if err != nil {
		return // Accept answered the client
	}
	ctx = c.CloseRead(ctx) // ends when the client closes or sends anything
	pw := &packetWriter{ctx: ctx, c: c}
	r = r.WithContext(ctx)
	if follow {
		h.follow(r, pw, src, rd, out, updates)
	} else {
		h.stream(r, pw, src, rd, out)
	}
	if pw.err != nil {
		_ = c.Close(websocket.StatusInternalError, "internal error")
		return
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
}

// packetWriter sends a das3 byte stream as websocket messages, one per packet.
type packetWriter struct {
	ctx context.Context
	c   *websocket.Conn
	buf []byte
	err error
}

func (p *packetWriter) start() {}

func (p *packetWriter) failed(err error) { p.err = err }

func (p *packetWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		n, err := packetLen(p.buf)
		if err != nil {
			return 0, err
		}
		if n == 0 || n > len(p.buf) {
			break
		}
		if err := p.c.Write(p.ctx, websocket.MessageBinary, p.buf[:n]); err != nil {
			return 0, fmt.Errorf("websocket: %w", err)
		}
		p.buf = p.buf[n:]
	}
	if len(p.buf) == 0 {
		p.buf = nil // do not keep a grown buffer between packets
	}
	return len(b), nil
}

var errFraming = errors.New("not a das3 packet")

// packetLen is the length of the das3 packet at the start of b (spec 4.1: |Tt|ID|LEN|
// payload), or 0 when its header is not complete yet.
func packetLen(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if b[0] != '|' {
		return 0, errFraming
	}
	bars, lenStart := 1, 0
	for i := 1; i < len(b) && i < 32; i++ {
		if b[i] != '|' {
			continue
		}
		bars++
		switch bars {
		case 3:
			lenStart = i + 1
		case 4:
			n, err := strconv.Atoi(string(b[lenStart:i]))
			if err != nil || n < 0 {
				return 0, errFraming
			}
			return i + 1 + n, nil
		}
	}
	if len(b) >= 32 {
		return 0, errFraming
	}
	return 0, nil
}
