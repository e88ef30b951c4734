package cli

// helpTopics are the `ppalm help TOPIC` pages that are not commands.
var helpTopics = []struct{ name, short, long string }{
	{"exit-codes", "What ppalm's exit codes mean", exitCodesHelp},
	{"output", "The --output json document of each command", ""}, // written by NewRoot from the commands
	{"environment", "Environment variables ppalm reads", environmentHelp},
}

// exitCodesHelp is also in the README; a test keeps the two in step.
const exitCodesHelp = `ppalm exits with:

  0    success. plan: the import would succeed; settings validate: the settings are valid;
       diff: the comparison ran (with --exit-code: the versions are the same).
  1    failure: the command could not do what it was asked. A flag or input is wrong (unknown
       command or flag, missing required flag, unreadable file), a service refused or failed,
       or a step of a pipeline failed (the step is named on the last line of stderr).
  2    a check found problems: plan (the import would fail: settings gaps, connections, users or
       groups missing in the target, or the import refused), settings validate (settings to fix),
       diff --exit-code (the versions differ).
  130  interrupted (Ctrl-C): the step that was running may have been cut short.

In task mode (an Azure DevOps task or a GitHub Action) the same codes end the process, and the
host marks the step failed for any code other than 0.`

const environmentHelp = `Environment variables ppalm reads:

  PPALM_LOG                 how much to log on stderr: debug, info (default), warn or error;
                            debug (or --verbose) adds each HTTP call: method, URL without secrets,
                            status, duration, and each retry with its wait (Retry-After or back-off)
  SYSTEM_DEBUG, RUNNER_DEBUG  the hosts' debug switches (Azure DevOps System.Debug=true, GitHub
                            re-run with debug logging): same as --verbose
  NO_COLOR                  no colour, whatever the terminal (https://no-color.org)
  CLICOLOR_FORCE            colour even when stdout or stderr is not a terminal
  PPALM_ENVIRONMENT_URL     --environment
  PPALM_AUTH                --auth
  AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH,
  AZURE_CLIENT_CERTIFICATE_PASSWORD   the service principal (--tenant-id, --client-id, ...)
  PPALM_POWERAPPS_URL, PPALM_GRAPH_URL  --powerapps-url, --graph-url
  PPALM_GIT_TOKEN, SYSTEM_ACCESSTOKEN, GITHUB_TOKEN  the git and repository host token (--token)
  PPALM_VARIABLES, PPALM_SECRETS  JSON objects #{token}# values are also taken from
  BUILD_BUILDNUMBER         the version build and version set stamp when --version is not given`
