package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultBcryptCost is the crypt() work factor for new password and API-key
// hashes: OWASP's minimum for bcrypt. pgcrypto's own default (6) is below it.
// On the 2-vCPU development VM one cost-10 hash takes about 55 ms of
// database CPU, so verified credentials are cached by callers.
const DefaultBcryptCost = 10

// DefaultStatementTimeout bounds each statement of the API's work: far
// above what any of its statements needs (milliseconds), short enough
// that a stuck lock or an overloaded server answers 503 instead of
// holding the request, and its connection, indefinitely.
const DefaultStatementTimeout = 5 * time.Second

// Options are the data core's settings beyond the connection.
type Options struct {
	// Keys encrypt and decrypt columns. Nil means no key is configured;
	// operations that need one then fail with ErrNoEncryptionKey.
	Keys *Keyring
	// BcryptCost is the crypt() work factor for new hashes (4–31); zero
	// means DefaultBcryptCost.
	BcryptCost int
	// AllowInsecureTransport lets a DB with Keys use connections that are
	// neither encrypted nor local (see transport.go); without it such
	// connections are refused with ErrInsecureTransport. A DB without
	// Keys never sends a key and is not restricted.
	AllowInsecureTransport bool
	// StatementTimeout bounds every statement of the data core's units of
	// work (see limitSQL in tenancy.go); a statement that runs longer is
	// cancelled and the operation fails with takaro.CodeUnavailable. Zero
	// means DefaultStatementTimeout.
	StatementTimeout time.Duration
	// Throttles limit failed logins and token verifications; zero values
	// take the defaults (throttle.go).
	Throttles Throttles
	// ListenConfig is the connection on which the DB listens for changes
	// to identities (identitycache.go); nil means the pool's. It must
	// reach PostgreSQL directly (or through PgBouncer in session mode):
	// where it cannot deliver notifications, the identity cache is
	// bypassed.
	ListenConfig *pgx.ConnConfig
	// Logger receives the identity cache's listener state changes; nil
	// discards them.
	Logger *slog.Logger
	// Now is the clock of the process's own bookkeeping (the credential
	// cache, "last seen" pacing); nil means time.Now. The database's clock
	// rules everything it stores.
	Now func() time.Time
}

// ListenerApplicationName is the application_name of the identity cache's
// listening connection, by which an operator finds it in pg_stat_activity.
const ListenerApplicationName = "takaro identity listener"

// DB is the data core's handle on one PostgreSQL database.
type DB struct {
	pool       *pgxpool.Pool
	keys       *Keyring
	bcryptCost int
	// statementTimeout is Options.StatementTimeout in milliseconds, as
	// set_config takes it, and timeout the same for messages.
	statementTimeout string
	timeout          time.Duration
	// creds remembers verified bearer tokens (authcache.go).
	creds credentialCache
	// throttles limit failed authentication work (throttle.go).
	throttles *throttles
	// identities keeps verified identities (identitycache.go); its
	// listener starts with the first authentication, so commands that
	// authenticate nothing never open it.
	identities  *identityCache
	listenCfg   *pgx.ConnConfig
	log         *slog.Logger
	startListen sync.Once
	stopListen  context.CancelFunc
	listening   sync.WaitGroup
}

// Open connects to the database and checks that the connecting role is
// subject to row-level security. It does not touch the schema. With Keys,
// it refuses insecure connections unless AllowInsecureTransport.
func Open(ctx context.Context, cfg *pgxpool.Config, opts Options) (*DB, error) {
	if opts.BcryptCost == 0 {
		opts.BcryptCost = DefaultBcryptCost
	}
	if opts.BcryptCost < 4 || opts.BcryptCost > 31 {
		return nil, fmt.Errorf("bcrypt cost must be between 4 and 31, not %d", opts.BcryptCost)
	}
	if opts.StatementTimeout == 0 {
		opts.StatementTimeout = DefaultStatementTimeout
	}
	if opts.StatementTimeout < time.Millisecond {
		return nil, fmt.Errorf("statement timeout must be at least 1ms, not %s", opts.StatementTimeout)
	}
	listenCfg := opts.ListenConfig
	if listenCfg == nil {
		listenCfg = cfg.ConnConfig
	}
	listenCfg = listenCfg.Copy()
	listenCfg.Tracer = nil
	listenCfg.RuntimeParams["application_name"] = ListenerApplicationName
	identities := newIdentityCache(opts.Now)
	cfg = decodeJSONFast(cfg)
	cfg.ConnConfig.OnNotice = identities.onNotice(cfg.ConnConfig.OnNotice)
	if opts.Keys != nil && !opts.AllowInsecureTransport {
		cfg = refuseInsecureTransport(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to the database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to the database: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	db := &DB{pool: pool, keys: opts.Keys, bcryptCost: opts.BcryptCost, timeout: opts.StatementTimeout,
		statementTimeout: strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10),
		throttles:        newThrottles(opts.Throttles), identities: identities, listenCfg: listenCfg, log: opts.Logger, stopListen: func() {}}
	db.creds.now = opts.Now
	if err := db.checkRole(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close releases every connection, the listening one included.
func (db *DB) Close() {
	db.startListen.Do(func() {}) // no listener starts any more
	db.stopListen()
	db.listening.Wait()
	db.pool.Close()
}

// ensureListening starts the identity cache's listener once.
func (db *DB) ensureListening() {
	db.startListen.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		db.stopListen = cancel
		db.listening.Go(func() { db.identities.listen(ctx, db.listenCfg, db.log) })
	})
}

// Pool returns the connection pool, for the migrator and health checks.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// checkRole refuses roles that PostgreSQL exempts from row-level security:
// superusers and roles with BYPASSRLS would see every tenant's rows the
// moment a query forgot its domain filter.
func (db *DB) checkRole(ctx context.Context) error {
	var role, database string
	var super, bypass bool
	err := db.pool.QueryRow(ctx,
		`SELECT current_user, current_database(), rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`,
	).Scan(&role, &database, &super, &bypass)
	if err != nil {
		return fmt.Errorf("read the connecting role: %w", err)
	}
	if super || bypass {
		what := "a superuser"
		if !super {
			what = "allowed to bypass row-level security (BYPASSRLS)"
		}
		return fmt.Errorf("the database role %q is %s, so PostgreSQL would not apply row-level security, "+
			"and tenant isolation would rest on the application alone. "+
			"Connect as a dedicated role that owns the database instead, for example as a superuser:\n"+
			"  CREATE ROLE takaro LOGIN PASSWORD '<password>' NOSUPERUSER NOBYPASSRLS;\n"+
			"  ALTER DATABASE %s OWNER TO takaro;\n"+
			"and set POSTGRES_USER=takaro (or the user of POSTGRES_CONNECTION_STRING)",
			role, what, quoteIdent(database))
	}
	return nil
}
