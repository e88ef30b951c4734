package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/dataverse/emulator"
)

func init() { register("emulator", newEmulatorCmd) }

// emulatorOptions are the flags of `ppalm emulator`.
type emulatorOptions struct {
	listen       string
	environments []string
	seeds        []string // env=path.zip
	faults       string
	asyncPolls   int
	// graphForbidden makes Graph answer 403, to try a pipeline whose
	// credential may not read the directory.
	graphForbidden    bool
	powerAppsPageSize int
}

func newEmulatorCmd(f *Factory) *cobra.Command {
	o := &emulatorOptions{}
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Serve an in-memory Dataverse, Power Apps and Graph emulator for testing pipelines",
		Long: `Serve an in-memory Dataverse (Web API), Power Apps admin API and Microsoft Graph
for testing ALM pipelines without a tenant. Environment NAME is served at
http://LISTEN/NAME (Web API under /NAME/api/data/v9.2/), the Power Apps admin API
under /powerapps/, Graph under /graph/v1.0/, and request statistics at
/_emulator/stats. The first line printed is "listening on http://ADDR".
Runs until interrupted.`,
		Example: `  ppalm emulator --listen 127.0.0.1:8080 --environments dev,test,prod --seed dev=MySolution.zip
  ppalm emulator --listen 127.0.0.1:0 --faults "429=0.2,503=0.05,reset=0.02,latency=30ms,seed=7"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEmulator(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to listen on (port 0 picks a free port)")
	fl.StringSliceVar(&o.environments, "environments", []string{"dev", "test", "prod"}, "environment names, comma-separated")
	fl.StringArrayVar(&o.seeds, "seed", nil, "ENV=PATH.zip: import a solution zip into ENV at start (repeatable)")
	fl.StringVar(&o.faults, "faults", "", `inject faults, e.g. "429=0.2,503=0.05,reset=0.02,latency=30ms,seed=7"; also jobfail=P (a system job fails before it starts) and share-delay=D (a share shows D late)`)
	fl.IntVar(&o.asyncPolls, "async-polls", 0, "polls an async operation stays running before it completes (0: 2, negative: at once)")
	fl.BoolVar(&o.graphForbidden, "graph-forbidden", false, "answer every Graph call 403 Authorization_RequestDenied, as for a credential that may not read the directory")
	fl.IntVar(&o.powerAppsPageSize, "powerapps-page-size", 0, "items per page of the Power Apps lists (connections, apps), which page with nextLink (0: 250)")
	return cmd
}

func runEmulator(ctx context.Context, f *Factory, o *emulatorOptions) error {
	seeds := map[string][]string{}
	for _, s := range o.seeds {
		env, path, ok := strings.Cut(s, "=")
		if !ok || env == "" || path == "" {
			return fmt.Errorf("--seed %q: expected ENV=PATH.zip, e.g. dev=MySolution_1_0_0_1.zip", s)
		}
		seeds[env] = append(seeds[env], path)
	}
	emu, err := emulator.New(emulator.Options{Environments: o.environments, Seeds: seeds, Faults: o.faults, AsyncPolls: o.asyncPolls,
		GraphForbidden: o.graphForbidden, PowerAppsPageSize: o.powerAppsPageSize})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("emulator: listen on %s: %w", o.listen, err)
	}
	srv := &http.Server{Handler: emu.Handler(), ReadHeaderTimeout: 30 * time.Second}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(f.Stdout, "listening on %s\n", base)
	for _, name := range o.environments {
		id, _ := emu.EnvironmentID(name)
		fmt.Fprintf(f.Stdout, "environment %s: %s/%s/ (environment id %s)\n", name, base, name, id)
	}
	fmt.Fprintf(f.Stdout, "power apps: %s/powerapps/  graph: %s/graph/v1.0/  stats: %s/_emulator/stats\n", base, base, base)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("emulator: serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("emulator: shut down: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("emulator: serve: %w", err)
	}
	return nil
}
