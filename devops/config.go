package devops

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Host is the repository host ppalm talks to.
type Host string

const (
	// HostAzureDevOps is Azure Repos and Azure Pipelines.
	HostAzureDevOps Host = "azure-devops"
	// HostGitHub is GitHub and GitHub Actions.
	HostGitHub Host = "github"
)

// DefaultGitHubAPIURL is used when GITHUB_API_URL and --github-api-url are
// both empty.
const DefaultGitHubAPIURL = "https://api.github.com"

// Config says where the repository lives and how to authenticate.
type Config struct {
	// Host is empty until resolved; see Resolve.
	Host Host
	// OrganizationURL is the Azure DevOps organization (collection) URL.
	OrganizationURL string
	// Project is the Azure DevOps project name or id.
	Project string
	// Repository is the Azure Repos repository name or id, or the GitHub
	// "owner/name".
	Repository string
	// Token is the Azure DevOps PAT or job token (System.AccessToken), or the
	// GitHub token. Never printed.
	Token string
	// Bearer says Token is an Entra access token (a maker signed in through
	// azidentity, scope 499b84ac-1321-427f-aa17-267ca6975798/.default), sent
	// as "Authorization: Bearer"; otherwise Azure DevOps gets it as a PAT,
	// in Basic. GitHub always gets Bearer.
	Bearer bool
	// GitHubAPIURL is the GitHub REST root (GitHub Enterprise Server:
	// https://host/api/v3).
	GitHubAPIURL string
}

// ConfigFromEnv reads the connection settings the CI host provides. The host
// is GitHub when GITHUB_ACTIONS=true, Azure DevOps when TF_BUILD is set, and
// empty otherwise (then nothing is read; see LoadConfig).
func ConfigFromEnv(env func(string) string) Config {
	return envFor(DetectHost(env), env)
}

// LoadConfig is ConfigFromEnv overridden by flags, where the flags may also
// choose the host: an explicit flags.Host, then an organization URL (Azure
// DevOps) or a GitHub API URL or owner/name repository (GitHub), then the CI
// host. The chosen host's variables fill what the flags leave empty, so a
// terminal with GITHUB_TOKEN set needs only --repository owner/name.
func LoadConfig(env func(string) string, flags Config) Config {
	host := flags.Host
	detected := DetectHost(env)
	switch {
	case host != "":
	case flags.OrganizationURL != "":
		host = HostAzureDevOps
	case flags.GitHubAPIURL != "":
		host = HostGitHub
	case detected != "":
		host = detected
	case strings.Count(flags.Repository, "/") == 1:
		host = HostGitHub
	case env("SYSTEM_COLLECTIONURI") != "":
		host = HostAzureDevOps
	}
	flags.Host = host
	return envFor(host, env).Override(flags)
}

func envFor(host Host, env func(string) string) Config {
	switch host {
	case HostGitHub:
		return Config{
			Host:         HostGitHub,
			Repository:   env("GITHUB_REPOSITORY"),
			Token:        env("GITHUB_TOKEN"),
			GitHubAPIURL: env("GITHUB_API_URL"),
		}
	case HostAzureDevOps:
		repo := env("BUILD_REPOSITORY_ID")
		if repo == "" {
			repo = env("BUILD_REPOSITORY_NAME")
		}
		org := env("SYSTEM_COLLECTIONURI")
		if org == "" {
			org = env("SYSTEM_TEAMFOUNDATIONCOLLECTIONURI")
		}
		return Config{
			Host:            HostAzureDevOps,
			OrganizationURL: org,
			Project:         env("SYSTEM_TEAMPROJECT"),
			Repository:      repo,
			Token:           env("SYSTEM_ACCESSTOKEN"),
		}
	}
	return Config{}
}

// DetectHost returns the CI host ppalm runs under, or "" on a terminal.
func DetectHost(env func(string) string) Host {
	if strings.EqualFold(env("GITHUB_ACTIONS"), "true") {
		return HostGitHub
	}
	if env("TF_BUILD") != "" {
		return HostAzureDevOps
	}
	return ""
}

// Override returns c with every non-empty field of o taken from o. A
// Repository or OrganizationURL override that implies another host than the
// environment's switches the host unless o.Host says otherwise.
func (c Config) Override(o Config) Config {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.OrganizationURL, o.OrganizationURL)
	set(&c.Project, o.Project)
	set(&c.Repository, o.Repository)
	set(&c.Token, o.Token)
	set(&c.GitHubAPIURL, o.GitHubAPIURL)
	switch {
	case o.Host != "":
		c.Host = o.Host
	case o.OrganizationURL != "":
		c.Host = HostAzureDevOps
	case o.GitHubAPIURL != "":
		c.Host = HostGitHub
	}
	return c
}

// Resolve fills the host when it is still empty (an organization URL means
// Azure DevOps, an "owner/name" repository means GitHub) and the GitHub API
// default, then checks that everything the host needs is there. The error
// names the missing setting and the variable or flag that provides it.
func (c Config) Resolve() (Config, error) {
	if c.Host == "" {
		switch {
		case c.OrganizationURL != "":
			c.Host = HostAzureDevOps
		case strings.Count(c.Repository, "/") == 1:
			c.Host = HostGitHub
		default:
			return c, errors.New("no repository host: not running on Azure DevOps (TF_BUILD) or GitHub Actions (GITHUB_ACTIONS); pass --organization-url for Azure DevOps or --repository owner/name for GitHub")
		}
	}
	var missing []string
	switch c.Host {
	case HostAzureDevOps:
		if c.OrganizationURL == "" {
			missing = append(missing, "organization URL (SYSTEM_COLLECTIONURI or --organization-url)")
		} else if u, err := url.Parse(c.OrganizationURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c, fmt.Errorf("azure devops organization URL %q: expected an absolute http(s) URL such as https://dev.azure.com/contoso/", c.OrganizationURL)
		}
		if c.Project == "" {
			missing = append(missing, "project (SYSTEM_TEAMPROJECT or --project)")
		}
		if c.Repository == "" {
			missing = append(missing, "repository (BUILD_REPOSITORY_NAME or --repository)")
		}
		if c.Token == "" {
			missing = append(missing, "token (SYSTEM_ACCESSTOKEN mapped into the step's env, or --token)")
		}
	case HostGitHub:
		if c.GitHubAPIURL == "" {
			c.GitHubAPIURL = DefaultGitHubAPIURL
		}
		if u, err := url.Parse(c.GitHubAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c, fmt.Errorf("github API URL %q: expected an absolute http(s) URL such as https://api.github.com", c.GitHubAPIURL)
		}
		if c.Repository == "" {
			missing = append(missing, "repository (GITHUB_REPOSITORY or --repository owner/name)")
		} else if owner, name, ok := strings.Cut(c.Repository, "/"); !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return c, fmt.Errorf("github repository %q: expected owner/name", c.Repository)
		}
		if c.Token == "" {
			missing = append(missing, "token (GITHUB_TOKEN or --token)")
		}
	default:
		return c, fmt.Errorf("repository host %q: expected %q or %q", c.Host, HostAzureDevOps, HostGitHub)
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("%s connection: missing %s", c.Host, strings.Join(missing, ", "))
	}
	return c, nil
}
