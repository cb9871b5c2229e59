// Package postgres is the data core: every SQL statement, transaction,
// migration, tenant binding, encryption and hash of the project lives here,
// on pgx v5.
//
// Where things are:
//   - tenancy.go: the only way to reach tenant rows. inDomain/readInDomain
//     bind a unit of work to the domain of the Principal in its context, for
//     that transaction only; inExplicitDomain/readInExplicitDomain take the
//     domain as an argument, for work that is not a request (key rotation);
//     inSystem is the separate path for global tables.
//   - crypto.go: the encryption keys and the SQL that encrypts and decrypts
//     columns (pgp_sym_encrypt/pgp_sym_decrypt) and hashes secrets (crypt).
//   - transport.go: the refusal to send a key over a connection that is
//     neither encrypted nor local.
//   - encrypted.go, rotate.go, verify.go: the encrypted columns, visited
//     domain by domain to re-encrypt them with the current key and to
//     check that each value decrypts.
//   - doctor.go: the checks of a live database's security settings.
//   - migrations/: the versioned schema, embedded in the binary and applied
//     by goose (migrate.go) under its PostgreSQL advisory lock.
//   - boot.go: the checks run before anything else (pgcrypto, the role).
//   - search.go: the strict implementation of the search contract.
//   - one file per resource with its queries.
//
// Tenant isolation is enforced twice: every query filters by domain, and
// every tenant table has forced row-level security keyed on the
// transaction-local setting takaro.domain, so a forgotten filter returns
// nothing rather than another tenant's rows.
package postgres
