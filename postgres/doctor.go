package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The doctor checks a live database for what would weaken the protection
// of tenants' data and secrets, and says for each finding what to do. It
// only reads: it installs nothing, changes no setting, and never sends an
// encryption key (it compares key identifiers), so it can examine a
// database that the other commands refuse to use.

// CheckStatus is the verdict of one check.
type CheckStatus int

// The verdicts, from best to worst.
const (
	Pass CheckStatus = iota
	Warn
	Fail
)

func (s CheckStatus) String() string {
	switch s {
	case Pass:
		return "pass"
	case Warn:
		return "warn"
	}
	return "fail"
}

// Check is the result of one of the doctor's checks.
type Check struct {
	Name   string
	Status CheckStatus
	// Detail says what was found.
	Detail string
	// Advice says what to do about a warning or failure; it may hold
	// statements to run, one per line.
	Advice string
}

// DoctorOptions is what the doctor compares the database with.
type DoctorOptions struct {
	// Migrations are the binary's migrations (Migrations() in production).
	Migrations fs.FS
	// KeyIDs are the identifiers of the configured encryption keys, the
	// current first (Keyring.IDs); empty when no key is configured.
	KeyIDs []string
}

// Doctor runs every check and returns the results in a fixed order. A
// check that cannot run reports a failure saying why; the others still run.
func (db *DB) Doctor(ctx context.Context, opts DoctorOptions) []Check {
	return []Check{
		db.checkPgcrypto(ctx),
		db.checkTransport(ctx),
		db.checkRowLevelSecurity(ctx),
		db.checkMigrations(ctx, opts.Migrations),
		db.checkKeys(ctx, opts.KeyIDs),
		db.checkBcryptCost(),
		db.checkServerLog(ctx),
		db.checkExecMode(),
	}
}

// checkExecMode warns when statements would be sent with the simple
// protocol, which puts their parameters, the encryption key included,
// into the query text that pg_stat_activity, the server log and every
// pooler in between show.
func (db *DB) checkExecMode() Check {
	const name = "query exec mode"
	mode := db.pool.Config().ConnConfig.DefaultQueryExecMode
	if mode == pgx.QueryExecModeSimpleProtocol {
		return Check{Name: name, Status: Warn,
			Detail: "default_query_exec_mode=simple_protocol puts statement parameters, the encryption key included, into the query text " +
				"(visible in pg_stat_activity and the server log)",
			Advice: "Remove default_query_exec_mode from the connection string: the default (cache_describe) works behind PgBouncer in transaction mode " +
				"and keeps parameters out of the query text"}
	}
	return Check{Name: name, Status: Pass, Detail: mode.String() + ": parameters travel as bind parameters, never in the query text"}
}

// cannotCheck is the result of a check whose queries failed.
func cannotCheck(name string, err error) Check {
	return Check{Name: name, Status: Fail, Detail: "could not check: " + err.Error()}
}

func (db *DB) checkPgcrypto(ctx context.Context) Check {
	const name = "pgcrypto"
	var version string
	err := db.pool.QueryRow(ctx, "SELECT extversion FROM pg_extension WHERE extname = 'pgcrypto'").Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		var database string
		_ = db.pool.QueryRow(ctx, "SELECT current_database()").Scan(&database)
		return Check{Name: name, Status: Fail,
			Detail: "the pgcrypto extension is not installed: game servers' connection info can be neither encrypted nor read, and no password can be checked",
			Advice: "As the database owner or a superuser, in database " + quoteIdent(database) + ", run:\n  CREATE EXTENSION pgcrypto;\n" +
				"(takaro db migrate also installs it when its role may)"}
	case err != nil:
		return cannotCheck(name, err)
	}
	return Check{Name: name, Status: Pass, Detail: "installed, version " + version}
}

func (db *DB) checkTransport(ctx context.Context) Check {
	const name = "transport"
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return cannotCheck(name, err)
	}
	t := transportOf(conn.Conn().PgConn().Conn())
	conn.Release()
	advice := "Use TLS with verification of the server's certificate: POSTGRES_SSL=true with POSTGRES_CA " +
		"(the CA that signed the server's certificate), or sslmode=verify-full and sslrootcert in POSTGRES_CONNECTION_STRING"
	switch {
	case t.local:
		return Check{Name: name, Status: Pass, Detail: "local connection (" + t.addr + "): nothing crosses a network"}
	case !t.encrypted:
		return Check{Name: name, Status: Fail,
			Detail: "unencrypted connection to " + t.addr + ": the encryption key and the plaintext of encrypted values cross the network in clear",
			Advice: advice}
	}
	switch weakestVerification(&db.pool.Config().ConnConfig.Config) {
	case verifyFull:
		return Check{Name: name, Status: Pass, Detail: "TLS to " + t.addr + ", the server's certificate and host name verified"}
	case verifyChain:
		return Check{Name: name, Status: Warn,
			Detail: "TLS to " + t.addr + ", but only the certificate chain is verified, not the host name (sslmode=verify-ca)",
			Advice: advice}
	}
	return Check{Name: name, Status: Warn,
		Detail: "TLS to " + t.addr + " without verification of the server's certificate: whoever sits between takaro and the database can read the key",
		Advice: advice}
}

// tenantTablesSQL lists the tenant tables (those with a domain column,
// outside extensions) of the current schema, with their row-level security
// state: enabled, forced, isolated by a policy on takaro.domain, and the
// permissive policies that no transaction-local takaro setting gates
// (such as USING (true)): permissive policies add up, so one of those
// would open the table whatever the domain.
const tenantTablesSQL = `
	SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
	       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid
	               AND pg_get_expr(p.polqual, p.polrelid) LIKE '%current_setting(''takaro.domain''%'),
	       ARRAY(SELECT p.polname::text FROM pg_policy p WHERE p.polrelid = c.oid AND p.polpermissive
	             AND coalesce(pg_get_expr(p.polqual, p.polrelid), '') NOT LIKE '%current_setting(''takaro.%' ORDER BY 1)
	FROM pg_class c
	WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
	  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
	  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'domain' AND NOT a.attisdropped)
	ORDER BY 1`

func (db *DB) checkRowLevelSecurity(ctx context.Context) Check {
	const name = "row-level security"
	rows, err := db.pool.Query(ctx, tenantTablesSQL)
	if err != nil {
		return cannotCheck(name, err)
	}
	var tables int
	var problems, fixes []string
	var table string
	var enabled, forced, isolated bool
	var widening []string
	_, err = pgx.ForEachRow(rows, []any{&table, &enabled, &forced, &isolated, &widening}, func() error {
		tables++
		ident := quoteIdent(table)
		var missing []string
		if !enabled {
			missing = append(missing, "not enabled")
			fixes = append(fixes, "ALTER TABLE "+ident+" ENABLE ROW LEVEL SECURITY;")
		}
		if !forced {
			missing = append(missing, "not forced (the owning role, which takaro connects as, bypasses it)")
			fixes = append(fixes, "ALTER TABLE "+ident+" FORCE ROW LEVEL SECURITY;")
		}
		if !isolated {
			missing = append(missing, "no policy on takaro.domain")
			fixes = append(fixes, "SELECT takaro_isolate_tenant_table('"+table+"');")
		}
		for _, p := range widening {
			missing = append(missing, "permissive policy "+quoteIdent(p)+" is not bound to a takaro setting")
			fixes = append(fixes, "DROP POLICY "+quoteIdent(p)+" ON "+ident+";")
		}
		if len(missing) > 0 {
			problems = append(problems, table+": "+strings.Join(missing, ", "))
		}
		return nil
	})
	switch {
	case err != nil:
		return cannotCheck(name, err)
	case tables == 0:
		return Check{Name: name, Status: Warn, Detail: "no tenant tables found", Advice: "Run takaro db migrate"}
	case len(problems) > 0:
		return Check{Name: name, Status: Fail,
			Detail: "tenant isolation is not enforced by PostgreSQL on " + strings.Join(problems, "; "),
			Advice: "As the owner of the tables, run:\n  " + strings.Join(fixes, "\n  ")}
	}
	return Check{Name: name, Status: Pass, Detail: fmt.Sprintf("forced on all %d tenant tables", tables)}
}

func (db *DB) checkMigrations(ctx context.Context, migrations fs.FS) Check {
	const name = "migrations"
	m, err := NewMigrator(db, migrations)
	if err != nil {
		return cannotCheck(name, err)
	}
	defer func() { _ = m.Close() }()
	states, err := m.Status(ctx)
	if err != nil {
		return Check{Name: name, Status: Fail, Detail: err.Error()}
	}
	var pending []string
	for _, s := range states {
		if !s.Applied {
			pending = append(pending, s.Name)
		}
	}
	if len(pending) > 0 {
		return Check{Name: name, Status: Fail,
			Detail: fmt.Sprintf("%d of %d migrations pending: %s", len(pending), len(states), strings.Join(pending, ", ")),
			Advice: "Run takaro db migrate"}
	}
	return Check{Name: name, Status: Pass, Detail: fmt.Sprintf("all %d migrations applied", len(states))}
}

func (db *DB) checkKeys(ctx context.Context, configured []string) Check {
	const name = "encryption keys"
	usage, err := db.KeyUsage(ctx)
	if err != nil {
		return cannotCheck(name, err)
	}
	perKey := map[string]int64{}
	var total int64
	for _, u := range usage {
		perKey[u.KeyID] += u.Values
		total += u.Values
	}
	if missing := notConfigured(usage, configured); len(missing) > 0 {
		return Check{Name: name, Status: Fail, Detail: (&KeyNotConfiguredError{Usage: missing}).Error(),
			Advice: "Configure the missing keys (the identifier is derived from the key, so the right key is the one whose identifier matches); " +
				"takaro db verify-encryption lists the values"}
	}
	if len(configured) == 0 {
		return Check{Name: name, Status: Warn, Detail: "no encryption key is configured: game servers cannot be created",
			Advice: "Set POSTGRES_ENCRYPTION_KEY (generate one with: openssl rand -base64 32)"}
	}
	var old, unused []string
	var oldValues int64
	for _, id := range configured[1:] {
		if n := perKey[id]; n > 0 {
			old = append(old, id)
			oldValues += n
		} else {
			unused = append(unused, id)
		}
	}
	if len(old) > 0 {
		return Check{Name: name, Status: Warn,
			Detail: fmt.Sprintf("%d of %d encrypted values are still under previous key(s) %s", oldValues, total, strings.Join(old, ", ")),
			Advice: "Run takaro db rotate-key; afterwards the previous keys can be removed from POSTGRES_ENCRYPTION_KEY_PREVIOUS"}
	}
	detail := fmt.Sprintf("all %d encrypted values are under the current key %s", total, configured[0])
	if len(unused) > 0 {
		detail += "; previous key(s) " + strings.Join(unused, ", ") + " encrypt nothing and can be removed"
	}
	return Check{Name: name, Status: Pass, Detail: detail}
}

// maxBcryptCost is the highest cost the doctor accepts without a warning:
// each step doubles the work, and at 14 a hash costs about 0.9 s of
// database CPU (55 ms at cost 10 on the reference machine).
const maxBcryptCost = 14

func (db *DB) checkBcryptCost() Check {
	const name = "bcrypt cost"
	switch c := db.bcryptCost; {
	case c < DefaultBcryptCost:
		return Check{Name: name, Status: Fail,
			Detail: fmt.Sprintf("new password and API-key hashes use cost %d, below %d, OWASP's minimum for bcrypt", c, DefaultBcryptCost),
			Advice: fmt.Sprintf("Set TAKARO_BCRYPT_COST to %d or more", DefaultBcryptCost)}
	case c > maxBcryptCost:
		return Check{Name: name, Status: Warn,
			Detail: fmt.Sprintf("cost %d: every login or uncached API-key check costs about %d ms of database CPU", c, 55<<(c-DefaultBcryptCost)),
			Advice: fmt.Sprintf("Set TAKARO_BCRYPT_COST between %d and %d", DefaultBcryptCost, maxBcryptCost)}
	default:
		return Check{Name: name, Status: Pass, Detail: fmt.Sprintf("cost %d", c)}
	}
}

// logSettings are the server settings that decide whether statements are
// written to the server log with their parameters, which carry the
// encryption key and plaintext. pg_settings shows the values in force for
// this session, so for the connecting role and database, with their
// ALTER ROLE / ALTER DATABASE settings applied.
var logSettings = []string{
	"log_statement", "log_min_duration_statement", "log_min_duration_sample", "log_transaction_sample_rate",
	"log_parameter_max_length", "log_parameter_max_length_on_error",
}

func (db *DB) checkServerLog(ctx context.Context) Check {
	const name = "server log"
	var role, database string
	settings := map[string]string{}
	err := db.readGlobal(ctx, func(b *pgx.Batch, _ string) {
		b.Queue("SELECT current_user, current_database()").QueryRow(func(row pgx.Row) error { return row.Scan(&role, &database) })
		b.Queue("SELECT name, setting FROM pg_settings WHERE name = ANY($1)", logSettings).Query(func(rows pgx.Rows) error {
			var k, v string
			_, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error {
				settings[k] = v
				return nil
			})
			return err
		})
	})
	if err != nil {
		return cannotCheck(name, err)
	}
	// Statements are logged by log_statement (all, or mod: every write),
	// by duration, or by sampling.
	var logging []string
	if s := settings["log_statement"]; s == "all" || s == "mod" {
		logging = append(logging, "log_statement = "+s)
	}
	for _, k := range []string{"log_min_duration_statement", "log_min_duration_sample"} {
		if settings[k] != "-1" {
			logging = append(logging, k+" = "+settings[k])
		}
	}
	if settings["log_transaction_sample_rate"] != "0" {
		logging = append(logging, "log_transaction_sample_rate = "+settings["log_transaction_sample_rate"])
	}
	var unsafe, fixes []string
	for _, k := range []string{"log_parameter_max_length", "log_parameter_max_length_on_error"} {
		if settings[k] != "0" {
			unsafe = append(unsafe, k+" = "+settings[k])
			fixes = append(fixes, "ALTER ROLE "+quoteIdent(role)+" IN DATABASE "+quoteIdent(database)+" SET "+k+" = 0;")
		}
	}
	advice := "As a superuser, run:\n  " + strings.Join(fixes, "\n  ") +
		"\nthen restart takaro (the settings apply to new connections). Statements stay logged, without their parameters."
	onError := settings["log_parameter_max_length_on_error"] != "0"
	params := settings["log_parameter_max_length"] != "0"
	switch {
	case onError || (params && len(logging) > 0):
		detail := "the server log receives statement parameters, and so the encryption key and secrets: " + strings.Join(unsafe, ", ")
		if params && len(logging) > 0 {
			detail += ", with " + strings.Join(logging, ", ")
		}
		if onError {
			detail += " (parameters of every failing statement)"
		}
		return Check{Name: name, Status: Fail, Detail: detail, Advice: advice}
	case params:
		return Check{Name: name, Status: Warn,
			Detail: strings.Join(unsafe, ", ") + ": no statement is logged now, but turning on log_statement or " +
				"log_min_duration_statement (as for performance work) would write the encryption key to the server log",
			Advice: advice}
	}
	detail := "statement parameters are never logged"
	if len(logging) > 0 {
		detail += " (statements are, by " + strings.Join(logging, ", ") + ")"
	}
	return Check{Name: name, Status: Pass, Detail: detail}
}
