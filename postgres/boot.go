package postgres

import (
	"context"
	"fmt"
)

// EnsurePgcrypto makes sure the pgcrypto extension exists in the database,
// installing it when it is missing. Encryption, hashing and the schema all
// depend on it, so callers stop when this fails; the error says why and
// what an operator can do about it.
func (db *DB) EnsurePgcrypto(ctx context.Context) error {
	return db.ensureExtension(ctx, "pgcrypto")
}

func (db *DB) ensureExtension(ctx context.Context, name string) error {
	var installed bool
	const q = "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = $1)"
	if err := db.pool.QueryRow(ctx, q, name).Scan(&installed); err != nil {
		return fmt.Errorf("check for the %s extension: %w", name, err)
	}
	if installed {
		return nil
	}
	_, err := db.pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS "+quoteIdent(name))
	if err == nil {
		return nil
	}
	// Several instances booting at once race to create it; the losers get
	// a unique violation although the extension now exists.
	if db.pool.QueryRow(ctx, q, name).Scan(&installed) == nil && installed {
		return nil
	}
	var role, database string
	_ = db.pool.QueryRow(ctx, "SELECT current_user, current_database()").Scan(&role, &database)
	// Servers report a missing control file as 58P01 (undefined_file) or,
	// in newer releases, as 0A000 ("is not available"); the catalogue of
	// available extensions tells either way.
	var available bool
	availableErr := db.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = $1)", name).Scan(&available)
	pgErr := asPgError(err)
	switch {
	case pgErr != nil && pgErr.Code == sqlstateInsufficientPrivlege:
		return fmt.Errorf("the %[1]s extension is not installed in database %[2]q, and role %[3]q may not install it: "+
			"that takes the CREATE privilege on the database (%[4]s). "+
			"Ask a superuser (or the database owner) to run, in database %[2]q:\n  CREATE EXTENSION %[1]s;",
			name, database, role, pgErr.Message)
	case pgErr != nil && (pgErr.Code == sqlstateUndefinedFile || (availableErr == nil && !available)):
		return fmt.Errorf("the %[1]s extension is not available on the database server (%[2]s). "+
			"Install PostgreSQL's contrib modules on the server (Debian/Ubuntu: apt-get install postgresql-contrib), "+
			"then run takaro again", name, pgErr.Message)
	}
	return fmt.Errorf("install the %s extension in database %q: %w", name, database, err)
}
