// Command rhizoflex is the lab data hub and das stream server. See server.Main.
package main

import (
	"os"

	"github.com/rhizoflex/rhizoflex/server"
)

func main() { os.Exit(server.Main(os.Args[1:])) }
