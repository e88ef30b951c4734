package cli

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/ppalm/ppalm/task"
)

// RunTask runs ppalm as an Azure DevOps task or a GitHub Actions step: with
// no arguments under either host, the command comes from INPUT_COMMAND and
// its flags from the INPUT_* variables of the same names (see task.TaskArgs).
// ok is false on a terminal, where the caller runs cobra as usual.
//
// The command's own stdout and stderr go through the host reporter line by
// line, so secrets are masked and no printed text can inject a logging
// command. The step ends with a result the host shows (task.complete on
// Azure DevOps) and a summary; the exit code is 0 or the command's code.
func RunTask(ctx context.Context, f *Factory) (code int, ok bool) {
	if task.HostOf(f.Getenv) == task.HostTerminal {
		return 0, false
	}
	host := task.Detect(f.Getenv, f.Stdout, false)
	// The command's output is grouped as "ppalm <cmd>", but neither host
	// nests groups: a command that runs a pipeline opens a group per step,
	// and each of those ends the group open before it (see flatGroups).
	r := &flatGroups{Reporter: host}
	lines := task.NewLineWriter(r)
	defer lines.Flush()
	var conn task.Connection
	getenv := func(k string) string {
		// Azure DevOps gives a task the job token as the SystemVssConnection
		// endpoint, not as SYSTEM_ACCESSTOKEN, which the commands read.
		if v := f.Getenv(k); v != "" || k != "SYSTEM_ACCESSTOKEN" {
			return v
		}
		return conn.SystemAccessToken
	}
	root := NewRoot(&Factory{Stdout: lines, Stderr: lines, Getenv: getenv, Reporter: r})

	name := "task"
	fail := func(err error) (int, bool) {
		lines.Flush()
		r.Error(err.Error(), "")
		finish(r, name, "Failed")
		r.Complete(true, "ppalm "+name+" failed")
		var exit *ExitError
		if errors.As(err, &exit) && exit.Code != 0 {
			return exit.Code, true
		}
		return 1, true
	}

	cmd, path, err := task.TaskCommand(f.Getenv, root)
	if err != nil {
		return fail(err)
	}
	name = strings.Join(path, " ")
	conn, hasConn, err := task.ResolveConnection(f.Getenv, r)
	if err != nil {
		return fail(err)
	}
	args, err := task.TaskArgs(f.Getenv, cmd)
	if err != nil {
		return fail(err)
	}
	if hasConn {
		args = append(args, task.ConnectionArgs(conn, func(flag string) bool { return cmd.Flags().Lookup(flag) != nil }, args)...)
	}
	// A secret given as a plain input (not through a service connection or
	// a secret variable, which the host masks itself) is masked before the
	// command line is echoed.
	// So is a password inside a URL (--repo https://user:TOKEN@host/...),
	// whichever flag carries it.
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || v == "" {
			continue
		}
		if secretFlag(strings.TrimPrefix(k, "--")) {
			task.RegisterSecrets(r, v)
		}
		task.RegisterSecrets(r, urlPasswords(v)...)
	}
	r.Info("ppalm " + name + " " + quoteArgs(args, func(v string) string { return task.Mask(r, v) }))

	root.SetArgs(append(append([]string{}, path...), args...))
	r.groupOutput("ppalm " + name)
	err = root.ExecuteContext(ctx)
	lines.Flush()
	r.endGroups()
	if err != nil {
		return fail(err)
	}
	finish(r, name, "Succeeded")
	r.Complete(false, "ppalm "+name+" succeeded")
	return 0, true
}

// finish publishes the step's result output and summary line. Neither may
// fail the step: a host without the files still has the log and exit code.
func finish(r task.Reporter, name, result string) {
	if err := r.SetOutput("result", result); err != nil {
		r.Warning(err.Error(), "")
	}
	if err := r.Summary("### ppalm " + name + "\n\n" + result + "\n"); err != nil {
		r.Warning(err.Error(), "")
	}
}

// quoteArgs renders args for the log line that says what runs: an argument
// with white space, quotes or control characters is Go-quoted, so a value
// can never start a line of its own. Each value is masked (mask) and has
// any URL password replaced by *** before it is quoted, so neither a
// registered secret nor a credential in a URL shows, in any spelling.
func quoteArgs(args []string, mask func(string) string) string {
	out := make([]string, len(args))
	for i, a := range args {
		a = mask(redactURLPasswords(a))
		if strings.ContainsAny(a, " \t\r\n\"'\\") || strings.IndexFunc(a, unicode.IsControl) >= 0 {
			if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "--") {
				a = k + "=" + strconv.Quote(v)
			} else {
				a = strconv.Quote(a)
			}
		}
		out[i] = mask(a)
	}
	return strings.Join(out, " ")
}

// urlUserinfo finds the userinfo of URLs in text: scheme://user:password@.
// The password runs to the last '@' before the host, as net/url reads it.
var urlUserinfo = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)([^/?#@\s:]*):([^/?#\s]*)@`)
})

// urlPasswords returns the passwords of the URLs in text, as written and
// percent-decoded (the form git sends).
func urlPasswords(text string) []string {
	var out []string
	for _, m := range urlUserinfo().FindAllStringSubmatch(text, -1) {
		out = append(out, m[3])
		if dec, err := url.PathUnescape(m[3]); err == nil && dec != m[3] {
			out = append(out, dec)
		}
	}
	return out
}

// urlUser finds a URL's userinfo without a password, which may be a token
// given as the user name (https://TOKEN@github.com/...).
var urlUser = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#@\s:]+@`) })

// redactURLPasswords replaces the password of every URL in text by ***,
// keeping the user name, which says whose credential it was; a user name
// alone is replaced whole, since it may be the token itself.
func redactURLPasswords(text string) string {
	text = urlUserinfo().ReplaceAllString(text, "${1}${2}:***@")
	return urlUser().ReplaceAllString(text, "${1}***@")
}

// flatGroups keeps a host's log groups from nesting, which neither Azure
// DevOps nor GitHub supports: an inner ##[group] ends the outer one's
// collapsing, and the outer ##[endgroup] then closes nothing.
//
// StartGroup ends the open group, if any, before it opens its own; an end
// func whose group is no longer open does nothing. groupOutput names a
// group for the command's own output, opened only when a line is written
// while no group is open and before any step opened one: a command that
// runs a pipeline shows one group per step and its final report in the
// open, a command without steps shows one "ppalm <cmd>" group.
type flatGroups struct {
	task.Reporter
	mu      sync.Mutex
	id      int    // id of the open group, 0 for none
	last    int    // last id given out
	end     func() // ends the open group
	pending string // the command's group, not yet opened
	stepped bool   // a group other than the command's was opened
}

// StartGroup implements task.Reporter.
func (g *flatGroups) StartGroup(name string) func() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stepped, g.pending = true, ""
	return g.start(name)
}

// Info implements task.Reporter: a line of the command's own output opens
// its pending group first.
func (g *flatGroups) Info(msg string) {
	g.mu.Lock()
	if g.pending != "" && g.id == 0 && !g.stepped {
		g.start(g.pending)
		g.pending = ""
	}
	g.mu.Unlock()
	g.Reporter.Info(msg)
}

// Unwrap implements task.Wrapper: masking, debug lines and the run's name
// go to the host reporter.
func (g *flatGroups) Unwrap() task.Reporter { return g.Reporter }

// groupOutput sets the group for the command's own output.
func (g *flatGroups) groupOutput(name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pending = name
}

// endGroups ends the open group and drops the pending one.
func (g *flatGroups) endGroups() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pending = ""
	g.closeOpen()
}

// start opens a group, ending the open one; g.mu is held.
func (g *flatGroups) start(name string) func() {
	g.closeOpen()
	g.end = g.Reporter.StartGroup(name)
	g.last++
	id := g.last
	g.id = id
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.id == id {
			g.closeOpen()
		}
	}
}

// closeOpen ends the open group, if any; g.mu is held.
func (g *flatGroups) closeOpen() {
	if g.id != 0 {
		g.end()
		g.id, g.end = 0, nil
	}
}

// secretFlag says whether a flag carries a credential: its value is masked
// wherever the host prints it.
func secretFlag(name string) bool {
	name = strings.ToLower(name)
	return strings.Contains(name, "secret") || strings.Contains(name, "token") || strings.Contains(name, "password")
}

// Status implements task.Statuser: in a host's log a status is a line of
// the open group.
func (g *flatGroups) Status(msg string) { g.Info(msg) }
