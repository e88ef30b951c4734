// Command gentaskdefs writes the inputs of task.json and action.yml from
// ppalm's command tree (see package taskdefs). Run it from the repository
// root after adding or changing a flag:
//
//	go run ./scripts/gentaskdefs          # rewrite task.json and action.yml
//	go run ./scripts/gentaskdefs -check   # exit 1 when either file is stale
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ppalm/ppalm/cli"
	"github.com/ppalm/ppalm/taskdefs"
)

func main() {
	check := flag.Bool("check", false, "only report whether task.json and action.yml are up to date")
	dir := flag.String("dir", ".", "repository root")
	flag.Parse()
	if err := run(*dir, *check); err != nil {
		fmt.Fprintln(os.Stderr, "gentaskdefs:", err)
		os.Exit(1)
	}
}

func run(dir string, check bool) error {
	taskPath, actionPath := dir+string(os.PathSeparator)+"task.json", dir+string(os.PathSeparator)+"action.yml"
	current, err := os.ReadFile(taskPath)
	if err != nil {
		return err
	}
	root := cli.NewRoot(&cli.Factory{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }})
	tj, ay, err := taskdefs.Generate(root, current)
	if err != nil {
		return err
	}
	var stale []string
	for path, want := range map[string][]byte{taskPath: tj, actionPath: ay} {
		have, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		if bytes.Equal(have, want) {
			continue
		}
		if check {
			stale = append(stale, path)
			continue
		}
		if err := os.WriteFile(path, want, 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", path)
	}
	if len(stale) > 0 {
		return fmt.Errorf("%v out of date with the CLI: run go run ./scripts/gentaskdefs", stale)
	}
	return nil
}
