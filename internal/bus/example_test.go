package bus_test

import (
	"context"
	"fmt"

	"github.com/rhizoflex/rhizoflex/internal/bus"
)

// A folder's messages and those of every folder below it, as folderMessages with
// includeChildren would subscribe. The prefix ends at a '/', so the sibling "sites" stays
// out.
func Example() {
	ctx := context.Background()
	b, err := bus.NewHub(bus.Options{})
	if err != nil {
		panic(err)
	}
	defer func() { _ = b.Close() }()

	sub, err := b.Subscribe(ctx, "folder:/org/site", "folder:/org/site/*")
	if err != nil {
		panic(err)
	}
	defer sub.Close()

	_ = b.Publish(ctx, "folder:/org/site/station", []byte(`{"type":"ping"}`))
	_ = b.Publish(ctx, "folder:/org/sites", []byte(`{"type":"elsewhere"}`))
	_ = b.Publish(ctx, "folder:/org/site", []byte(`{"type":"pong"}`))
	for range 2 {
		e := <-sub.C()
		fmt.Println(e.Topic, string(e.Payload))
	}
	// Output:
	// folder:/org/site/station {"type":"ping"}
	// folder:/org/site {"type":"pong"}
}
