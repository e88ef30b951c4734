package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func init() { register("history", newHistoryCmd) }

func newHistoryCmd(f *Factory) *cobra.Command {
	var solution string
	var limit int
	var repo *repoFlags
	var out *output
	cmd := &cobra.Command{
		Use: "history --solution NAME",
		Example: `  ppalm history --solution MySolution --limit 10
  # on a terminal, in a clone: the host and repository come from its origin remote (token: GH_TOKEN, AZURE_DEVOPS_EXT_PAT)
  cd alm && ppalm history --solution MySolution`,
		Short: "List a solution's commits and pipeline runs, newest first",
		Long: "Lists the commits under NAME/ and the pipeline runs for the solution: runs of pipelines whose\n" +
			"name contains it, and runs tagged with it, started with it as a parameter or on a branch\n" +
			"named for it (GitHub: workflow runs whose name or title mention it).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := repo.client(ctx, f)
			if err != nil {
				return fmt.Errorf("history: %w", err)
			}
			entries, err := c.History(ctx, solution, limit)
			if err != nil {
				return err
			}
			if out.json() {
				doc := historyDoc{Solution: solution, Entries: []historyEntry{}}
				for _, e := range entries {
					he := historyEntry{Kind: e.Kind, Status: e.Status, By: e.By, Title: e.Title, Link: e.Link}
					if !e.When.IsZero() {
						he.When = e.When.UTC().Format(time.RFC3339)
					}
					doc.Entries = append(doc.Entries, he)
				}
				return f.writeJSON(doc)
			}
			if len(entries) == 0 {
				fmt.Fprintf(f.Stderr, "no commits or pipeline runs found for solution %q\n", solution)
				return nil
			}
			tw := tabwriter.NewWriter(f.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "WHEN\tKIND\tSTATUS\tBY\tWHAT\tLINK")
			for _, e := range entries {
				when := "-"
				if !e.When.IsZero() {
					when = e.When.UTC().Format("2006-01-02 15:04")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", when, e.Kind, dash(e.Status), dash(e.By), dash(e.Title), dash(e.Link))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&solution, "solution", "", "solution unique name (required)")
	cmd.Flags().IntVar(&limit, "limit", 20, "most entries to show")
	_ = cmd.MarkFlagRequired("solution")
	repo = addRepoFlags(cmd)
	out = addOutputFlag(cmd, historyDoc{})
	return cmd
}

// historyDoc is history's --output json document.
type historyDoc struct {
	Solution string         `json:"solution"`
	Entries  []historyEntry `json:"entries" doc:"newest first"`
}

type historyEntry struct {
	When   string `json:"when,omitempty" doc:"RFC 3339, UTC"`
	Kind   string `json:"kind" doc:"commit or run"`
	Status string `json:"status" doc:"a run's status or result; committed for commits"`
	By     string `json:"by"`
	Title  string `json:"title" doc:"commit subject, or pipeline name and run number"`
	Link   string `json:"link"`
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
