package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/pkg/browser"
	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/maker"
)

func init() { register(newMakerCmd) }

func newMakerCmd(f *Factory) *cobra.Command {
	var listen, repo string
	var demo, noBrowser bool
	cmd := &cobra.Command{
		Use:     "maker [--demo] [--listen ADDR] [--no-browser]",
		Example: "  go run ./cmd/ppalm maker --demo",
		Short:   "Serve the maker app: commit, deploy, delete, import and request history without git or YAML",
		Long: "Serves the maker app on a loopback address and prints `maker app on http://ADDR/`.\n" +
			"--demo starts the Dataverse emulator (dev seeded), a git server and a GitHub stand-in, and\n" +
			"opens the app with dev already chosen.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if !demo {
				return fmt.Errorf("maker: --repo %q: signing in as the maker (local mode) is not built yet; use --demo", repo)
			}
			host, _, err := net.SplitHostPort(listen)
			if err != nil || !net.ParseIP(host).IsLoopback() {
				return fmt.Errorf("--listen %q: expected a loopback address such as 127.0.0.1:0", listen)
			}
			d, err := maker.StartDemo(ctx)
			if err != nil {
				return err
			}
			defer d.Close()
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			app, err := maker.New(ln.Addr().String(), d.Options)
			if err != nil {
				return err
			}
			url := "http://" + ln.Addr().String() + "/"
			srv := &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second}
			go func() {
				<-ctx.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(sctx)
			}()
			fmt.Fprintf(f.Stdout, "maker app on %s\n", url)
			if !noBrowser {
				_ = browser.OpenURL(url + "start?environment=dev")
			}
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&listen, "listen", "127.0.0.1:0", "loopback address to serve on")
	fl.StringVar(&repo, "repo", "", "the team's repository (local mode)")
	fl.BoolVar(&demo, "demo", false, "run on the built-in emulator, git server and GitHub stand-in")
	fl.BoolVar(&noBrowser, "no-browser", false, "do not open a browser")
	return cmd
}
