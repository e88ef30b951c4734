package maker

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/ppalm/ppalm/devops"
)

// The Request History: what the app recorded (commits, deployments,
// imports, deletes) with the state the repository host reports now for the
// runs and pull requests among them, plus what the host itself lists for
// the solution (runs a merge started, commits).

// historyRow is one request with its state as the host reports it now.
type historyRow struct {
	Request
	// Now is the state to show: the run's current one for a queued run,
	// else the recorded one.
	Now string
	// Class colours the state: succeeded, failed or pending.
	Class string
	// Sub is a second line: the pull request's state, the run's number.
	Sub string
	// Note says why the host could not be asked.
	Note string
	// Pending says the request still changes (a run not finished): the page
	// refreshes itself.
	Pending bool
	// LinkText says what the link opens.
	LinkText string
}

// hostWait bounds how long a page waits for the repository host.
const hostWait = 8 * time.Second

// liveRows looks up, on the profile's host, the runs and pull requests of
// reqs (at most the first 20), four at a time.
func (s *Server) liveRows(ctx context.Context, p Profile, reqs []Request) []historyRow {
	rows := make([]historyRow, len(reqs))
	for i, q := range reqs {
		rows[i] = historyRow{Request: q, Now: q.State, Class: stateClass(q.State), LinkText: linkText(q)}
		if q.State == "queued" && q.RunID == 0 && s.opts.Now().Sub(q.When) < 30*time.Minute {
			// The host gave no run id (GitHub Enterprise Server): look
			// again soon, the run's page is linked.
			rows[i].Pending = true
		}
	}
	var todo []int
	for i, q := range reqs {
		if (q.RunID > 0 || q.PullRequest > 0) && len(todo) < 20 {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 || p.Host == HostLocal || s.opts.RepoHost == nil {
		return rows
	}
	ctx, cancel := context.WithTimeout(ctx, hostWait)
	defer cancel()
	c, err := s.repoHost(ctx, p)
	if err != nil {
		for _, i := range todo {
			rows[i].Note = "could not ask the repository host: " + err.Error()
		}
		return rows
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, i := range todo {
		wg.Add(1)
		go func(row *historyRow) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			s.live(ctx, c, row)
		}(&rows[i])
	}
	wg.Wait()
	return rows
}

func (s *Server) live(ctx context.Context, c *devops.Client, row *historyRow) {
	if row.RunID > 0 {
		st, err := c.RunState(ctx, devops.QueuedRun{ID: row.RunID, PipelineID: row.PipelineID, Link: row.Link})
		if err != nil {
			row.Note = s.scrubText("could not read the run's state: " + err.Error())
			row.Pending = row.State == "queued"
			return
		}
		row.Now, row.Class, row.Pending = st.Status, stateClass(st.Status), !st.Done
		row.Sub = fmt.Sprintf("run %d of %s", row.RunID, row.Pipeline)
		if !st.When.IsZero() {
			row.Sub += ", " + st.When.UTC().Format("15:04 UTC")
		}
		if st.Link != "" {
			row.Link = st.Link
		}
		return
	}
	pr, err := c.PullRequest(ctx, row.PullRequest)
	if err != nil {
		row.Note = s.scrubText("could not read the pull request: " + err.Error())
		return
	}
	row.Sub = fmt.Sprintf("pull request #%d %s", pr.ID, pr.State)
	for _, l := range pr.Labels {
		if l == devops.UpgradeLabel {
			row.Sub += ", labelled " + l
		}
	}
	if pr.WebURL != "" {
		row.Link = pr.WebURL
	}
}

func linkText(q Request) string {
	switch {
	case q.PullRequest > 0:
		return fmt.Sprintf("Open pull request #%d", q.PullRequest)
	case q.Pipeline != "":
		return "Open the run"
	}
	return "Open"
}

func stateClass(state string) string {
	switch state {
	case "succeeded", "committed":
		return "succeeded"
	case "failed", "canceled", "canceling":
		return "failed"
	}
	return "pending"
}

type historyPage struct {
	Solution string
	Profile  Profile
	Rows     []historyRow
	// Host lists the runs and commits the repository host has for the
	// solution (a deployment a merge started shows here).
	Host     []devops.HistoryEntry
	HostNote string
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	sp, _, ok := s.solutionContext(w, r, false)
	if !ok {
		return
	}
	reqs := sp.State.Requests
	newest := make([]Request, 0, len(reqs))
	for i := len(reqs) - 1; i >= 0 && len(newest) < 100; i-- {
		newest = append(newest, reqs[i])
	}
	hp := historyPage{Solution: sp.Solution, Profile: sp.Profile}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		hp.Rows = s.liveRows(r.Context(), sp.Profile, newest)
	}()
	if sp.Profile.Name != "" && sp.Profile.Host != HostLocal && s.opts.RepoHost != nil {
		ctx, cancel := context.WithTimeout(r.Context(), hostWait)
		defer cancel()
		c, err := s.repoHost(ctx, sp.Profile)
		if err == nil {
			hp.Host, err = c.History(ctx, sp.Solution, 20)
		}
		if err != nil {
			hp.HostNote = s.scrubText(err.Error())
		}
	}
	wg.Wait()
	p := page{Title: "Request history of " + sp.Solution, Data: hp}
	for _, row := range hp.Rows {
		if row.Pending {
			p.Refresh = s.refresh // something runs on the host: look again soon
		}
	}
	s.render(w, r, 200, "history", p)
}
