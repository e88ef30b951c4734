package devops

import (
	"net/url"
	"strings"
)

// ConfigFromRemote reads the repository host from a git remote URL, as gh
// does from a working copy's origin: GitHub (github.com, or a GitHub
// Enterprise Server host, whose API is https://HOST/api/v3) and Azure Repos
// (dev.azure.com/ORG/PROJECT/_git/REPO, ORG.visualstudio.com/PROJECT/_git/REPO
// and their SSH forms). ok is false for anything else. The token is not
// part of a remote: the caller fills it.
func ConfigFromRemote(remote string) (cfg Config, ok bool) {
	remote = strings.TrimSpace(remote)
	if remote == "" {
		return Config{}, false
	}
	scheme, host, hostPort, path := splitRemote(remote)
	if host == "" {
		return Config{}, false
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case host == "ssh.dev.azure.com":
		// git@ssh.dev.azure.com:v3/ORG/PROJECT/REPO
		if len(parts) == 4 && parts[0] == "v3" {
			return azureConfig("https://dev.azure.com/"+parts[1]+"/", parts[2], parts[3]), true
		}
	case host == "dev.azure.com":
		// https://[user@]dev.azure.com/ORG/PROJECT/_git/REPO
		if len(parts) == 4 && parts[2] == "_git" {
			return azureConfig("https://dev.azure.com/"+parts[0]+"/", parts[1], parts[3]), true
		}
	case strings.HasSuffix(host, ".visualstudio.com"):
		// https://ORG.visualstudio.com[/DefaultCollection]/PROJECT/_git/REPO,
		// ssh: ORG@vs-ssh.visualstudio.com:v3/ORG/PROJECT/REPO
		if host == "vs-ssh.visualstudio.com" {
			if len(parts) == 4 && parts[0] == "v3" {
				return azureConfig("https://"+parts[1]+".visualstudio.com/", parts[2], parts[3]), true
			}
			return Config{}, false
		}
		if len(parts) >= 3 && parts[len(parts)-2] == "_git" {
			return azureConfig("https://"+host+"/", parts[len(parts)-3], parts[len(parts)-1]), true
		}
	default:
		// GitHub: OWNER/NAME(.git); a GitHub Enterprise Server host serves
		// its API under /api/v3.
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" || strings.Contains(path, "_git") {
			return Config{}, false
		}
		api := DefaultGitHubAPIURL
		if host != "github.com" && host != "www.github.com" {
			api = scheme + "://" + hostPort + "/api/v3"
		}
		return Config{Host: HostGitHub, Repository: parts[0] + "/" + strings.TrimSuffix(parts[1], ".git"), GitHubAPIURL: api}, true
	}
	return Config{}, false
}

func azureConfig(org, project, repo string) Config {
	if p, err := url.PathUnescape(project); err == nil {
		project = p
	}
	if r, err := url.PathUnescape(repo); err == nil {
		repo = r
	}
	return Config{Host: HostAzureDevOps, OrganizationURL: org, Project: project, Repository: strings.TrimSuffix(repo, ".git")}
}

// splitRemote returns the web scheme (http for an http remote, else
// https), host, host with port and path of an http(s), ssh:// or scp-like
// (user@host:path) remote.
func splitRemote(remote string) (scheme, host, hostPort, path string) {
	if u, err := url.Parse(remote); err == nil && u.Host != "" {
		scheme, hostPort = "https", strings.ToLower(u.Host)
		if u.Scheme == "http" {
			scheme = "http"
		} else if u.Scheme != "https" {
			hostPort = strings.ToLower(u.Hostname()) // an ssh port is not the web's
		}
		return scheme, strings.ToLower(u.Hostname()), hostPort, u.Path
	}
	// scp-like: [user@]host:path
	at := strings.LastIndex(remote, "@")
	rest := remote[at+1:]
	h, p, ok := strings.Cut(rest, ":")
	if !ok || strings.Contains(h, "/") {
		return "", "", "", ""
	}
	h = strings.ToLower(h)
	return "https", h, h, p
}
