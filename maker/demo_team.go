package maker

import (
	"context"
	"fmt"
	"time"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/entra/entratest"
	"github.com/ppalm/ppalm/maker/teamauth"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

// DemoClientID is the demo's app registration in its Entra stand-in.
const DemoClientID = "7d1c9f0e-0000-4000-8000-00000000d3e0"

// Team turns the demo into team mode served at publicURL
// (http://127.0.0.1:PORT, the address the app listens on): an Entra
// stand-in (entratest) with the emulator's people as its users, in the
// emulator's groups, and the app registered with publicURL's redirect
// URIs. Makers sign in on the stand-in's page, and the app calls the
// emulator on their behalf, as the real team mode calls Dataverse.
func (d *Demo) Team(ctx context.Context, publicURL string) (Options, error) {
	cfg, err := d.teamSignIn(publicURL)
	if err != nil {
		return Options{}, err
	}
	return d.teamOptions(ctx, cfg)
}

// teamSignIn starts the Entra stand-in (once) and registers the app for
// publicURL: the sign-in every replica of the demo's team mode shares.
func (d *Demo) teamSignIn(publicURL string) (teamauth.Config, error) {
	if d.Entra == nil {
		d.Entra = entratest.Start(entratest.Options{})
		d.stops = append(d.stops, d.Entra.Close)
		for _, u := range []emulator.User{emulator.Maker, emulator.Admin, emulator.FlowOwner, emulator.NoAccess} {
			d.Entra.AddUser(entratest.User{ObjectID: u.ObjectID, UPN: u.Email, Name: u.Name, Groups: emulator.MemberGroupsOf(u.ObjectID)})
		}
	}
	secret := randomHex()
	d.Entra.AddApp(entratest.App{ClientID: DemoClientID, Secret: secret, GroupClaims: true,
		RedirectURIs:   []string{publicURL + teamauth.CallbackPath, publicURL + teamauth.SignedOutPath},
		IdentifierURIs: []string{"api://" + DemoClientID}})
	keys, err := teamauth.ParseSessionKeys(teamauth.GenerateSessionKey())
	if err != nil {
		return teamauth.Config{}, err
	}
	return teamauth.Config{PublicURL: publicURL, TenantID: d.Entra.TenantID, ClientID: DemoClientID, ClientSecret: secret,
		AuthorityHost: d.Entra.AuthorityHost(), SessionKeys: keys, HTTPClient: d.Entra.HTTPClient()}, nil
}

// teamOptions is one replica's options for the sign-in cfg.
func (d *Demo) teamOptions(ctx context.Context, cfg teamauth.Config) (Options, error) {
	// Makers develop in dev; test and prod are the deployment steps'.
	envs := map[string]string{}
	for _, e := range d.Options.Environments {
		if e.Name == "dev" {
			envs[e.Name] = e.URL
		}
	}
	o, err := NewTeam(ctx, TeamOptions{
		SignIn: cfg, Repo: d.RepoURL, DefaultBranch: d.Options.DefaultBranch, Environments: envs,
		GitToken:         func(context.Context) (string, error) { return d.Options.Token, nil },
		GitHubToken:      func(context.Context) (string, error) { return d.GitHub.Token, nil },
		GitHubAPIURL:     d.GitHub.APIURL(),
		DataverseOptions: []dataverse.Option{dataverse.WithPollInterval(20 * time.Millisecond)},
		Now:              cfg.Now,
	})
	if err != nil {
		return Options{}, err
	}
	// What the demo has that a team's deployment has elsewhere: no pipeline
	// runner, so the app deploys, as a pipeline would: with the pipeline's
	// own identity (the emulator's service principal, which may act for
	// the connections' owner); the demo's settings values; and the GitHub
	// stand-in as the repository's host.
	o.Token, o.RunsPipelines, o.RepositoryHost = d.Options.Token, true, d.Options.RepositoryHost
	o.Team.connect = func(name, _ string) (Environment, error) {
		for _, e := range d.Options.Environments {
			if e.Name == name {
				return e, nil
			}
		}
		return Environment{}, fmt.Errorf("environment %s of the profile is not one the demo has", name)
	}
	o.Variables = func(ctx context.Context, env string, sol *solution.Solution) (settings.LookupFunc, error) {
		for _, e := range d.Options.Environments {
			if e.Name == env {
				vars, err := demoVariables(ctx, e.Client, env, sol)
				return func(name string) (string, bool) { v, ok := vars[name]; return v, ok }, err
			}
		}
		return nil, fmt.Errorf("no environment %s", env)
	}
	return o, nil
}
