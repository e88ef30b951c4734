package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
	"github.com/ppalm/ppalm/steps"
)

func init() { register("settings", newSettingsCmd) }

// newSettingsCmd groups the deployment settings commands.
func newSettingsCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "settings",
		Short: "Create and check deploymentSettings.json and customDeploymentSettings.json",
	}
	cmd.AddCommand(newSettingsCreateCmd(f, nil), newSettingsValidateCmd(f, nil))
	return cmd
}

// solutionSource is where a command reads the solution from.
type solutionSource struct {
	ZipFile string
	Folder  string
}

func (s *solutionSource) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.ZipFile, "zipfile", "", "solution zip to read")
	cmd.Flags().StringVar(&s.Folder, "folder", "", "unpacked solution folder (SolutionPackager layout) to read")
	cmd.MarkFlagsMutuallyExclusive("zipfile", "folder")
	cmd.MarkFlagsOneRequired("zipfile", "folder")
}

func (s *solutionSource) read(ctx context.Context) (*solution.Solution, error) {
	return steps.ReadSolution(ctx, s.ZipFile, s.Folder)
}

// settingsCreateOptions are the inputs of `ppalm settings create`.
type settingsCreateOptions struct {
	Source       solutionSource
	Out          string
	CustomOut    string
	Placeholders bool
	Overwrite    bool
	out          *output
}

// settingsCreateDoc is settings create's --output json document.
type settingsCreateDoc struct {
	DeploymentSettings       settingsFileDoc  `json:"deploymentSettings"`
	CustomDeploymentSettings *settingsFileDoc `json:"customDeploymentSettings,omitempty" doc:"with --custom-out"`
}

type settingsFileDoc struct {
	Path    string         `json:"path"`
	Created bool           `json:"created" doc:"written new; false: the file was there and was kept, with entries added"`
	Added   int            `json:"added" doc:"entries added to the file that was there"`
	Entries map[string]int `json:"entries" doc:"entries per section in the file now"`
}

func newSettingsCreateCmd(f *Factory, runF func(context.Context, *settingsCreateOptions) error) *cobra.Command {
	opts := &settingsCreateOptions{}
	cmd := &cobra.Command{
		Use: "create",
		Example: `  ppalm settings create --zipfile MySolution.zip --out deploymentSettings.json --custom-out customDeploymentSettings.json
  ppalm settings create --folder MySolution/SolutionPackage/src --out MySolution/config/test/deploymentSettings.json`,
		Short: "Write deployment settings files listing every configurable part of a solution",
		Long: "Writes deploymentSettings.json as `pac solution create-settings` does (every connection reference and\n" +
			"environment variable, values empty) and, with --custom-out, customDeploymentSettings.json with the\n" +
			"ALM Accelerator's #{token}# placeholders for every cloud flow and canvas app.\n\n" +
			"A file that exists is kept with every value filled in, and gets only the entries it lacks (new\n" +
			"components), as export-to-git does; --overwrite writes it afresh, values empty.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSettingsCreate(cmd.Context(), f, opts)
		},
	}
	opts.Source.addFlags(cmd)
	cmd.Flags().StringVar(&opts.Out, "out", settings.DeploymentSettingsFile, "deploymentSettings.json to write")
	cmd.Flags().StringVar(&opts.CustomOut, "custom-out", "", "customDeploymentSettings.json to write (not written when empty)")
	cmd.Flags().BoolVar(&opts.Placeholders, "placeholders", true, "fill the custom file with #{token}# placeholders; false leaves its values empty")
	cmd.Flags().BoolVar(&opts.Overwrite, "overwrite", false, "write the files afresh, dropping the values of files that exist (kept and completed otherwise)")
	opts.out = addOutputFlag(cmd, settingsCreateDoc{})
	return cmd
}

func runSettingsCreate(ctx context.Context, f *Factory, opts *settingsCreateOptions) error {
	sol, err := opts.Source.read(ctx)
	if err != nil {
		return err
	}
	files, err := steps.CreateSettings(sol, opts.Out, opts.CustomOut, opts.Placeholders, opts.Overwrite)
	if err != nil {
		return err
	}
	ds := files.Deployment
	doc := settingsCreateDoc{DeploymentSettings: settingsFileDoc{Path: opts.Out, Created: files.DeploymentAdded < 0, Added: max(files.DeploymentAdded, 0),
		Entries: map[string]int{"ConnectionReferences": len(ds.ConnectionReferences), "EnvironmentVariables": len(ds.EnvironmentVariables)}}}
	if cds := files.Custom; cds != nil {
		doc.CustomDeploymentSettings = &settingsFileDoc{Path: opts.CustomOut, Created: files.CustomAdded < 0, Added: max(files.CustomAdded, 0),
			Entries: map[string]int{
				"ActivateFlowConfiguration":               len(cds.ActivateFlowConfiguration),
				"SolutionComponentOwnershipConfiguration": len(cds.SolutionComponentOwnershipConfiguration),
				"AadGroupCanvasConfiguration":             len(cds.AadGroupCanvasConfiguration),
				"FlowShareWithGroupTeamConfiguration":     len(cds.FlowShareWithGroupTeamConfiguration),
			}}
	}
	if opts.out.json() {
		return f.writeJSON(doc)
	}
	verb := func(d *settingsFileDoc) string {
		if d.Created {
			return "Wrote " + d.Path
		}
		return fmt.Sprintf("Kept %s with its values, added %d entr%s", d.Path, d.Added, map[bool]string{true: "y", false: "ies"}[d.Added == 1])
	}
	fmt.Fprintf(f.Stdout, "%s: %d connection reference(s), %d environment variable(s)\n",
		verb(&doc.DeploymentSettings), len(ds.ConnectionReferences), len(ds.EnvironmentVariables))
	if cds := files.Custom; cds != nil {
		fmt.Fprintf(f.Stdout, "%s: %d flow activation(s), %d owner(s), %d canvas share(s), %d flow share(s)\n",
			verb(doc.CustomDeploymentSettings), len(cds.ActivateFlowConfiguration), len(cds.SolutionComponentOwnershipConfiguration),
			len(cds.AadGroupCanvasConfiguration), len(cds.FlowShareWithGroupTeamConfiguration))
	}
	return nil
}

// settingsValidateOptions are the inputs of `ppalm settings validate`.
type settingsValidateOptions struct {
	Source         solutionSource
	Settings       string
	CustomSettings string
	// ConfigDir and EnvironmentName find the files with the Accelerator's
	// look-up order when Settings/CustomSettings are not given.
	ConfigDir       string
	EnvironmentName string
	FillTokens      bool
	// Strict keeps every token without a value an error; otherwise
	// (--fill-tokens) the Accelerator's semantics apply, as in import.
	Strict bool
	// Conn is the target environment; with --environment the settings are
	// also checked against it (steps.ValidateAgainstTarget).
	Conn *connectionFlags
	// TargetChecks run after the offline checks; runSettingsValidate adds
	// the target's checks when --environment is given.
	TargetChecks []settings.Checker
	out          *output
}

// settingsValidateDoc is settings validate's --output json document.
type settingsValidateDoc struct {
	Solution     string       `json:"solution" doc:"unique name"`
	Version      string       `json:"version"`
	Target       string       `json:"target,omitempty" doc:"the environment checked against (--environment)"`
	TokensFilled bool         `json:"tokensFilled" doc:"#{tokens}# were filled from the environment, as a deployment fills them"`
	Valid        bool         `json:"valid" doc:"no problem of severity error (exit code 0; 2 otherwise)"`
	Problems     []problemDoc `json:"problems"`
	Warnings     []string     `json:"warnings" doc:"what ppalm does not use, tokens not checked"`
	Notes        []string     `json:"notes" doc:"what the deployment would do with the files, as the Accelerator did: a file not found for the environment, a token taken as empty, an entry left empty and so not configured"`
}

type problemDoc struct {
	Severity  string `json:"severity" doc:"error or warning"`
	Check     string `json:"check" doc:"stable id of the check, e.g. missing-value"`
	File      string `json:"file"`
	Entry     string `json:"entry" doc:"JSON path, e.g. ConnectionReferences[0].ConnectionId"`
	Component string `json:"component"`
	Message   string `json:"message"`
}

// targetChecks are the checks of settings against the target environment
// (connections exist for the right connector, users and groups exist); they
// only read.
type targetChecks struct{ dv *dataverse.Client }

func (t targetChecks) Check(ctx context.Context, sol *solution.Solution, ds *settings.DeploymentSettings, cds *settings.CustomDeploymentSettings) ([]settings.Problem, error) {
	return steps.ValidateAgainstTarget(ctx, t.dv, sol, ds, cds), nil
}

func newSettingsValidateCmd(f *Factory, runF func(context.Context, *settingsValidateOptions) error) *cobra.Command {
	opts := &settingsValidateOptions{}
	cmd := &cobra.Command{
		Use: "validate",
		Example: `  ppalm settings validate --zipfile MySolution_managed.zip --settings deploymentSettings.json --custom-settings customDeploymentSettings.json

  # also check the connections, users and groups in the target
  ppalm settings validate --zipfile MySolution_managed.zip --settings deploymentSettings.json --environment https://contoso-test.crm.dynamics.com`,
		Short: "Check deployment settings against a solution and, with --environment, against the target",
		Long: "Checks that every connection reference and environment variable of the solution has a value of the\n" +
			"right type, that entries name components the solution has, and that flow orders, canvas roles and\n" +
			"group ids are well formed. With --environment it also checks the target, changing nothing: each\n" +
			"connection exists there for the right connector, and the users and Entra groups named exist (when\n" +
			"Microsoft Graph refuses to let the credential read the directory, groups are a warning, not checked).\n\n" +
			"#{name}# tokens are filled from the environment first, as import fills them (an unset one is empty,\n" +
			"so a value import would refuse is refused here too); --fill-tokens=false checks the files as written\n" +
			"and lists the tokens it could not check.\n\n" +
			"Prints every problem. Exit codes: 0 valid; 2 problems to fix; 1 the check could not run.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSettingsValidate(cmd.Context(), f, opts)
		},
	}
	opts.Source.addFlags(cmd)
	cmd.Flags().StringVar(&opts.Settings, "settings", "", "deploymentSettings.json to check")
	cmd.Flags().StringVar(&opts.CustomSettings, "custom-settings", "", "customDeploymentSettings.json to check")
	cmd.Flags().StringVar(&opts.ConfigDir, "config", "", "config directory to find the files in (Accelerator look-up order) when --settings is not given")
	cmd.Flags().StringVar(&opts.EnvironmentName, "environment-name", "", "environment name for the --config look-up (e.g. Test)")
	cmd.Flags().BoolVar(&opts.FillTokens, "fill-tokens", true, "replace #{name}# tokens from environment variables before checking, as a deployment does; false checks the files as written")
	cmd.Flags().BoolVar(&opts.Strict, "strict", false, "with --fill-tokens, a #{token}# without a value is an error (otherwise, as in the Accelerator and import, it is empty and a customDeploymentSettings entry left empty is skipped as not configured)")
	opts.Conn = addConnectionFlags(cmd)
	opts.out = addOutputFlag(cmd, settingsValidateDoc{})
	return cmd
}

func runSettingsValidate(ctx context.Context, f *Factory, opts *settingsValidateOptions) error {
	if opts.Conn != nil && opts.Conn.environment != "" && !strings.Contains(opts.Conn.environment, "://") {
		return fmt.Errorf("validate settings: --environment %q is not an environment URL (https://org.crm.dynamics.com); the environment name for --config is --environment-name", opts.Conn.environment)
	}
	noDeployment := false
	var notes []string
	if opts.Settings == "" && opts.CustomSettings == "" {
		if opts.ConfigDir == "" {
			return errors.New("validate settings: give --settings and/or --custom-settings, or --config with --environment-name")
		}
		loc, err := settings.Locate(opts.ConfigDir, opts.EnvironmentName)
		if err != nil {
			return fmt.Errorf("validate settings: %w", err)
		}
		if loc.DeploymentSettings == "" && loc.CustomDeploymentSettings == "" && opts.EnvironmentName == "" {
			return fmt.Errorf("validate settings: no deploymentSettings.json or customDeploymentSettings.json in %s: pass --environment-name NAME to read %s", opts.ConfigDir, filepath.Join(opts.ConfigDir, "NAME"))
		}
		// Each file is optional, as in the Accelerator's look-up; a
		// missing deploymentSettings.json is checked as an empty one, so
		// what the solution still needs is named.
		if loc.DeploymentSettings == "" {
			notes = append(notes, fmt.Sprintf("no deploymentSettings.json for environment %q in %s: checking the solution's needs against none", opts.EnvironmentName, opts.ConfigDir))
			noDeployment = true
		}
		if loc.CustomDeploymentSettings == "" {
			notes = append(notes, fmt.Sprintf("no customDeploymentSettings.json for environment %q in %s: nothing to configure after the import", opts.EnvironmentName, opts.ConfigDir))
		}
		opts.Settings, opts.CustomSettings = loc.DeploymentSettings, loc.CustomDeploymentSettings
	}
	target := ""
	if opts.Conn != nil && opts.Conn.environment != "" {
		dv, err := opts.Conn.client(ctx, f)
		if err != nil {
			return fmt.Errorf("validate settings: %w", err)
		}
		target = dv.EnvironmentURL()
		opts.TargetChecks = append(opts.TargetChecks, targetChecks{dv: dv})
	}
	sol, err := opts.Source.read(ctx)
	if err != nil {
		return err
	}
	lookup := lookupEnv(f)
	var problems []settings.Problem
	var warnings []settings.Warning
	var ds *settings.DeploymentSettings
	var cds *settings.CustomDeploymentSettings
	if opts.FillTokens && !opts.Strict {
		// The deployment's own reading, so the check says what the
		// import and configure will do.
		var err error
		if ds, cds, warnings, err = steps.LoadSettingsWith(opts.Settings, opts.CustomSettings, lookup, steps.LoadOptions{}); err != nil {
			return fmt.Errorf("validate settings: %w", err)
		}
	}
	if opts.Settings != "" && ds == nil {
		data, err := readSettingsFile(opts.Settings, opts.FillTokens, lookup, &problems)
		if err != nil {
			return err
		}
		if data != nil {
			var w []settings.Warning
			if ds, w, err = settings.ParseDeploymentSettings(opts.Settings, data); err != nil {
				return fmt.Errorf("validate settings: %w", err)
			}
			warnings = append(warnings, w...)
		}
	}
	if opts.CustomSettings != "" && cds == nil {
		data, err := readSettingsFile(opts.CustomSettings, opts.FillTokens, lookup, &problems)
		if err != nil {
			return err
		}
		if data != nil {
			var w []settings.Warning
			if cds, w, err = settings.ParseCustomDeploymentSettings(opts.CustomSettings, data); err != nil {
				return fmt.Errorf("validate settings: %w", err)
			}
			warnings = append(warnings, w...)
		}
	}
	if noDeployment && ds == nil {
		ds = &settings.DeploymentSettings{File: filepath.Join(opts.ConfigDir, opts.EnvironmentName, settings.DeploymentSettingsFile) + " (missing)"}
	}
	problems = append(problems, settings.Validate(sol, ds, cds)...)
	for _, c := range opts.TargetChecks {
		more, err := c.Check(ctx, sol, ds, cds)
		if err != nil {
			return fmt.Errorf("validate settings: %w", err)
		}
		problems = append(problems, more...)
	}
	doc := settingsValidateDoc{Solution: sol.UniqueName, Version: sol.Version, Target: target, TokensFilled: opts.FillTokens,
		Valid: !settings.HasErrors(problems), Problems: []problemDoc{}, Warnings: []string{}, Notes: append([]string{}, notes...)}
	for _, w := range warnings {
		if w.Notice {
			// What was done with the file, as the Accelerator would
			// have: a note, not a warning.
			doc.Notes = append(doc.Notes, w.String())
			continue
		}
		doc.Warnings = append(doc.Warnings, w.String())
	}
	if !opts.FillTokens {
		// Tokens pass the checks as written; say which were not checked,
		// since import fills them and refuses those left empty.
		for _, path := range []string{opts.Settings, opts.CustomSettings} {
			if path == "" {
				continue
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			if _, names := settings.FillTokensLenient(raw, func(string) (string, bool) { return "", false }); len(names) > 0 {
				doc.Warnings = append(doc.Warnings, fmt.Sprintf("%s: %d value(s) are #{tokens}# and were not checked (%s): import fills them from the environment and refuses those left empty; drop --fill-tokens=false to check them",
					path, len(names), strings.Join(names, ", ")))
			}
		}
	}
	for _, p := range problems {
		doc.Problems = append(doc.Problems, problemDoc{Severity: p.Severity.String(), Check: p.Check, File: p.File, Entry: p.Entry, Component: p.Component, Message: p.Message})
	}
	if opts.out.json() {
		if err := f.writeJSON(doc); err != nil {
			return err
		}
	} else {
		if target == "" {
			f.reporter().Info("offline checks only: pass --environment URL to also check connections, users and groups in the target")
		}
		for _, n := range doc.Notes {
			fmt.Fprintf(f.Stdout, "note: %s\n", n)
		}
		for _, w := range doc.Warnings {
			fmt.Fprintf(f.Stdout, "warning: %s\n", w)
		}
		for _, p := range problems {
			fmt.Fprintf(f.Stdout, "%s: %s\n", p.Severity, p)
		}
	}
	if !doc.Valid {
		n := 0
		for _, p := range problems {
			if p.Severity == settings.SeverityError {
				n++
			}
		}
		return &ExitError{Code: ExitCheckFailed, Err: fmt.Errorf("validate settings: %d problem(s) to fix", n)}
	}
	if opts.out.json() {
		return nil
	}
	scope := ""
	if target != "" {
		scope = " and target " + target
	}
	how := ""
	if !opts.FillTokens {
		how = " (as written: tokens not filled)"
	}
	fmt.Fprintf(f.Stdout, "Settings are valid for solution %s %s%s%s\n", sol.UniqueName, sol.Version, scope, how)
	return nil
}

// readSettingsFile reads a settings file and, if asked, fills its tokens;
// missing token values become one problem and a nil result.
func readSettingsFile(path string, fill bool, lookup settings.LookupFunc, problems *[]settings.Problem) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("validate settings: %w", err)
	}
	if !fill {
		return data, nil
	}
	filled, err := settings.FillTokens(path, data, lookup)
	var missing *settings.MissingTokensError
	if errors.As(err, &missing) {
		*problems = append(*problems, settings.Problem{Check: "missing-token", File: path, Message: missing.Error()[len(path)+2:]})
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("validate settings: %w", err)
	}
	return filled, nil
}
