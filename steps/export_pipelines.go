package steps

// ExportToGitPipeline is the maker's "Commit Solution": from the
// development environment to a branch.
func ExportToGitPipeline() []Step {
	return []Step{
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
		// The version goes in before packing so both zips carry it.
		StampVersion{},
		Pack{},
	}
}
