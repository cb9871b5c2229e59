package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var _ takaro.DomainService = (*DB)(nil)

var domainObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"name", "name"},
	{"externalReference", "external_reference"}, {"state", "state"},
	{"rateLimitPoints", "rate_limit_points"}, {"rateLimitDuration", "rate_limit_duration"},
	{"maxGameservers", "max_gameservers"}, {"maxUsers", "max_users"},
	{"eventRetentionDays", "event_retention_days"}, {"maxVariables", "max_variables"},
	{"maxModules", "max_modules"}, {"maxFunctionsInModule", "max_functions_in_module"},
}

var domainStates = []string{string(takaro.DomainActive), string(takaro.DomainDisabled), string(takaro.DomainMaintenance)}

var domainSearch = &searchSpec{
	table:  "domains",
	object: domainObject,
	global: true,
	fields: map[string]field{
		"id":                {column: "t.id", kind: kindText, ops: opFilter},
		"name":              {column: "t.name", kind: kindText, ops: opFilter | opSearch | opSort},
		"state":             {column: "t.state", kind: kindEnum, enum: domainStates, ops: opFilter | opSort},
		"externalReference": {column: "t.external_reference", kind: kindText, ops: opFilter | opSearch},
		"createdAt":         {column: "t.created_at", kind: kindTime, ops: opRange | opSort},
		"updatedAt":         {column: "t.updated_at", kind: kindTime, ops: opRange | opSort},
	},
}

// The roles every domain starts with, and the permissions they grant.
var standardRoles = []struct {
	name        string
	system      bool
	permissions []string
}{
	{takaro.RoleRoot, true, []string{takaro.PermRoot}},
	{takaro.RoleAdmin, false, []string{takaro.PermRoot}},
	{takaro.RoleModerator, false, []string{takaro.PermReadPlayers, takaro.PermReadSettings}},
	{takaro.RolePlayer, true, nil},
	{takaro.RoleUser, true, nil},
}

// CreateDomain creates a domain, its standard roles and its root user with
// a random password, in one transaction.
func (db *DB) CreateDomain(ctx context.Context, in takaro.DomainCreate) (*takaro.DomainCreated, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	password := randomHex(20)
	var out takaro.DomainCreated
	// A generated id can clash with an existing one; try a few.
	for attempt := 0; ; attempt++ {
		err := db.inSystem(ctx, func(stx pgx.Tx) error {
			id := takaro.NewDomainID()
			l := in.DomainLimits
			err := stx.QueryRow(ctx, domainObject.returning(`INSERT INTO domains AS t (id, name, external_reference, state,
					max_gameservers, max_users, event_retention_days, max_variables, max_modules, max_functions_in_module)
				VALUES ($1, $2, $3, coalesce($4, 'ACTIVE'), coalesce($5, 1), coalesce($6, 1), coalesce($7, 7),
					coalesce($8, 10000), coalesce($9, 1000), coalesce($10, 50))`),
				id, in.Name, in.ExternalReference, in.State, l.MaxGameservers, l.MaxUsers, l.EventRetentionDays,
				l.MaxVariables, l.MaxModules, l.MaxFunctionsInModule).Scan(&out.CreatedDomain)
			if err != nil {
				return err
			}
			tx, err := bindDomain(ctx, stx, id)
			if err != nil {
				return err
			}
			if err := db.seedDomain(ctx, tx, password, &out); err != nil {
				return err
			}
			token, err := db.storeRegistrationToken(ctx, tx)
			out.CreatedDomain.ServerRegistrationToken = &token
			return err
		})
		if pgErr := asPgError(err); pgErr != nil && pgErr.ConstraintName == "domains_pkey" && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, translateError(err, "domain")
		}
		out.Password = password
		return &out, nil
	}
}

// seedDomain creates the standard roles and the root user of a new domain.
func (db *DB) seedDomain(ctx context.Context, tx *Tx, password string, out *takaro.DomainCreated) error {
	for _, r := range standardRoles {
		perms, err := permissionsByCode(ctx, tx, r.permissions)
		if err != nil {
			return err
		}
		role, err := insertRole(ctx, tx, r.name, r.system, nil, perms)
		if err != nil {
			return err
		}
		if r.name == takaro.RoleRoot {
			out.RootRole = *role
		}
	}
	userID, err := insertUser(ctx, tx, db.bcryptCost, takaro.UserCreate{
		Name: "root", Email: "root@" + tx.Domain + ".com", Password: password,
	})
	if err != nil {
		return err
	}
	if err := assignUserRole(ctx, tx, userID, out.RootRole.ID, nil); err != nil {
		return err
	}
	user, err := findUserTx(ctx, tx, userID)
	if err != nil {
		return err
	}
	out.RootUser = *user
	return nil
}

// FindDomainByID returns a domain.
func (db *DB) FindDomainByID(ctx context.Context, id string) (*takaro.Domain, error) {
	var d *takaro.Domain
	err := db.readGlobal(ctx, func(b *pgx.Batch, _ string) {
		b.Queue("SELECT "+domainObject.build("t")+" FROM domains t WHERE t.id = $1", id).Query(func(rows pgx.Rows) error {
			var err error
			d, err = collectOptional[takaro.Domain](rows)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, domainNotFound
	}
	return d, nil
}

// FindDomains searches domains.
func (db *DB) FindDomains(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.Domain], error) {
	return search[takaro.Domain](ctx, db, domainSearch, q)
}

// UpdateDomain changes a domain.
func (db *DB) UpdateDomain(ctx context.Context, id string, upd takaro.DomainUpdate) (*takaro.Domain, error) {
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	var d takaro.Domain
	l := upd.DomainLimits
	err := db.inSystem(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, domainObject.returning(`UPDATE domains AS t SET
				name = coalesce($2, t.name),
				external_reference = coalesce($3, t.external_reference),
				state = coalesce($4, t.state),
				max_gameservers = coalesce($5, t.max_gameservers),
				max_users = coalesce($6, t.max_users),
				event_retention_days = coalesce($7, t.event_retention_days),
				max_variables = coalesce($8, t.max_variables),
				max_modules = coalesce($9, t.max_modules),
				max_functions_in_module = coalesce($10, t.max_functions_in_module)
			WHERE t.id = $1`),
			id, upd.Name, upd.ExternalReference, upd.State, l.MaxGameservers, l.MaxUsers, l.EventRetentionDays,
			l.MaxVariables, l.MaxModules, l.MaxFunctionsInModule).Scan(&d)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, domainNotFound
	}
	if err != nil {
		return nil, translateError(err, "domain")
	}
	return &d, nil
}

// DeleteDomain disables a domain (soft), or deletes it and, through the
// ON DELETE CASCADE of every tenant table's domain reference, all its rows.
// The cascades run as the tables' owner, which row-level security exempts
// from its policies for referential actions, so they reach every row.
func (db *DB) DeleteDomain(ctx context.Context, id string, hard bool) error {
	q := "UPDATE domains SET state = 'DISABLED' WHERE id = $1"
	if hard {
		q = "DELETE FROM domains WHERE id = $1"
	}
	return db.inSystem(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, q, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return domainNotFound
		}
		return nil
	})
}

// domainNotFound is the reference's error for an unknown domain, word for
// word; the admin client compares it.
var domainNotFound = takaro.Errorf(takaro.CodeNotFound, "Not found")

// checkLimit enforces a per-domain quota before an insert. It locks the
// domain's row first, so concurrent creations in the domain queue up and
// each counts what the previous one committed. (FOR NO KEY UPDATE does not
// block the key-share locks that inserts referencing the domain take.)
// In message, "{limit}" stands for the limit.
func checkLimit(ctx context.Context, tx *Tx, limitColumn, countSQL, message string) error {
	var limit, count int
	if err := tx.QueryRow(ctx, "SELECT "+limitColumn+" FROM domains WHERE id = $1 FOR NO KEY UPDATE", tx.Domain).Scan(&limit); err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, countSQL, tx.Domain).Scan(&count); err != nil {
		return err
	}
	if count >= limit {
		return takaro.Errorf(takaro.CodeBadRequest, "%s", strings.ReplaceAll(message, "{limit}", strconv.Itoa(limit)))
	}
	return nil
}

// storeRegistrationToken gives the transaction's domain a new random
// server-registration token, replacing any previous one, and returns it:
// encrypted in registration_tokens (it is shown again), its SHA-256 digest
// on the domain (resolving a token looks it up across domains without
// decrypting anything). 256 random bits need no slow hash: the digest
// cannot be reversed or guessed. The format is the reference's: 32 bytes,
// base64 (44 characters).
func (db *DB) storeRegistrationToken(ctx context.Context, tx *Tx) (string, error) {
	keys, err := db.keyring()
	if err != nil {
		return "", err
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	token := base64.StdEncoding.EncodeToString(b)
	digest := sha256.Sum256([]byte(token))
	key := keys.Current()
	batch := &pgx.Batch{}
	batch.Queue("UPDATE domains SET registration_token_digest = $2 WHERE id = $1", tx.Domain, digest[:])
	batch.Queue("DELETE FROM registration_tokens WHERE domain = $1", tx.Domain)
	batch.Queue("INSERT INTO registration_tokens (domain, token, token_key_id) VALUES ($1, "+encryptExpr("$2", "$3")+", $4)",
		tx.Domain, token, key.secret, key.id)
	return token, tx.SendBatch(ctx, batch).Close()
}

// RegenerateRegistrationToken replaces the server-registration token of
// the principal's domain; the old one stops resolving at once.
func (db *DB) RegenerateRegistrationToken(ctx context.Context) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		_, err := db.storeRegistrationToken(ctx, tx)
		return err
	})
}

// RegistrationToken returns a domain's server-registration token, nil
// when it has none (created before tokens existed and not regenerated
// since).
func (db *DB) RegistrationToken(ctx context.Context, domain string) (*string, error) {
	keys, err := db.keyring()
	if err != nil {
		return nil, err
	}
	ids, secrets := keys.decryptParams()
	var token *string
	err = db.readInExplicitDomain(ctx, domain, func(b *pgx.Batch, domain string) {
		b.Queue("SELECT "+decryptExpr("t.token", "t.token_key_id", "$2", "$3")+" FROM registration_tokens t WHERE t.domain = $1",
			domain, ids, secrets).Query(func(rows pgx.Rows) error {
			var err error
			token, err = collectOptional[string](rows)
			return err
		})
	})
	return token, err
}

// ResolveRegistrationToken returns the domain whose server-registration
// token is token, unless it is disabled. Any token that names no domain,
// the empty one included, is "Not found", as in the reference; only one
// longer than any token could be is refused as invalid.
func (db *DB) ResolveRegistrationToken(ctx context.Context, token string) (*takaro.Domain, error) {
	if len(token) > 128 {
		return nil, takaro.Invalid("registrationToken", "must be at most 128 characters long")
	}
	digest := sha256.Sum256([]byte(token))
	var d *takaro.Domain
	err := db.readGlobal(ctx, func(b *pgx.Batch, _ string) {
		b.Queue("SELECT "+domainObject.build("t")+" FROM domains t WHERE t.registration_token_digest = $1 AND t.state <> 'DISABLED'",
			digest[:]).Query(func(rows pgx.Rows) error {
			var err error
			d, err = collectOptional[takaro.Domain](rows)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, takaro.Errorf(takaro.CodeNotFound, "Not found")
	}
	d.ServerRegistrationToken = &token
	return d, nil
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}
