package postgres

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ConnConfig says how to reach the database. It mirrors the reference
// platform's environment variables so existing deployments keep working.
type ConnConfig struct {
	// URL is a libpq connection string or URL. When set it wins over the
	// discrete fields, and its sslmode is honoured as written.
	URL string
	// Discrete settings, used when URL is empty.
	Host     string
	Port     int
	User     string
	Password string
	Database string
	// SSL turns on TLS with verification of the server's certificate chain
	// and host name.
	SSL bool
	// CA is a PEM bundle, or the path of a file holding one, that the
	// server's certificate must chain to. Empty means the system roots.
	CA string
	// MaxConns bounds the pool; zero means DefaultPoolSize.
	MaxConns int32
	// ConnectTimeout bounds each attempt to connect; zero means
	// DefaultConnectTimeout. A connect_timeout in URL wins.
	ConnectTimeout time.Duration
}

// DefaultConnectTimeout bounds a connection attempt when nothing else is
// configured: a server that accepts TCP and never answers would otherwise
// hold a command for as long as the operating system keeps trying.
const DefaultConnectTimeout = 10 * time.Second

// DefaultPoolSize is the pool's default size: one connection per CPU of
// this process, and at least 4. Requests spend most of their time waiting
// for the database, so the processes' CPUs are what the pool serves; size
// it against the server's max_connections (see the README).
func DefaultPoolSize() int32 {
	return int32(max(4, runtime.NumCPU()))
}

// PoolConfig turns c into a pgx pool configuration.
func (c ConnConfig) PoolConfig() (*pgxpool.Config, error) {
	connString := c.URL
	if connString == "" {
		connString = c.keywordString()
	}
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		// pgx's parse errors quote the connection string, redacting the
		// password only on a best-effort basis: pass on the cause alone.
		msg := "invalid database connection settings (check POSTGRES_CONNECTION_STRING or POSTGRES_HOST/PORT/USER/DB)"
		if cause := errors.Unwrap(err); cause != nil {
			msg += ": " + cause.Error()
		}
		return nil, errors.New(msg)
	}
	urlSetsSSLMode := c.URL != "" && strings.Contains(c.URL, "sslmode")
	if urlSetsSSLMode && c.CA != "" {
		return nil, errors.New("POSTGRES_CA applies to POSTGRES_SSL, but POSTGRES_CONNECTION_STRING sets its own sslmode: " +
			"name the CA there with sslrootcert=<file>, or drop sslmode from it")
	}
	if c.SSL && !urlSetsSSLMode {
		if err := c.requireTLS(cfg); err != nil {
			return nil, err
		}
	}
	cfg.MaxConns = cmp.Or(c.MaxConns, DefaultPoolSize())
	if c.URL == "" || !strings.Contains(c.URL, "connect_timeout") {
		cfg.ConnConfig.ConnectTimeout = cmp.Or(c.ConnectTimeout, DefaultConnectTimeout)
	}
	if !strings.Contains(connString, "default_query_exec_mode") {
		cfg.ConnConfig.DefaultQueryExecMode = DefaultQueryExecMode
	}
	return cfg, nil
}

// DefaultQueryExecMode is how statements are sent unless the connection
// string says otherwise (default_query_exec_mode=…). pgx's own default
// prepares a named statement per query on each connection; behind
// PgBouncer in transaction mode (1.18 and later, before 1.21's
// max_prepared_statements) consecutive transactions land on different
// server connections, so a name is found already prepared (42P05) or
// missing (26000). Caching statement descriptions instead sends each
// query with the unnamed statement (Parse, Bind, Execute and Sync
// together), which a transaction pooler handles like any other, in one
// round trip once the description is cached, with binary parameters of
// the types the server described. The parameters stay bind parameters:
// the simple protocol (simple_protocol) would splice them into the query
// text, where pg_stat_activity and the server log show them, the
// encryption key included; the doctor warns about it. exec would send
// them as untyped text, which some of our statements' types do not
// survive unchanged.
const DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe

// keywordString builds a libpq keyword/value string from the discrete
// fields; values are quoted, so nothing in them can add a keyword.
func (c ConnConfig) keywordString() string {
	port := c.Port
	if port == 0 {
		port = 5432
	}
	kv := []string{
		"host", orDefault(c.Host, "localhost"),
		"port", strconv.Itoa(port),
		"user", orDefault(c.User, "postgres"),
		"password", c.Password,
		"dbname", orDefault(c.Database, "postgres"),
		"sslmode", "disable", // TLS, when asked for, is configured explicitly with verification
	}
	var b strings.Builder
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		fmt.Fprintf(&b, "%s='%s' ", kv[i], strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(kv[i+1]))
	}
	return b.String()
}

// requireTLS makes every host of cfg use TLS verified against its own
// name. pgx's default (sslmode=prefer) adds, per host, a fallback without
// TLS; those are dropped, the other hosts of a multi-host string kept.
func (c ConnConfig) requireTLS(cfg *pgxpool.Config) error {
	cc := cfg.ConnConfig
	tlsConfig, err := c.tlsConfig(cc.Host)
	if err != nil {
		return err
	}
	cc.TLSConfig = tlsConfig
	seen := map[string]bool{net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))): true}
	var fallbacks []*pgconn.FallbackConfig
	for _, fb := range cc.Fallbacks {
		addr := net.JoinHostPort(fb.Host, strconv.Itoa(int(fb.Port)))
		if seen[addr] {
			continue
		}
		seen[addr] = true
		if fb.TLSConfig, err = c.tlsConfig(fb.Host); err != nil {
			return err
		}
		fallbacks = append(fallbacks, fb)
	}
	cc.Fallbacks = fallbacks
	return nil
}

// tlsConfig verifies the server's chain against the CA (or the system
// roots) and its certificate against host.
func (c ConnConfig) tlsConfig(host string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if c.CA == "" {
		return cfg, nil
	}
	pem := []byte(c.CA)
	if !strings.Contains(c.CA, "-----BEGIN") {
		var err error
		if pem, err = os.ReadFile(c.CA); err != nil {
			return nil, fmt.Errorf("POSTGRES_CA: cannot read the CA file: %w", err)
		}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("POSTGRES_CA: no PEM certificate found")
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// IsLocal reports whether host is a Unix socket directory or a loopback
// address, where traffic to the database never crosses a network.
func IsLocal(host string) bool {
	if strings.HasPrefix(host, "/") {
		return true
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
