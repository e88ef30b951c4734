// Package githttp serves bare git repositories over the smart HTTP protocol
// (protocol v0/v1, stateless RPC), built on go-git's server-side upload-pack
// and receive-pack sessions. `ppalm demo` uses it as the "remote" repository on
// loopback, and tests use it to prove that pushes and clones really happen.
//
// The wire format, as git's http-backend speaks it:
//
//   - GET  /<name>.git/info/refs?service=git-upload-pack|git-receive-pack
//     answers "application/x-<service>-advertisement": the pkt-line
//     "# service=<service>\n", a flush-pkt, then the reference advertisement.
//   - POST /<name>.git/git-upload-pack takes wants, optional shallow/deepen
//     lines, a flush-pkt, then "have" lines ending in a flush-pkt (another
//     round follows) or "done" (send the pack). Without multi_ack the server
//     answers "ACK <first common>" or "NAK" per round, then the pack. A
//     body that ends right after the wants (a deepening client's first
//     round) gets only the shallow-update section.
//   - POST /<name>.git/git-receive-pack takes "<old> <new> <ref>" commands, a
//     flush-pkt and a pack, and answers a report-status. A body that is only
//     a flush-pkt is git's authentication probe and gets an empty 200.
//
// Clients may ask for a shallow history (--depth); the server answers with an
// empty shallow-update section and sends the whole history, which git and
// go-git accept. Request bodies may be gzip-encoded (git does so for large negotiations).
// Reference updates are compare-and-swap: a command whose old hash is not the
// current value is refused ("stale info"), so a racing push cannot silently
// overwrite another. Only SHA-1 repositories are served.
package githttp

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
)

const (
	uploadPack  = "git-upload-pack"
	receivePack = "git-receive-pack"
)

// Server serves the bare repositories found under one root folder.
type Server struct {
	root   string
	loader server.Loader
	git    transport.Transport
	user   string
	pass   string
	auth   bool

	mu    sync.Mutex
	locks map[string]*sync.RWMutex
}

// Option configures a Server.
type Option func(*Server)

// WithBasicAuth requires every request to carry HTTP basic credentials equal
// to user and pass.
func WithBasicAuth(user, pass string) Option {
	return func(s *Server) {
		s.user, s.pass, s.auth = user, pass, true
	}
}

// NewServer returns a server for the bare repositories under root; a
// repository at root/team/app.git is served at /team/app.git.
func NewServer(root string, opts ...Option) *Server {
	loader := server.NewFilesystemLoader(osfs.New(root))
	s := &Server{
		root:   root,
		loader: loader,
		git:    server.NewServer(loader),
		locks:  map[string]*sync.RWMutex{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// InitBare creates an empty bare repository root/name (".git" is appended
// when missing) whose HEAD points at defaultBranch, and returns its path.
func (s *Server) InitBare(name string, defaultBranch string) (string, error) {
	if !strings.HasSuffix(name, ".git") {
		name += ".git"
	}
	if err := validRepoName(name); err != nil {
		return "", fmt.Errorf("create bare repository %q: %w", name, err)
	}
	if defaultBranch == "" {
		defaultBranch = "main"
	}
	branch := plumbing.NewBranchReferenceName(defaultBranch)
	if err := branch.Validate(); err != nil {
		return "", fmt.Errorf("create bare repository %q: default branch %q: %w", name, defaultBranch, err)
	}
	dir := filepath.Join(s.root, filepath.FromSlash(name))
	if _, err := os.Stat(dir); err == nil {
		return "", fmt.Errorf("create bare repository %q: %s already exists", name, dir)
	}
	_, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: branch},
	})
	if err != nil {
		return "", fmt.Errorf("create bare repository %q: %w", name, err)
	}
	return dir, nil
}

// Handler returns the HTTP handler serving the smart protocol.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.auth && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="ppalm git"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(p, "/info/refs"):
		s.serveAdvertisement(w, r, strings.TrimSuffix(p, "/info/refs"))
	case r.Method == http.MethodPost && strings.HasSuffix(p, "/"+uploadPack):
		s.serveUploadPack(w, r, strings.TrimSuffix(p, "/"+uploadPack))
	case r.Method == http.MethodPost && strings.HasSuffix(p, "/"+receivePack):
		s.serveReceivePack(w, r, strings.TrimSuffix(p, "/"+receivePack))
	default:
		http.Error(w, "not a git smart HTTP request", http.StatusNotFound)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u := subtle.ConstantTimeCompare([]byte(user), []byte(s.user))
	pw := subtle.ConstantTimeCompare([]byte(pass), []byte(s.pass))
	return u&pw == 1
}

// validRepoName refuses names that could leave the root folder.
func validRepoName(name string) error {
	if name == "" || strings.ContainsAny(name, "\\:\x00") {
		return fmt.Errorf("invalid repository name %q", name)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("invalid repository name %q: empty, \".\" or \"..\" segment", name)
		}
	}
	return nil
}

// repo resolves the URL prefix to a repository name and its lock.
func (s *Server) repo(w http.ResponseWriter, urlPath string) (string, *sync.RWMutex, bool) {
	name := strings.TrimPrefix(urlPath, "/")
	if err := validRepoName(name); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return "", nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.locks[name]
	if !ok {
		l = &sync.RWMutex{}
		s.locks[name] = l
	}
	return name, l, true
}

func endpoint(name string) *transport.Endpoint {
	return &transport.Endpoint{Protocol: "file", Path: "/" + name}
}

func sessionError(w http.ResponseWriter, name string, err error) {
	if errors.Is(err, transport.ErrRepositoryNotFound) {
		http.Error(w, fmt.Sprintf("repository %q not found", name), http.StatusNotFound)
		return
	}
	http.Error(w, fmt.Sprintf("repository %q: %v", name, err), http.StatusInternalServerError)
}

func (s *Server) serveAdvertisement(w http.ResponseWriter, r *http.Request, urlPath string) {
	service := r.URL.Query().Get("service")
	if service != uploadPack && service != receivePack {
		http.Error(w, "dumb HTTP protocol not supported; ask for ?service=git-upload-pack or git-receive-pack", http.StatusForbidden)
		return
	}
	name, lock, ok := s.repo(w, urlPath)
	if !ok {
		return
	}
	lock.RLock()
	defer lock.RUnlock()

	var adv *packp.AdvRefs
	var err error
	if service == uploadPack {
		var sess transport.UploadPackSession
		if sess, err = s.git.NewUploadPackSession(endpoint(name), nil); err == nil {
			adv, err = sess.AdvertisedReferencesContext(r.Context())
		}
		if err == nil {
			// git refuses --depth without it; see serveUploadPack.
			err = adv.Capabilities.Set(capability.Shallow)
		}
	} else {
		var sess transport.ReceivePackSession
		if sess, err = s.git.NewReceivePackSession(endpoint(name), nil); err == nil {
			adv, err = sess.AdvertisedReferencesContext(r.Context())
		}
	}
	if err != nil {
		sessionError(w, name, err)
		return
	}
	var buf bytes.Buffer
	e := pktline.NewEncoder(&buf)
	if err := e.Encodef("# service=%s\n", service); err != nil {
		sessionError(w, name, err)
		return
	}
	if err := e.Flush(); err != nil {
		sessionError(w, name, err)
		return
	}
	if err := adv.Encode(&buf); err != nil {
		sessionError(w, name, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-"+service+"-advertisement")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(buf.Bytes())
}

func requestBody(r *http.Request) (io.Reader, error) {
	if r.Header.Get("Content-Encoding") == "gzip" {
		return gzip.NewReader(r.Body)
	}
	return r.Body, nil
}

// openService starts a POST to a git service: the repository, its lock and
// the request body. ok is false when the request was answered already (an
// error, or git's 4-byte probe).
func (s *Server) openService(w http.ResponseWriter, r *http.Request, urlPath, service string) (name string, lock *sync.RWMutex, br *bufio.Reader, ok bool) {
	name, lock, ok = s.repo(w, urlPath)
	if !ok {
		return "", nil, nil, false
	}
	body, err := requestBody(r)
	if err != nil {
		http.Error(w, "bad gzip body: "+err.Error(), http.StatusBadRequest)
		return "", nil, nil, false
	}
	br = bufio.NewReader(body)
	w.Header().Set("Content-Type", "application/x-"+service+"-result")
	w.Header().Set("Cache-Control", "no-cache")
	if isProbe(br) {
		return "", nil, nil, false
	}
	return name, lock, br, true
}

func (s *Server) serveUploadPack(w http.ResponseWriter, r *http.Request, urlPath string) {
	name, lock, br, ok := s.openService(w, r, urlPath, uploadPack)
	if !ok {
		return
	}
	req := packp.NewUploadPackRequest()
	if err := req.UploadRequest.Decode(br); err != nil {
		http.Error(w, "bad upload-pack request: "+err.Error(), http.StatusBadRequest)
		return
	}
	haves, done, lines, err := readHaves(br)
	if err != nil {
		http.Error(w, "bad upload-pack request: "+err.Error(), http.StatusBadRequest)
		return
	}

	lock.RLock()
	defer lock.RUnlock()
	sto, err := s.loader.Load(endpoint(name))
	if err != nil {
		sessionError(w, name, err)
		return
	}
	// Without multi_ack, git acknowledges only the first have it holds.
	var common []plumbing.Hash
	for _, h := range haves {
		if sto.HasEncodedObject(h) == nil {
			common = append(common, h)
		}
	}

	// Depth is honoured by answering "no commit is shallow" and sending the
	// whole history: consistent for the client, simple for the server. Each
	// stateless response then starts with that empty shallow-update section.
	deepen := !req.Depth.IsZero()
	if deepen {
		req.Depth = packp.DepthCommits(0)
		req.Capabilities.Delete(capability.Shallow)
	}
	e := pktline.NewEncoder(w)
	if lines == 0 {
		// A deepening client reads the shallow list before negotiating.
		if deepen {
			_ = e.Flush()
		}
		return
	}
	if !done {
		// Another negotiation round follows in a new request.
		if deepen {
			_ = e.Flush()
		}
		if len(common) > 0 {
			_ = e.Encodef("ACK %s\n", common[0])
		} else {
			_ = e.Encodef("NAK\n")
		}
		return
	}

	// A shallow client's haves may hide objects below its boundary, and
	// go-git's session refuses shallow lines, so it gets everything.
	if len(req.Shallows) > 0 {
		req.Shallows = nil
		common = nil
	}
	req.Haves = common
	sess, err := s.git.NewUploadPackSession(endpoint(name), nil)
	if err != nil {
		sessionError(w, name, err)
		return
	}
	resp, err := sess.UploadPack(r.Context(), req)
	if err != nil {
		http.Error(w, fmt.Sprintf("upload-pack %q: %v", name, err), http.StatusInternalServerError)
		return
	}
	if len(common) > 0 {
		resp.ServerResponse.ACKs = common[:1]
	}
	if deepen {
		_ = e.Flush()
	}
	// Headers are gone once the pack streams; a failure now can only cut
	// the response short, which the client reports as a truncated pack.
	_ = resp.Encode(w)
}

// isProbe reports a body that is a lone flush-pkt: git sends it before a
// large chunked request only to check that authentication works.
func isProbe(br *bufio.Reader) bool {
	b, _ := br.Peek(5)
	return string(b) == "0000"
}

// readHaves reads the negotiation part of an upload-pack request: "have"
// lines, flush-pkts between rounds and the final "done".
// lines counts the packets read, flush-pkts included.
func readHaves(r io.Reader) (haves []plumbing.Hash, done bool, lines int, err error) {
	sc := pktline.NewScanner(r)
	for sc.Scan() {
		lines++
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\n"))
		switch {
		case len(line) == 0: // flush-pkt ends a round
		case bytes.Equal(line, []byte("done")):
			return haves, true, lines, nil
		case bytes.HasPrefix(line, []byte("have ")):
			h := string(line[len("have "):])
			if len(h) != 40 {
				return nil, false, lines, fmt.Errorf("malformed have line %q", line)
			}
			haves = append(haves, plumbing.NewHash(h))
		default:
			return nil, false, lines, fmt.Errorf("unexpected line %q", line)
		}
	}
	return haves, false, lines, sc.Err()
}

func (s *Server) serveReceivePack(w http.ResponseWriter, r *http.Request, urlPath string) {
	name, lock, br, ok := s.openService(w, r, urlPath, receivePack)
	if !ok {
		return
	}
	req := packp.NewReferenceUpdateRequest()
	if err := req.Decode(br); err != nil {
		http.Error(w, "bad receive-pack request: "+err.Error(), http.StatusBadRequest)
		return
	}

	lock.Lock()
	defer lock.Unlock()
	sto, err := s.loader.Load(endpoint(name))
	if err != nil {
		sessionError(w, name, err)
		return
	}
	if refused := refusedCommands(sto, req.Commands); len(refused) > 0 {
		if req.Packfile != nil {
			_ = req.Packfile.Close()
		}
		rs := packp.NewReportStatus()
		rs.UnpackStatus = "ok"
		for _, c := range req.Commands {
			msg, ok := refused[c.Name]
			if !ok {
				msg = "atomic push failed"
			}
			rs.CommandStatuses = append(rs.CommandStatuses, &packp.CommandStatus{ReferenceName: c.Name, Status: msg})
		}
		_ = rs.Encode(w)
		return
	}
	sess, err := s.git.NewReceivePackSession(endpoint(name), nil)
	if err != nil {
		sessionError(w, name, err)
		return
	}
	rs, err := sess.ReceivePack(r.Context(), req)
	if rs != nil {
		_ = rs.Encode(w)
		return
	}
	if err != nil {
		http.Error(w, fmt.Sprintf("receive-pack %q: %v", name, err), http.StatusInternalServerError)
	}
}

// refusedCommands gives the reason for each command that must not run: a
// bad reference name, or an old hash that is not the reference's current
// value (zero meaning "must not exist yet").
func refusedCommands(sto storer.Storer, cmds []*packp.Command) map[plumbing.ReferenceName]string {
	refused := map[plumbing.ReferenceName]string{}
	for _, c := range cmds {
		if !validRefName(c.Name) {
			refused[c.Name] = "funny refname"
			continue
		}
		cur := plumbing.ZeroHash
		if ref, err := sto.Reference(c.Name); err == nil {
			cur = ref.Hash()
		}
		if cur != c.Old {
			refused[c.Name] = "stale info"
		}
	}
	return refused
}

func validRefName(n plumbing.ReferenceName) bool {
	return strings.HasPrefix(n.String(), "refs/") && n.Validate() == nil &&
		path.Clean(n.String()) == n.String()
}
