// Package templates holds the pipeline templates teams extend or call:
// azure-devops/ (Azure Pipelines YAML templates, with steps/ holding the
// step templates they include) and github/ (reusable workflows and caller
// examples). The package has no Go code of its own; its tests run the
// templates' steps as an agent or a runner would, with the environment the
// host gives each step, against the Dataverse emulator.
package templates
