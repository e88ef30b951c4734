// Command ppalm is Power Platform ALM in one binary: export, unpack, commit,
// pack, import and configure Dataverse solutions from any CI host or a terminal.
package main

import (
	"os"

	"github.com/ppalm/ppalm/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
