package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultBcryptCost is the crypt() work factor for new password and API-key
// hashes: OWASP's minimum for bcrypt. pgcrypto's own default (6) is below it.
// On the 2-vCPU development VM one cost-10 hash takes about 55 ms of
// database CPU, so verified credentials are cached by callers.
const DefaultBcryptCost = 10

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
	// Now is the clock of the process's own bookkeeping (the credential
	// cache, "last seen" pacing); nil means time.Now. The database's clock
	// rules everything it stores.
	Now func() time.Time
}

// DB is the data core's handle on one PostgreSQL database.
type DB struct {
	pool       *pgxpool.Pool
	keys       *Keyring
	bcryptCost int
	// creds remembers verified bearer tokens (authcache.go).
	creds credentialCache
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
	db := &DB{pool: pool, keys: opts.Keys, bcryptCost: opts.BcryptCost}
	db.creds.now = opts.Now
	if err := db.checkRole(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close releases every connection.
func (db *DB) Close() { db.pool.Close() }

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
