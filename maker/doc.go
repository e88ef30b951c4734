// Package maker is `ppalm maker`: the web app makers use instead of git,
// pipelines and YAML (the ALM Accelerator's maker app, screen by screen as
// ../shared/spec/seed.md walks it).
//
// # Structure (for whoever adds a screen)
//
//   - server.go: Options (what the app talks to), New, the one route table
//     (Server.routes: add a screen's GET and POST lines there), ServeHTTP
//     (guards, then routes), render and the page struct every template gets.
//   - security.go: the guards every request passes: the Host check against
//     DNS rebinding, the session cookie, the CSRF token (HMAC of the session
//     with a per-process key) required on every request but GET and HEAD,
//     and the Origin check. A form includes
//     <input type="hidden" name="csrf" value="{{.CSRF}}">.
//   - The maker's identity is Options.Maker (commit author, the name in the
//     history, what a profile's makers and advanced lists name). Their
//     preferences (the chosen environment) live in a cookie; nothing else is
//     kept by the app.
//   - web/layout.html is the one layout (banner, navigation, main landmark,
//     the aria-live waiting indicator); web/pages/NAME.html defines
//     "content" for page NAME and is parsed at start-up. Field errors sit in
//     page.Errors[field] and are shown beside the field with aria-invalid
//     and aria-describedby. web/static holds app.css and app.js (no CDN, no
//     build step); a form with data-waiting="text" shows the indicator.
//   - profiles.go: .ppalm/profiles.yaml on the default branch (see below).
//   - state.go: .ppalm/solutions/<Solution>/solution.yaml on the default
//     branch: the solution's profile and its requests (the history), written
//     by a commit like any other change.
//   - actions.go: the screens' handlers; every action calls the steps/
//     entry points (steps.ExportToGit, steps.RunBuild, steps.DeployPipeline)
//     and devops.Client, never a second implementation.
//   - demo.go: --demo's services (emulator, git server, GitHub stand-in).
//
// # Profiles file
//
//	profiles:
//	  - name: Contoso ALM
//	    host: github            # azure-devops (organization, project, repository), github (repository: owner/name) or local
//	    repository: contoso/alm
//	    targetBranch: main      # default main
//	    exportPipeline: export-solution-to-git.yml
//	    steps:                  # deployment steps, in order
//	      - environment: test   # an environment name the app knows
//	        url: https://contoso-test.crm.dynamics.com
//	        approval: pull-request   # or environment
//	        pipeline: deploy-test.yml
//	    makers: [alex@contoso.com]   # who may use it; empty: everyone
//	    advanced: [alex@contoso.com] # who sees the advanced options
//
// Unknown fields are errors naming the profile and field.
//
// # What runs where
//
// Commit runs export-to-git in the app for a local profile (and in --demo,
// where no pipeline runner exists, Options.RunsPipelines); on a pipeline host
// it queues the profile's exportPipeline (devops.Client.QueueRun: GitHub
// workflow_dispatch with the inputs solution-name, commit-message, branch).
// A pull-request step creates or reuses the pull request through
// devops.Client, labelled solution-upgrade when asked, its description
// listing the components; an environment step runs build and deploy in the
// app (local, --demo) or queues the step's pipeline (inputs solution-name,
// environment, upgrade), whose environment approval then applies. Queueing
// an Azure DevOps pipeline is not built yet and says so.
package maker
