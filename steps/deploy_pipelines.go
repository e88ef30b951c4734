package steps

// DeployPipeline imports a solution and configures it in the target.
func DeployPipeline() []Step {
	return []Step{
		// Cheap and offline: every unbound connection reference and empty
		// environment variable is reported before anything is sent.
		SettingsCheck{},
		// The import binds connection references and sets environment
		// variable values atomically through ComponentParameters.
		Import{},
		// Teams come first so the groups they stand for exist as principals
		// before anything is shared with or owned by them.
		Teams{},
		// Sharing needs the imported canvas apps.
		ShareApps{},
		// Owners are set before activation: reassigning turns a flow off,
		// and activate-flows turns it on again.
		SetFlowOwners{},
		// Last: activation needs bound connections, owners and child flows
		// in place, and its failures are the most common ones.
		ActivateFlows{},
	}
}

// ConfigurePipeline is the post-import configuration of an installed
// solution (ppalm configure), in the same order as in DeployPipeline.
func ConfigurePipeline() []Step {
	return []Step{
		// Group teams before anything is shared with the groups.
		Teams{},
		// Canvas app shares with Entra groups.
		ShareApps{},
		// Owners before activation (reassignment turns flows off).
		SetFlowOwners{},
		// Activation last, children before parents.
		ActivateFlows{},
	}
}

// ConfigureStep returns the configure step with the given name.
func ConfigureStep(name string) (Step, bool) {
	for _, s := range ConfigurePipeline() {
		if s.Name() == name {
			return s, true
		}
	}
	return nil, false
}
