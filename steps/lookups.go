package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/internal/guid"
)

// lookups caches the target's answers that several deployment steps need
// (users, the environment id, the installed solution, connections), so a
// full deploy asks once. Safe for concurrent use.
type lookups struct {
	mu          sync.Mutex
	users       map[string]*userLookup
	envID       string
	connections []dataverse.Connection
	connLoaded  bool
	me          *dataverse.SystemUser
}

type userLookup struct {
	once sync.Once
	user *dataverse.SystemUser
	err  error
}

func (c *Context) look() *lookups {
	c.noteMu.Lock()
	defer c.noteMu.Unlock()
	if c.lookups == nil {
		c.lookups = &lookups{users: map[string]*userLookup{}}
	}
	return c.lookups
}

// unknownUserError says a user named in the settings is not in the target.
type unknownUserError struct{ who, env string }

func (e *unknownUserError) Error() string {
	return fmt.Sprintf("user %q is not a user of %s: add them to the environment (or fix the e-mail)", e.who, e.env)
}

// resolveUser finds the systemuser for an e-mail, domain name or Entra
// object id; the error says who was looked for and what to fix.
func resolveUser(ctx context.Context, c *Context, who string) (*dataverse.SystemUser, error) {
	key := strings.ToLower(strings.TrimSpace(who))
	l := c.look()
	l.mu.Lock()
	u, ok := l.users[key]
	if !ok {
		u = &userLookup{}
		l.users[key] = u
	}
	l.mu.Unlock()
	u.once.Do(func() {
		if guid.Valid(key) {
			u.user, u.err = c.Dataverse.SystemUserByObjectID(ctx, strings.Trim(key, "{}"))
		} else {
			u.user, u.err = c.Dataverse.SystemUserByEmail(ctx, key)
		}
		if errors.Is(u.err, dataverse.ErrNotFound) {
			u.err = &unknownUserError{who: who, env: c.Dataverse.EnvironmentURL()}
		}
	})
	return u.user, u.err
}

// environmentID returns the Power Platform environment id, once.
func environmentID(ctx context.Context, c *Context) (string, error) {
	l := c.look()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.envID == "" {
		id, err := c.Dataverse.EnvironmentID(ctx)
		if err != nil {
			return "", err
		}
		l.envID = id
	}
	return l.envID, nil
}

// connections lists the environment's connections (Power Apps API), once.
func connections(ctx context.Context, c *Context) ([]dataverse.Connection, error) {
	envID, err := environmentID(ctx, c)
	if err != nil {
		return nil, err
	}
	l := c.look()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.connLoaded {
		conns, err := c.Dataverse.ListConnections(ctx, envID)
		if err != nil {
			return nil, err
		}
		l.connections, l.connLoaded = conns, true
	}
	return l.connections, nil
}

// deployer returns the deploying identity's systemuser, once.
func deployer(ctx context.Context, c *Context) (*dataverse.SystemUser, error) {
	l := c.look()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.me == nil {
		me, err := c.Dataverse.Me(ctx)
		if err != nil {
			return nil, fmt.Errorf("find the deploying identity in %s: %w", c.Dataverse.EnvironmentURL(), err)
		}
		l.me = me
	}
	return l.me, nil
}

// parallel runs fn for 0..n-1 with at most limit at a time and returns the
// errors in index order (nil entries for successes).
func parallel(n, limit int, fn func(i int) error) []error {
	errs := make([]error, n)
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errs
}

// joinErrors keeps the non-nil errors; nil when there are none. Each error
// goes on its own line so a report names every failing item.
func joinErrors(errs []error) error {
	var keep []string
	for _, e := range errs {
		if e != nil {
			keep = append(keep, e.Error())
		}
	}
	if len(keep) == 0 {
		return nil
	}
	if len(keep) == 1 {
		return errors.New(keep[0])
	}
	return fmt.Errorf("%d problems:\n  %s", len(keep), strings.Join(keep, "\n  "))
}

// concurrency is how many independent calls a step makes at once; the
// client bounds requests per host anyway.
func (c *Context) concurrency() int {
	if c.Concurrency > 0 {
		return c.Concurrency
	}
	return 4
}

// noteSafe is Note for steps that work concurrently; these notes are
// sorted when the step ends, so the report does not change order from run
// to run.
func (c *Context) noteSafe(format string, args ...any) {
	c.noteMu.Lock()
	defer c.noteMu.Unlock()
	c.unordered = append(c.unordered, fmt.Sprintf(format, args...))
}

// warnOnce raises a warning the first time msg is seen in this run.
func (c *Context) warnOnce(msg string) {
	c.noteMu.Lock()
	defer c.noteMu.Unlock()
	if c.warned == nil {
		c.warned = map[string]bool{}
	}
	if c.warned[msg] {
		return
	}
	c.warned[msg] = true
	c.Reporter.Warning(msg, "")
	c.Note("%s", msg)
}

// lookUpGroup finds an Entra group by object id (braces allowed). A
// credential that may not read the directory (Graph 403) is not an error:
// it warns once and returns nil, nil, as the target refuses an unknown group
// itself. fix names what to correct when the group does not exist.
func lookUpGroup(ctx context.Context, c *Context, id, fix string) (*dataverse.GraphGroup, error) {
	g, err := c.Dataverse.GraphGroup(ctx, strings.Trim(id, "{}"))
	switch {
	case err == nil:
		return g, nil
	case errors.Is(err, dataverse.ErrDirectoryForbidden):
		c.warnOnce("cannot read the directory (Microsoft Graph answered 403): Entra groups are not checked before use; grant Group.Read.All to check them")
		return nil, nil
	case errors.Is(err, dataverse.ErrNotFound):
		return nil, fmt.Errorf("Entra group %s does not exist: fix %s", id, fix)
	}
	return nil, err
}

// getFlow reads a flow (workflow) of the target; an absent one says what
// to fix.
func getFlow(ctx context.Context, c *Context, id string) (*dataverse.Workflow, error) {
	w, err := c.Dataverse.GetWorkflow(ctx, id)
	if errors.Is(err, dataverse.ErrNotFound) {
		return nil, fmt.Errorf("flow %s is not in %s: fix solutionComponentUniqueName or import the solution first", id, c.Dataverse.EnvironmentURL())
	}
	return w, err
}

// canvasAppByName finds a canvas app of the target by unique name; fix
// names what to correct when it is absent.
func canvasAppByName(ctx context.Context, c *Context, name, fix string) (*dataverse.CanvasApp, error) {
	app, err := c.Dataverse.CanvasAppByName(ctx, name)
	if errors.Is(err, dataverse.ErrNotFound) {
		return nil, fmt.Errorf("canvas app %q is not in %s: fix %s", name, c.Dataverse.EnvironmentURL(), fix)
	}
	return app, err
}
