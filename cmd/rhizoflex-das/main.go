// Command rhizoflex-das is the das stream tools alone (convert, reduce, verify), the same
// as `rhizoflex das`, in a binary that links nothing of the server: it starts in a few
// milliseconds with a few megabytes, for pipelines that run it per file.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/rhizoflex/rhizoflex/streams/dascli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dascli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
