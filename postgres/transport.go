package postgres

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgcrypto runs on the server, so the encryption key and the plaintext of
// every encrypted value travel to PostgreSQL as statement parameters
// (pgcrypto's documentation, "Security Limitations"). They must not cross
// a network in clear.
//
// The check is made on every connection the pool actually establishes, in
// an AfterConnect hook, rather than on the configuration: that way it
// covers every path into the data core (the CLI, the server, tests), and
// what it sees is the connection that was made, not the one that was
// asked for. sslmode=prefer (libpq's and pgx's default) silently falls
// back to a plain connection when the server offers no TLS, a host name
// may resolve to a remote address, and a multi-host connection string may
// end up on any of its hosts; a check of the settings would miss each of
// these.

// ErrInsecureTransport is returned (wrapped, with the server's address)
// when a connection that would carry the encryption key is neither
// encrypted nor local.
var ErrInsecureTransport = errors.New("refusing to use an unencrypted connection to a database that is not on this machine: " +
	"the encryption key and the plaintext of encrypted values would cross the network in clear. " +
	"Turn on TLS (POSTGRES_SSL=true with POSTGRES_CA, or sslmode=verify-full with sslrootcert in the connection string), " +
	"connect over a Unix socket or a loopback address, " +
	"or, only if this network is trusted, set POSTGRES_ALLOW_INSECURE_TRANSPORT=true")

// transport is how an established connection reaches the server.
type transport struct {
	addr      string // the server's address, for messages
	encrypted bool   // TLS
	local     bool   // a Unix socket or a loopback address
}

func (t transport) secure() bool { return t.encrypted || t.local }

// transportOf inspects the network connection under a PostgreSQL
// connection. Anything it does not recognise (say, a connection wrapped by
// a custom dialer) counts as neither encrypted nor local: it fails closed.
func transportOf(c net.Conn) transport {
	addr := c.RemoteAddr()
	t := transport{addr: addr.String()}
	if _, ok := c.(*tls.Conn); ok {
		t.encrypted = true
	}
	if addr.Network() == "unix" {
		t.local = true
	} else if host, _, err := net.SplitHostPort(t.addr); err == nil {
		t.local = IsLocal(host)
	}
	return t
}

// refuseInsecureTransport returns cfg with an AfterConnect hook that
// closes every connection that is neither encrypted nor local, before any
// statement (and so any key) is sent on it. cfg itself is not changed.
func refuseInsecureTransport(cfg *pgxpool.Config) *pgxpool.Config {
	return beforeAfterConnect(cfg, func(_ context.Context, conn *pgx.Conn) error {
		if t := transportOf(conn.PgConn().Conn()); !t.secure() {
			return fmt.Errorf("%w (server %s)", ErrInsecureTransport, t.addr)
		}
		return nil
	})
}

// beforeAfterConnect returns a copy of cfg whose AfterConnect hook runs
// first, then cfg's own hook (if any), on every new connection.
func beforeAfterConnect(cfg *pgxpool.Config, first func(context.Context, *pgx.Conn) error) *pgxpool.Config {
	cfg = cfg.Copy()
	next := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		if err := first(ctx, conn); err != nil || next == nil {
			return err
		}
		return next(ctx, conn)
	}
	return cfg
}

// tlsVerification is how much of the server's certificate a TLS
// configuration checks.
type tlsVerification int

const (
	verifyNone  tlsVerification = iota // sslmode=require (without a root certificate), prefer, allow
	verifyChain                        // sslmode=verify-ca: the chain but not the host name
	verifyFull                         // sslmode=verify-full, or POSTGRES_SSL=true: chain and host name
)

// weakestVerification returns the least checking of cfg's TLS
// configurations: the connection may have been made with any of them.
func weakestVerification(cfg *pgconn.Config) tlsVerification {
	configs := []*tls.Config{cfg.TLSConfig}
	for _, fb := range cfg.Fallbacks {
		configs = append(configs, fb.TLSConfig)
	}
	weakest := verifyFull
	for _, c := range configs {
		switch {
		case c == nil || !c.InsecureSkipVerify:
			// A plain fallback is judged by the connection actually made.
		case c.VerifyPeerCertificate != nil:
			// pgx implements verify-ca by skipping Go's checks and
			// verifying the chain itself.
			weakest = min(weakest, verifyChain)
		default:
			weakest = verifyNone
		}
	}
	return weakest
}
