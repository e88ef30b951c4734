package devops

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// UpgradeLabel is the pull request label that asks for a solution upgrade.
const UpgradeLabel = "solution-upgrade"

// UpgradeRequested decides whether this deployment imports the solution as an
// upgrade (stage and upgrade) rather than an update. The TriggerSolutionUpgrade
// variable wins; otherwise the pull request behind the build decides by
// carrying UpgradeLabel (see the package comment). reason says what decided,
// for the log.
func UpgradeRequested(ctx context.Context, env func(string) string, opts ...Option) (bool, string, error) {
	for _, name := range []string{"TRIGGERSOLUTIONUPGRADE", "TriggerSolutionUpgrade"} {
		v := strings.TrimSpace(env(name))
		if v == "" || strings.HasPrefix(v, "$(") { // an undefined variable in an env: mapping stays a macro
			continue
		}
		switch strings.ToLower(v) {
		case "true":
			return true, "variable TriggerSolutionUpgrade is true", nil
		case "false":
			return false, "variable TriggerSolutionUpgrade is false", nil
		}
		return false, "", fmt.Errorf("variable %s is %q: expected true or false", name, v)
	}
	o := buildOptions(opts)
	cfg := LoadConfig(env, o.overrides)
	switch cfg.Host {
	case HostAzureDevOps:
		return azureUpgradeRequested(ctx, env, cfg, opts)
	case HostGitHub:
		return githubUpgradeRequested(ctx, env, cfg, opts)
	}
	return false, "TriggerSolutionUpgrade is not set and no CI host (TF_BUILD, GITHUB_ACTIONS) to find a pull request on", nil
}

func hasUpgradeLabel(labels []string) bool {
	for _, l := range labels {
		if strings.EqualFold(strings.TrimSpace(l), UpgradeLabel) {
			return true
		}
	}
	return false
}

func labelDecision(pr string, labels []string) (bool, string) {
	if hasUpgradeLabel(labels) {
		return true, fmt.Sprintf("%s has label %s", pr, UpgradeLabel)
	}
	return false, fmt.Sprintf("%s has no label %s", pr, UpgradeLabel)
}

func azureUpgradeRequested(ctx context.Context, env func(string) string, cfg Config, opts []Option) (bool, string, error) {
	if p := env("BUILD_REPOSITORY_PROVIDER"); p != "" && p != "TfsGit" {
		return false, fmt.Sprintf("repository provider is %s, not Azure Repos; set TriggerSolutionUpgrade to ask for an upgrade", p), nil
	}
	prVar := strings.TrimSpace(env("SYSTEM_PULLREQUEST_PULLREQUESTID"))
	sha := strings.TrimSpace(env("BUILD_SOURCEVERSION"))
	if prVar == "" && sha == "" {
		return false, "neither SYSTEM_PULLREQUEST_PULLREQUESTID nor BUILD_SOURCEVERSION is set", nil
	}
	prID := 0
	if prVar != "" {
		n, err := strconv.Atoi(prVar)
		if err != nil || n <= 0 {
			return false, "", fmt.Errorf("variable SYSTEM_PULLREQUEST_PULLREQUESTID is %q: expected a pull request number", prVar)
		}
		prID = n
	}
	c, err := New(ctx, cfg, opts...)
	if err != nil {
		return false, "", fmt.Errorf("decide solution upgrade: %w", err)
	}
	if prID == 0 {
		pr, err := c.host.pullRequestForMergeCommit(ctx, sha)
		if err != nil {
			return false, "", fmt.Errorf("decide solution upgrade: %w", err)
		}
		if pr == nil {
			return false, fmt.Sprintf("no pull request has merge commit %s", sha), nil
		}
		prID = pr.ID
	}
	labels, err := c.host.pullRequestLabels(ctx, prID)
	if err != nil {
		return false, "", fmt.Errorf("decide solution upgrade: %w", err)
	}
	up, why := labelDecision(fmt.Sprintf("pull request %d", prID), labels)
	return up, why, nil
}

func githubUpgradeRequested(ctx context.Context, env func(string) string, cfg Config, opts []Option) (bool, string, error) {
	if path := env("GITHUB_EVENT_PATH"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return false, "", fmt.Errorf("read GitHub event %s: %w", path, err)
		}
		var ev struct {
			PullRequest *struct {
				Number int       `json:"number"`
				Labels []ghLabel `json:"labels"`
			} `json:"pull_request"`
		}
		if err := json.Unmarshal(data, &ev); err != nil {
			return false, "", fmt.Errorf("read GitHub event %s: expected the event JSON: %w", path, err)
		}
		if ev.PullRequest != nil {
			names := make([]string, len(ev.PullRequest.Labels))
			for i, l := range ev.PullRequest.Labels {
				names[i] = l.Name
			}
			up, why := labelDecision(fmt.Sprintf("pull request #%d of the event", ev.PullRequest.Number), names)
			return up, why, nil
		}
	}
	sha := strings.TrimSpace(env("GITHUB_SHA"))
	if sha == "" {
		return false, "the event has no pull request and GITHUB_SHA is not set", nil
	}
	c, err := New(ctx, cfg, opts...)
	if err != nil {
		return false, "", fmt.Errorf("decide solution upgrade: %w", err)
	}
	pr, err := c.host.pullRequestForMergeCommit(ctx, sha)
	if err != nil {
		return false, "", fmt.Errorf("decide solution upgrade: %w", err)
	}
	if pr == nil {
		return false, fmt.Sprintf("no pull request contains commit %s", sha), nil
	}
	up, why := labelDecision(fmt.Sprintf("pull request #%d", pr.ID), pr.Labels)
	return up, why, nil
}
