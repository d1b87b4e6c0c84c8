package bus_test

import (
	"bytes"
	"testing"

	"github.com/rhizoflex/rhizoflex/internal/bus"
)

func TestNotificationRoundTrip(t *testing.T) {
	for _, c := range []struct {
		kind                byte
		origin, topic, body string
	}{
		{'i', "abc", "folder:/a b/c", "AAEC"},
		{'r', "x-1.y_2", "t", "12345"},
		{'i', "o", "folder:/ünï cödé/ 12 x", ""},
	} {
		msg := bus.EncodeNotification(c.kind, c.origin, c.topic, c.body)
		kind, origin, topic, body, err := bus.DecodeNotification(msg)
		if err != nil || kind != c.kind || origin != c.origin || topic != c.topic || body != c.body {
			t.Errorf("%q: got %c %q %q %q %v", msg, kind, origin, topic, body, err)
		}
	}
	for _, bad := range []string{"", "x", "i", "iabc", "iabc 5", "iabc 5 abc", "iabc -1 x", "iabc 0 x", "zabc 1 x"} {
		if _, _, _, _, err := bus.DecodeNotification(bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

func TestFrameRoundTrip(t *testing.T) {
	for _, payload := range [][]byte{nil, {0}, bytes.Repeat([]byte{0xff, 0, 7}, 1000)} {
		frame := bus.EncodeFrame("origin", "seq:/a/b", payload)
		origin, topic, got, err := bus.DecodeFrame(frame)
		if err != nil || string(origin) != "origin" || string(topic) != "seq:/a/b" || !bytes.Equal(got, payload) {
			t.Errorf("got %q %q %d bytes, %v", origin, topic, len(got), err)
		}
	}
	for _, bad := range [][]byte{nil, {2}, {1}, {1, 5, 'a'}, {1, 0, 0}, {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
		if _, _, _, err := bus.DecodeFrame(bad); err == nil {
			t.Errorf("%v decoded", bad)
		}
	}
}

// Decoders of what other instances send must never panic; what they accept re-encodes to
// something that decodes the same.
func FuzzDecodeNotification(f *testing.F) {
	f.Add(bus.EncodeNotification('i', "abc", "folder:/a", "AAEC"))
	f.Add(bus.EncodeNotification('r', "abc", "t", "1"))
	f.Add("iabc 99999999999999999999 x")
	f.Fuzz(func(t *testing.T, msg string) {
		kind, origin, topic, body, err := bus.DecodeNotification(msg)
		if err != nil {
			return
		}
		k2, o2, t2, b2, err := bus.DecodeNotification(bus.EncodeNotification(kind, origin, topic, body))
		if err != nil || k2 != kind || o2 != origin || t2 != topic || b2 != body {
			t.Fatalf("%q: re-encoding changed it", msg)
		}
	})
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add(bus.EncodeFrame("o", "t", []byte("payload")))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		origin, topic, payload, err := bus.DecodeFrame(b)
		if err != nil {
			return
		}
		o2, t2, p2, err := bus.DecodeFrame(bus.EncodeFrame(string(origin), string(topic), payload))
		if err != nil || !bytes.Equal(o2, origin) || !bytes.Equal(t2, topic) || !bytes.Equal(p2, payload) {
			t.Fatalf("%x: re-encoding changed it", b)
		}
	})
}
