package bus_test

import (
	"bytes"
	"crypto/rand"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/bus"
)

// natsURL is the NATS server the tests use: RHIZOFLEX_TEST_NATS, or the local one.
func natsURL() string {
	if u := os.Getenv("RHIZOFLEX_TEST_NATS"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// natsInstances connects n buses to url with a subject prefix of this test's own.
func natsInstances(t *testing.T, url string, n int) []*bus.NATS {
	t.Helper()
	prefix := "rftest." + rand.Text()
	var buses []*bus.NATS
	for range n {
		b, err := bus.NewNATS(t.Context(), url, bus.NATSOptions{
			Options:       bus.Options{Buffer: testBuffer},
			SubjectPrefix: prefix,
		})
		if err != nil {
			t.Fatalf("NATS at %s is required for this test (set RHIZOFLEX_TEST_NATS): %v", url, err)
		}
		t.Cleanup(func() { _ = b.Close() })
		buses = append(buses, b)
	}
	return buses
}

func TestNATSTwoInstances(t *testing.T) {
	buses := natsInstances(t, natsURL(), 2)
	checkTwoInstances(t, buses[0], buses[1])
}

func TestNATSLargePayload(t *testing.T) {
	buses := natsInstances(t, natsURL(), 2)
	a, b := buses[0], buses[1]
	subA := subscribe(t, a, "blob:/x")
	subB := subscribe(t, b, "blob:/x")
	payload := make([]byte, 512<<10)
	_, _ = rand.Read(payload)
	publish(t, a, "blob:/x", string(payload))
	for name, sub := range map[string]*bus.Subscription{"publisher": subA, "other instance": subB} {
		if e := next(t, sub); !bytes.Equal(e.Payload, payload) {
			t.Fatalf("%s: got %d bytes", name, len(e.Payload))
		}
	}
}

// Deployments with different subject prefixes on one server never hear each other.
func TestNATSPrefixesIsolated(t *testing.T) {
	one := natsInstances(t, natsURL(), 1)
	two := natsInstances(t, natsURL(), 2)
	sub := subscribe(t, two[1], "t")
	publish(t, one[0], "t", "from the other deployment")
	publish(t, two[0], "t", "own")
	if e := next(t, sub); string(e.Payload) != "own" {
		t.Fatalf("got %q", e.Payload)
	}
}

func TestNATSBadPrefix(t *testing.T) {
	for _, p := range []string{"a b", "a.*", "a.>.", "..x"} {
		if b, err := bus.NewNATS(t.Context(), natsURL(), bus.NATSOptions{SubjectPrefix: p}); err == nil {
			_ = b.Close()
			t.Errorf("prefix %q accepted", p)
		}
	}
}

// The buses ride out a restart of their NATS server: what is published while it is down
// may be lost, afterwards events flow again, in order. The test runs its own server.
func TestNATSReconnects(t *testing.T) {
	server, err := exec.LookPath("nats-server")
	if err != nil {
		t.Fatalf("nats-server is required for this test: %v", err)
	}
	port := freePort(t)
	start := func() *exec.Cmd {
		cmd := exec.Command(server, "-a", "127.0.0.1", "-p", strconv.Itoa(port))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		deadline := time.Now().Add(wait)
		for {
			c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err == nil {
				_ = c.Close()
				return cmd
			}
			if time.Now().After(deadline) {
				t.Fatalf("nats-server did not start: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	cmd := start()
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	buses := natsInstances(t, url, 2)
	a, b := buses[0], buses[1]
	subB := subscribe(t, b, "r:x")
	checkInOrder(t, a, subB, "r:x", 5)

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	start()
	waitForProbe(t, a, subB, "r:x")
	checkInOrder(t, a, subB, "r:x", 20)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}
