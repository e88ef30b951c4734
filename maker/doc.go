// Package maker is `ppalm maker`: the web app makers use instead of git,
// pipelines and YAML (the ALM Accelerator's maker app, screen by screen as
// ../shared/spec/seed.md walks it).
//
// # Structure (for whoever adds a screen)
//
//   - server.go: Options (what the app talks to), New, the one route table
//     (Server.routes: add a screen's GET and POST lines there), ServeHTTP
//     (guards, then routes), render and the page struct every template gets.
//   - security.go: the guards every request passes in local mode: the Host
//     check against DNS rebinding, the session cookie, the CSRF token (HMAC
//     of the session with a per-process key) required on every request but
//     GET and HEAD, and the Origin check (teamauth.CheckCSRF, the rule team
//     mode applies to its own session's token). A form includes
//     <input type="hidden" name="csrf" value="{{.CSRF}}">.
//   - Who a request acts for is s.who(ctx), an Identity (commit author, the
//     name in the history, what a profile's makers and advanced lists and
//     the file's admins name: sign-in name, object id, Entra groups). In
//     local mode and --demo that is Options.Maker (with MakerObjectID and
//     Groups, asked of Graph when a check needs them); in team mode the
//     maker signed in on the request. Handlers never read Options.Maker.
//     access.go holds the checks; they run in the server on every request.
//     The maker's preferences (the chosen environment) live in a cookie;
//     nothing else is kept by the app.
//   - web/layout.html is the one layout (banner, navigation, main landmark,
//     the aria-live waiting indicator); web/pages/NAME.html defines
//     "content" for page NAME and is parsed at start-up. Field errors sit in
//     page.Errors[field] and are shown beside the field with aria-invalid
//     and aria-describedby. web/static holds app.css and app.js (no CDN, no
//     build step); a form with data-waiting="text" shows the indicator.
//   - Tokens: Options.Token or Options.TokenSource (asked before each git
//     operation) and whatever RepoHost and the Dataverse clients hold stay in
//     the process. Every token the app is handed is scrubbed from errors
//     before they reach a page or the history (Server.scrub).
//   - profiles.go: .ppalm/profiles.yaml on the default branch (see below).
//   - state.go: .ppalm/solutions/<Solution>/solution.yaml on the default
//     branch: the solution's profile and its requests (the history), written
//     by a commit like any other change. Server.read fetches the whole
//     .ppalm folder with one shallow clone per page.
//   - actions.go: the screens' handlers; every action calls the steps/
//     entry points (steps.ExportToGit, steps.RunBuild, steps.DeployPipeline,
//     steps.DeleteSolution)
//     and devops.Client, never a second implementation.
//   - history.go: the Request History and the solution list's last request,
//     with the state the repository host reports now for queued runs
//     (devops.Client.RunState) and pull requests (devops.Client.PullRequest),
//     plus the host's own runs and commits of the solution
//     (devops.Client.History). A page showing an unfinished run refreshes
//     itself (meta refresh, every 10 s), no script needed.
//   - configure.go: Configure Deployment Settings (the link under a
//     solution's name), one deployment environment of the solution's profile
//     at a time: the environment's tokenised settings files on the
//     solution's branch (steps.TokenizedEnvironmentSettings,
//     steps.CommitEnvironmentSettings), their values where the profile's
//     deployment reads them (configure_store.go: the repository host's
//     pipeline variables through devops.Client, or for a local profile
//     Options.LocalVariables, the localvars store), the target's pickers
//     (connections, users, roles, Graph groups, SharePoint sites and lists)
//     and the checks of ppalm settings validate --environment
//     (settings.Validate, steps.ValidateAgainstTarget) on the settings as
//     the deployment will read them. Its comment lists the form's fields.
//   - demo.go: --demo's services (emulator, git server, GitHub stand-in,
//     whose test and prod environments hold the values the demo's
//     deployments read, as a GitHub deployment job reads them).
//   - admin.go: profile administration (GET /admin, /admin/profiles/…),
//     for the admins the profiles file names: create and edit profiles,
//     look people and groups up in the directory, save the file by a commit
//     (gitops KeepOthers: the solutions' state beside it stays) or a pull
//     request on Options.RepositoryHost; a form from a file changed since
//     is refused.
//   - team.go: team mode (Options.Team, NewTeam): teamauth's sign-in in
//     front of every route but /healthz and /static, every call on behalf of
//     the signed-in maker (see the comment at its top); demo_team.go is
//     --demo --team on an Entra stand-in.
//   - local.go: local mode, `ppalm maker --repo URL` on a maker's machine
//     (Local): the signed-in maker's azidentity credential for Dataverse and
//     Azure DevOps (Bearer, scope 499b84ac-…/.default; Azure Repos takes the
//     same token as the git password), the maker's GitHub token for GitHub,
//     identity from the token's claims (SignedIn), environments from
//     --environment and the profiles' deployment steps.
//
// # Profiles file
//
//	profiles:
//	  - name: Contoso ALM
//	    host: github            # azure-devops (organization, project, repository), github (repository: owner/name) or local
//	    repository: contoso/alm
//	    targetBranch: main      # default main
//	    branch: "{maker}/{solution}"  # Commit's branch without the advanced options; default {solution}
//	    exportPipeline: export-solution-to-git.yml
//	    steps:                  # deployment steps, in order
//	      - environment: test   # an environment name the app knows
//	        url: https://contoso-test.crm.dynamics.com
//	        approval: pull-request   # or environment
//	        pipeline: deploy-test.yml
//	    makers:                 # who may use it; empty: everyone
//	      - alex@contoso.com    # a person: sign-in name, or {user: OBJECT-ID}
//	      - group: 6a0b1c2d-0000-4000-8000-0000000000a2   # an Entra group's object id
//	        name: Contoso Makers                          # for readers; the id decides
//	    advanced: [alex@contoso.com] # who sees the advanced options, the same way
//	admins:                     # who may edit the profiles in the app; empty: nobody
//	  - group: 6a0b1c2d-0000-4000-8000-0000000000a3
//
// Unknown fields are errors naming the profile and field. The app writes
// the file in its own layout when an admin saves it (comments are not kept).
//
// # What runs where
//
// Commit runs export-to-git in the app for a local profile (and in --demo,
// where no pipeline runner exists, Options.RunsPipelines); on a pipeline host
// it queues the profile's exportPipeline on the profile's target branch
// (devops.Client.QueueRun). A pull-request step creates or reuses the pull
// request through devops.Client, labelled solution-upgrade when asked, its
// description listing the components; an environment step runs build and
// deploy in the app (local, --demo) or queues the step's pipeline on the
// source branch, whose environment approval then applies.
//
// # The parameters a queued pipeline gets
//
// A pipeline the app queues must declare what the app sends, or the host
// refuses the run (GitHub 422 "Unexpected inputs provided", Azure DevOps 400
// "Unexpected parameter") and the maker sees that refusal:
//
//	                 GitHub workflow_dispatch inputs     Azure DevOps runtime parameters
//	exportPipeline   solution-name, commit-message,      solutionName, commitMessage,
//	                 branch                              branch
//	step pipeline    solution-name, environment,         solutionName, environment,
//	                 upgrade (true/false)                upgrade (true/false)
//
// The names follow each host's templates (templates/github/examples/export.yml,
// templates/azure-devops/export-solution-to-git.yml). On GitHub exportPipeline
// and pipeline are workflow file names; on Azure DevOps pipeline names (or
// folder\name, or ids).
package maker
