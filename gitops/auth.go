package gitops

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/http"
)

// TokenEnvVars are the environment variables a git token is taken from when
// none is given, first set wins: ppalm's own, the Azure DevOps job token
// (mapped as SYSTEM_ACCESSTOKEN) and the GitHub Actions token.
var TokenEnvVars = []string{"PPALM_GIT_TOKEN", "SYSTEM_ACCESSTOKEN", "GITHUB_TOKEN"}

// TokenFromEnv returns the first non-empty TokenEnvVars value.
func TokenFromEnv(getenv func(string) string) string {
	for _, name := range TokenEnvVars {
		if v := getenv(name); v != "" {
			return v
		}
	}
	return ""
}

// isURL tells a remote URL from a path on disk. "C:\repo" is a path.
func isURL(s string) bool {
	if strings.HasPrefix(s, "git@") {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && len(u.Scheme) > 1 && u.Host != "" || strings.HasPrefix(s, "file://")
}

// remoteURL removes user information from raw (go-git would take it as a
// username with an empty password) and returns the username and password
// it carried.
func remoteURL(raw string) (clean, user, password string) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || (u.Scheme != "http" && u.Scheme != "https") {
		return raw, "", ""
	}
	user = u.User.Username()
	password, _ = u.User.Password()
	u.User = nil
	return u.String(), user, password
}

// URLPassword is the password written in an http(s) repository URL, if
// any: callers register it as a secret before anything is printed.
func URLPassword(raw string) string {
	_, _, password := remoteURL(raw)
	return password
}

// displayURL is raw without its user information, for error texts.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || u.Host == "" {
		return raw
	}
	u.User = nil
	return u.String()
}

// authFor builds the basic auth go-git sends for an HTTP(S) remote. A
// password written in the URL is the credential the user chose and wins
// over token (which may only be the ambient $SYSTEM_ACCESSTOKEN); a user
// name alone is sent with token as its password. Credentials are never
// sent over plain http except to a loopback host: the refusal comes before
// any connection is made.
func authFor(rawURL, user, password, token string) (transport.AuthMethod, error) {
	if !(strings.HasPrefix(rawURL, "http://") || strings.HasPrefix(rawURL, "https://")) {
		return nil, nil
	}
	if password != "" {
		token = password
	}
	if token == "" && user == "" {
		return nil, nil
	}
	if u, err := url.Parse(rawURL); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("refusing to send git credentials over plain http to %s: use an https URL (http is allowed for loopback hosts only)", u.Host)
	}
	if user == "" {
		user = "x-access-token"
	}
	return &http.BasicAuth{Username: user, Password: token}, nil
}

// isLoopback says whether host is this machine (127.0.0.0/8, ::1,
// localhost), where plain http reveals nothing.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isAzureRepos reports URLs served by Azure Repos.
func isAzureRepos(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	return host == "dev.azure.com" || host == "ssh.dev.azure.com" || strings.HasSuffix(host, ".visualstudio.com")
}

var azureOnce sync.Once

// allowMultiACK applies go-git's Azure DevOps workaround (see package doc).
// transport.UnsupportedCapabilities is a process-wide variable, so it is set
// once and never restored.
func allowMultiACK() {
	azureOnce.Do(func() {
		transport.UnsupportedCapabilities = []capability.Capability{capability.ThinPack}
	})
}

var userinfoPassword = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]*):[^/@\s]*@`) })

// scrubbed is an error whose text has had secrets removed; errors.Is and
// errors.As still see the original.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// scrub removes token (raw and URL-escaped) and any URL password from err's
// text.
func scrub(err error, token string) error {
	if err == nil {
		return nil
	}
	msg := userinfoPassword().ReplaceAllString(err.Error(), "$1:***@")
	if token != "" {
		for _, t := range []string{token, url.QueryEscape(token), url.PathEscape(token)} {
			msg = strings.ReplaceAll(msg, t, "***")
		}
	}
	if msg == err.Error() {
		return err
	}
	var s *scrubbed
	if errors.As(err, &s) {
		return &scrubbed{msg: msg, err: s.err}
	}
	return &scrubbed{msg: msg, err: err}
}
