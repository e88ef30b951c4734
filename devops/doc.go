// Package devops talks to the repository host a pipeline runs on, Azure
// DevOps (Azure Repos and Azure Pipelines) or GitHub, for the parts of the
// ALM flow that are not git itself: opening the pull request that carries a
// maker's change, deciding whether a deployment is a solution upgrade, and
// listing a solution's commits and pipeline runs.
//
// # Connection
//
// A Config is read from the host's environment and then overridden by
// flags. Azure DevOps: SYSTEM_COLLECTIONURI (organization URL, trailing
// slash allowed), SYSTEM_TEAMPROJECT, BUILD_REPOSITORY_ID or
// BUILD_REPOSITORY_NAME, SYSTEM_ACCESSTOKEN. GitHub: GITHUB_API_URL
// (default https://api.github.com), GITHUB_REPOSITORY ("owner/name"),
// GITHUB_TOKEN. The host is GitHub when GITHUB_ACTIONS=true and Azure DevOps
// when TF_BUILD is set; otherwise it follows from which settings are given.
// Tokens are sent only in the Authorization header and never appear in
// errors or output.
//
// Config.Bearer sends an Entra access token (a signed-in maker's, scope
// 499b84ac-1321-427f-aa17-267ca6975798/.default) as "Authorization: Bearer"
// instead of a PAT in Basic; azure-devops-go-api has no constructor for it
// (issue #101), so the Connection's AuthorizationString is set directly.
//
// Azure DevOps calls go through azure-devops-go-api v7. Its Connection builds
// plain http.Clients, so this package performs the resource-area lookup
// (GET _apis/ResourceAreas) itself and builds the area clients with
// azuredevops.NewClientWithOptions and WithHTTPClient; that way every call,
// including the OPTIONS _apis location lookup, goes through one retrying
// client.
//
// # Retries
//
// Every request goes through go-retryablehttp. A 429, or a 403/503 carrying
// Retry-After (GitHub's secondary rate limit), is retried after the
// Retry-After delay; other 5xx and network errors are retried with
// exponential backoff, but only for reads: a request whose context is
// marked by withSideEffects (creating a pull request, dispatching a
// workflow) is not repeated after the server may have acted on it. 401 and
// 403 become an *APIError that names the host, the request and which token
// to check.
//
// # Deadlines
//
// Each call has a deadline, attempts and waits included (Deadlines.Call,
// 2 minutes), and each attempt one for the answer's headers
// (Deadlines.Attempt, 30 s): a server that accepts and never answers fails
// the call as a *DeadlineError naming the host. A Retry-After longer than
// Deadlines.MaxServerWait (60 s) or than what is left of the call's
// deadline fails at once as a *WaitError naming the host and the wait.
// WithLog receives a line for every wait before a retry (request, status,
// wait, tries left); the CLI puts it in the run's log.
//
// # Pipeline runs
//
// QueueRun starts a pipeline with parameters, the maker app's Commit and
// Deploy on a pipeline host. Azure DevOps: the Pipelines Runs API
// (pipelines.Client.RunPipeline) with templateParameters (the pipeline's
// runtime parameters; one it does not declare is refused with 400) and the
// branch as resources.repositories.self.refName; the pipeline is found by
// name, folder\name or id (ListPipelines). GitHub: workflow_dispatch with
// inputs (at most 25) and return_run_details, so the answer carries the
// run's id; GitHub Enterprise Server refuses that key and gets the classic
// 204 dispatch, with the workflow's runs as the link. Creating a run is not
// retried after a 5xx (it may have started). RunState reads the run back
// (Pipelines GetRun; GET /actions/runs/{id}) in the app's words: queued,
// running, waiting, succeeded, failed, canceled. PullRequest reads a pull
// request's state (open, merged, closed) and labels.
//
// # Upgrade or update
//
// A deployment is an upgrade (StageAndUpgrade) when the TriggerSolutionUpgrade
// variable says so (true/false, any case; it always wins), otherwise when the
// pull request behind the build carries the label "solution-upgrade". Azure
// DevOps: the PR of a PR build (SYSTEM_PULLREQUEST_PULLREQUESTID) or the PR
// whose last merge commit is BUILD_SOURCEVERSION (pullRequestQuery,
// type lastMergeCommit). GitHub: pull_request.labels of the event in
// GITHUB_EVENT_PATH, or the pull requests of GITHUB_SHA
// (GET /repos/{o}/{r}/commits/{sha}/pulls).
package devops
