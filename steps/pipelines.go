package steps

// The pipelines: every ordered list of steps ppalm runs, in one place.

// ExportToGitPipeline is the maker's "Commit Solution": from the
// development environment to a branch.
func ExportToGitPipeline() []Step {
	return []Step{
		// Cheap and first: a --repo that is not a repository, or a remote
		// that refuses the credentials, fails in a second, not after
		// minutes of publishing and exporting.
		CheckRepo{},
		// Publish first so the export carries unpublished app and form edits.
		Publish{},
		// Both kinds, so the tree holds the managed variants too (Both).
		Export{},
		// The branch's folder is read before anything is written, so config/
		// and files beside the tree survive the replace.
		Checkout{},
		// The unpack replaces SolutionPackage/src exactly: dropped
		// components disappear from source.
		Unpack{},
		// Remove per-export noise (version, dev variable values) before the
		// diff is taken.
		Normalize{},
		// New environments and new components get tokenised settings entries.
		DeploymentSettingsFiles{},
		// Last: one commit of everything above, pushed.
		Commit{},
	}
}

// BuildPipeline turns the tree in git into the zips a deployment imports.
func BuildPipeline() []Step {
	return []Step{
		// First the tree: a legacy layout is found, and what the packer
		// cannot use fails the build before anything is written.
		Layout{},
		// The version goes in before packing so both zips carry it.
		StampVersion{},
		Pack{},
		// Last, and never failing the build: what the tree changes against
		// the branch it goes to, for the reviewer, in the run summary.
		CompareStep{},
	}
}

// ImportPipeline imports a solution (ppalm import).
func ImportPipeline() []Step {
	return []Step{
		// Cheap and offline first, then read-only against the target: every
		// unbound connection reference, empty environment variable and
		// wrong customDeploymentSettings entry is reported before anything
		// is sent.
		SettingsCheck{},
		// Only when asked (ActivateFlowsOnTheSolutionImport=false): the
		// import must find the flows off.
		DeactivateFlows{},
		// The import binds connection references and sets environment
		// variable values atomically through ComponentParameters.
		Import{},
	}
}

// DeployPipeline imports a solution and configures it in the target.
func DeployPipeline() []Step {
	// Then everything the import cannot carry, in configure's order.
	return append(ImportPipeline(), ConfigurePipeline()...)
}

// ConfigurePipeline is the post-import configuration of an installed
// solution (ppalm configure), and the tail of DeployPipeline.
func ConfigurePipeline() []Step {
	return []Step{
		// The import wrote the package's endpoint URLs and plug-in step
		// configuration (the development environment's): replace them
		// before anything else so events reach the target's endpoints.
		WebhookURLs{},
		PluginStepConfig{},
		// Teams come first so the groups they stand for exist as principals
		// before anything is shared with or owned by them.
		Teams{},
		// Sharing needs the imported canvas apps.
		ShareApps{},
		// Consent bypass after sharing, as the Accelerator ordered them;
		// only when asked (BypassAppConsent).
		BypassAppConsent{},
		// Flows and custom connectors are shared with the teams created
		// above (GrantAccess needs the team to exist).
		ShareFlows{},
		ShareConnectors{},
		// Owners are set before activation: reassigning turns a flow off,
		// and activate-flows turns it on again.
		SetFlowOwners{},
		// Last: activation needs bound connections, owners and child flows
		// in place, and its failures are the most common ones.
		ActivateFlows{},
	}
}
