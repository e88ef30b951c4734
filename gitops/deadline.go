package gitops

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// DefaultStallTimeout is how long a git server may stay silent (no byte
// read or written on the connection, connecting included) before the
// operation fails. A whole clone or push may take as long as it needs
// while data flows; a server that accepts and never answers fails in this
// time, naming the host.
const DefaultStallTimeout = 2 * time.Minute

type stallKey struct{}

// withStall puts the silence limit into ctx, where the dialer finds it.
// Every operation that reaches a remote starts here, so this is also where
// ppalm's transport is installed.
func withStall(ctx context.Context, d time.Duration) context.Context {
	installTransport()
	if d <= 0 {
		d = DefaultStallTimeout
	}
	return context.WithValue(ctx, stallKey{}, d)
}

func stallOf(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(stallKey{}).(time.Duration); ok {
		return d
	}
	return DefaultStallTimeout
}

// stallConn renews its deadline before every read and write, so the
// deadline measures silence, not the length of a transfer.
type stallConn struct {
	net.Conn
	d time.Duration
}

func (c *stallConn) Read(p []byte) (int, error) {
	_ = c.Conn.SetDeadline(time.Now().Add(c.d))
	return c.Conn.Read(p)
}

func (c *stallConn) Write(p []byte) (int, error) {
	_ = c.Conn.SetDeadline(time.Now().Add(c.d))
	return c.Conn.Write(p)
}

// go-git's http transport is chosen per URL scheme, process-wide
// (client.InstallProtocol); ppalm's has a dialer that applies the silence
// limit the operation's context carries, and the usual proxy settings.
// Installed on first use, not at every ppalm start (unpack never needs it).
var installTransport = sync.OnceFunc(func() {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := stallOf(ctx)
		conn, err := (&net.Dialer{Timeout: d, KeepAlive: 30 * time.Second}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &stallConn{Conn: conn, d: d}, nil
	}
	tr.ResponseHeaderTimeout = 0 // the connection's own deadline covers it
	c := githttp.NewClient(&http.Client{Transport: tr})
	client.InstallProtocol("http", c)
	client.InstallProtocol("https", c)
})

// networkError says which host stopped answering, and for how long, when
// err is a timeout; otherwise err is returned as is.
func networkError(remote string, err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	var ne net.Error
	if (errors.As(err, &ne) && ne.Timeout()) || errors.Is(err, os.ErrDeadlineExceeded) {
		host := remote
		if u, perr := url.Parse(remote); perr == nil && u.Host != "" {
			host = u.Host
		}
		if d <= 0 {
			d = DefaultStallTimeout
		}
		return fmt.Errorf("git server %s did not answer for %s (check the URL, proxy and firewall): %w", host, d, err)
	}
	return err
}
