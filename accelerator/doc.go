// Package accelerator is what ppalm knows of the ALM Accelerator for Power
// Platform (AA4PP) as a team leaving it has it: its pipeline control
// variables, with their defaults and what ppalm does with each (Variables,
// Values), and its repository layout, which Inspect reads to say what a
// team finds, what ppalm will do with it and what, if anything, must change
// (ppalm migrate).
//
// # Sources
//
// Everything here is taken from the Accelerator's last pipeline release,
// microsoft/coe-alm-accelerator-templates at 59abea30f78b ("March2024"):
//
//   - Pipelines/Templates/deploy-Solution.yml: SkipSolutionImport,
//     ActivateFlowsOnTheSolutionImport (ActivatePlugins of the import task,
//     and disable-flows.yml before a managed import), TriggerSolutionUpgrade
//     (unset is false), OverwriteUnmanagedCustomizations (a template
//     parameter, default 'true'), BypassAppConsent (consent-canvas-app.yml),
//     EnableFlows (activate-flows.yml and canvas-ownership.yml), the
//     replacetokens step with an empty defaultValue (an undefined variable is an
//     empty string);
//   - Pipelines/Templates/build-deploy-Solution-To-Environment-Common.yml:
//     ImportUnmanaged (unset is false: '$(ImportUnmanaged)'.Contains test);
//   - Pipelines/Templates/build-Solution.yml and
//     PowerShell/build-deploy-solution-functions.ps1: the version stamped
//     only into a tree at 0.0.0.0 (Update-Solution-Xml-With-Build-Number),
//     the settings look-up <name>-<env>.json, <env>/<name>.json, <name>.json
//     with each file optional (Get-Does-Deployment-Settings-Exist), the old
//     canvas source folders *_msapp_src (Invoke-Process-Old-Canvas-Code-
//     Folder-Structure);
//   - PowerShell/code-first-functions.ps1 Invoke-Restructure-Legacy-Folders:
//     a tree unpacked directly under SolutionPackage/ (no src/, no .cdsproj);
//   - Pipelines/Templates/export-Solution.yml and
//     PowerShell/export-solution-functions.ps1: CommitScope (1 solution and
//     settings, 2 solution only, 3 settings only),
//     DoNotExportCurrentEnvironmentVariableValues,
//     UseSolutionVersionFromDataverse, PublishCustomizationsBeforeExport,
//     GenerateDeploymentSettings, DisableFlows, ProcessCanvasApps and
//     VerifyDefaultEnvironmentVariableValues with the root config's
//     DefaultEnvironmentVariables (Invoke-Verify-Default-Environment-
//     Variables-Are-Set, which never ran: it reads the file through the
//     PowerShell sub-expression $(outDefaultEnvironmentVariables));
//   - Pipelines/build-deploy-{validation,test,prod}-SampleSolution.yml: one
//     pipeline per environment, run name 1.0.$(Date:yyyyMMdd)$(Rev:.r), the
//     variable group alm-accelerator-variable-group plus the definition
//     variables EnvironmentName, ServiceConnection and ServiceConnectionUrl
//     the export wrote (PowerShell/update-deployment-settings.ps1);
//   - Pipelines/Templates/Hooks/*.yml: the 17 hook templates teams edited.
//
// Unset variables were detected by the macro text surviving expansion; ppalm
// reads a variable through settings.Lookup (the name as written, its Azure
// DevOps and GitHub spellings, SECRET_<NAME>, PPALM_VARIABLES and
// PPALM_SECRETS), where an empty value is unset.
package accelerator
