// Package gitops publishes an unpacked solution to a git repository and reads
// one back, entirely through go-git (no git binary needed).
//
// Commit rules, in the Accelerator's words "commit solution to git":
//
//   - The repository is a working copy on disk (the checkout the pipeline
//     made, possibly on a detached HEAD) or a URL, which is cloned shallow
//     (depth 1, one branch, no checkout) into a temporary folder removed
//     afterwards.
//   - The target branch is used when it exists locally, as a remote-tracking
//     branch, or on the remote; otherwise it is created from the base branch
//     (default "main"). An empty remote gets a root commit.
//   - The repository folder Path is replaced by the folder's files exactly:
//     added, modified and deleted files, nothing outside Path touched. The
//     new tree is built object by object from the folder, so the run never
//     calls go-git's Status (slow on thousands of files) and unrelated local
//     changes in a working copy are not committed. With KeepOthers the
//     folder's files are added or replaced and the other files of Path
//     stay (one file of a folder changes: the maker app's profiles file).
//   - Files are stored byte for byte (no autocrlf or eol conversion); tree
//     paths always use "/". Files are mode 100644 unless executable on a
//     system that has the bit. Symbolic links and other special files are
//     refused, and so are two paths that differ only in letter case, since
//     they break checkouts on Windows and macOS.
//   - Author and committer are explicit and carry the injected clock's time.
//     No change means no commit (CommitResult.Committed false).
//   - Pushing sends only the target branch. Tokens go as HTTP basic auth:
//     username from the URL when it has one, otherwise "x-access-token"
//     (GitHub's convention; Azure Repos accepts any username with a PAT or
//     System.AccessToken). A password written in the URL
//     (https://user:PAT@host/...) is the credential sent, in preference to
//     the token from the environment; it is never dropped silently.
//     Tokens and URL passwords are scrubbed from every error text, and
//     errors name the repository without its user information.
//   - Credentials are never sent over plain http:// except to a loopback
//     host (127.0.0.0/8, ::1, localhost); the refusal comes before any
//     connection. Anonymous http remotes still work.
//   - Every connection has a stall deadline (DefaultStallTimeout, or
//     CommitOptions.StallTimeout / ReadOptions.StallTimeout): connecting,
//     and each read and write, must make progress within it, so a server
//     that accepts and never answers fails the run naming its host, while a
//     long transfer that keeps moving is never cut. go-git picks its http
//     transport per scheme process-wide, so ppalm installs its own once.
//   - A working copy's Path is replaced only when nothing under it is
//     uncommitted: files new or changed on disk, or staged, compared with
//     HEAD (ignored files count, since they would be deleted too). Otherwise
//     Commit refuses with an *UncommittedError naming them, before it
//     switches branch or touches a file; DiscardChanges (--discard-changes)
//     overrides. Publishing the folder Path itself replaces nothing.
//   - Azure Repos (dev.azure.com, *.visualstudio.com) refuses clients that do
//     not claim multi_ack (TF401041). go-git v5 strips multi_ack by default;
//     for such URLs ppalm removes it from transport.UnsupportedCapabilities,
//     once per process, as go-git's Azure DevOps example does. That makes
//     clones and pushes work; fetches into an existing clone may not, which
//     is why URL runs always start from a fresh clone.
package gitops
