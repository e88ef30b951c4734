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

// ConfigurePipeline is the post-import configuration of an installed
// solution (ppalm configure), in the same order as in DeployPipeline.
func ConfigurePipeline() []Step {
	return []Step{
		// Endpoint URLs and plug-in step configuration first: the import
		// left the development environment's values in place.
		WebhookURLs{},
		PluginStepConfig{},
		// Group teams before anything is shared with the groups.
		Teams{},
		// Canvas app shares with Entra groups.
		ShareApps{},
		// Flow and custom connector shares with the group teams above.
		ShareFlows{},
		ShareConnectors{},
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
