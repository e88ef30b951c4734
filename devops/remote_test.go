package devops

import "testing"

func TestConfigFromRemote(t *testing.T) {
	for remote, want := range map[string]Config{
		"https://github.com/contoso/alm.git":                                    {Host: HostGitHub, Repository: "contoso/alm", GitHubAPIURL: DefaultGitHubAPIURL},
		"git@github.com:contoso/alm.git":                                        {Host: HostGitHub, Repository: "contoso/alm", GitHubAPIURL: DefaultGitHubAPIURL},
		"ssh://git@github.com/contoso/alm":                                      {Host: HostGitHub, Repository: "contoso/alm", GitHubAPIURL: DefaultGitHubAPIURL},
		"https://ghe.contoso.com/platform/alm":                                  {Host: HostGitHub, Repository: "platform/alm", GitHubAPIURL: "https://ghe.contoso.com/api/v3"},
		"http://127.0.0.1:8080/contoso/alm-repo.git":                            {Host: HostGitHub, Repository: "contoso/alm-repo", GitHubAPIURL: "http://127.0.0.1:8080/api/v3"},
		"ssh://git@ghe.contoso.com:2222/platform/alm.git":                       {Host: HostGitHub, Repository: "platform/alm", GitHubAPIURL: "https://ghe.contoso.com/api/v3"},
		"https://contoso@dev.azure.com/contoso/Power%20Apps/_git/alm":           {Host: HostAzureDevOps, OrganizationURL: "https://dev.azure.com/contoso/", Project: "Power Apps", Repository: "alm"},
		"git@ssh.dev.azure.com:v3/contoso/PowerApps/alm":                        {Host: HostAzureDevOps, OrganizationURL: "https://dev.azure.com/contoso/", Project: "PowerApps", Repository: "alm"},
		"https://contoso.visualstudio.com/DefaultCollection/PowerApps/_git/alm": {Host: HostAzureDevOps, OrganizationURL: "https://contoso.visualstudio.com/", Project: "PowerApps", Repository: "alm"},
		"contoso@vs-ssh.visualstudio.com:v3/contoso/PowerApps/alm":              {Host: HostAzureDevOps, OrganizationURL: "https://contoso.visualstudio.com/", Project: "PowerApps", Repository: "alm"},
	} {
		got, ok := ConfigFromRemote(remote)
		if !ok || got != want {
			t.Errorf("%s:\n got  %+v %v\n want %+v", remote, got, ok, want)
		}
	}
	for _, remote := range []string{"", "/srv/git/alm.git", "https://gitlab.com/a/b/c", "https://dev.azure.com/contoso/alm"} {
		if got, ok := ConfigFromRemote(remote); ok {
			t.Errorf("%q: %+v, want not recognised", remote, got)
		}
	}
}
