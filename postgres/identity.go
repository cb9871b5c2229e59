package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var _ takaro.AuthService = (*DB)(nil)

// seenInterval is how stale a "last seen" time may get before a request
// records a new one: at most one write per user and credential a minute,
// however many requests they make.
const seenInterval = "interval '1 minute'"

func notAuthorized() error { return takaro.Errorf(takaro.CodeUnauthorized, "Not authorized") }

// The identity statement. For a credential its parameters are $1 the
// domain, $2 the credential id and $3 the hash its token was last verified
// against (NULL when it is not cached); for an admin-signed token, $1 the
// domain and $2 the user id. Each kind of credential has statements of its
// own rather than one with a branch per kind chosen by a parameter: on
// Citus, a branch whose condition is constant false once the parameter is
// bound is pruned into a query that cannot be sent to a shard.
//
// The subject CTE is the live credential (not revoked, not expired) or the
// named user; every other CTE hangs off it, so an unknown, revoked or
// expired credential yields no row. The permission codes are the union over
// the user's current role assignments, the implicit User role, the linked
// player's current role assignments on any game server and, when a player
// is linked, the implicit Player role, as the reference computes them; an
// API key gets only the codes it was granted that the user still holds
// (all of them while the user holds ROOT, which stands for every
// permission). The last column is when the identity changes by itself:
// the earliest expiry of the credential and of the role assignments.
//
// The writable CTEs record "last seen", at most once a minute, and only
// for a token whose secret is known to be right: in this statement, when
// the stored hash is the cached one. Otherwise the verification statement
// records it (verify). They cost about 40 % of the statement's time, so
// for a minute after this process recorded a credential as seen it sends
// the read-only variant (identityRead) instead.
var (
	userSubjectSQL = `
		SELECT $2::uuid AS user_id, NULL::text AS secret_hash, ARRAY[$1::text] AS domains, NULL::uuid AS key_id,
			NULL::timestamptz AS expires_at`
	userIdentitySQL     = identitySQL(userSubjectSQL, seenCTEs("(SELECT id FROM u)", "true", nil))
	userIdentityReadSQL = identitySQL(userSubjectSQL, "")

	credentialSQL = map[takaro.CredentialKind]credentialStatements{
		takaro.CredentialSession: newCredentialStatements(`
		SELECT s.user_id, s.secret_hash, s.login_domains AS domains, NULL::uuid AS key_id, s.expires_at
		FROM sessions s
		WHERE s.domain = $1 AND s.id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()`,
			&seenCredential{"sessions", "last_seen_at", "last_seen_at < now() - " + seenInterval}),
		takaro.CredentialAPIKey: newCredentialStatements(`
		SELECT k.user_id, k.secret_hash, ARRAY[k.domain] AS domains, k.id AS key_id, k.expires_at
		FROM api_keys k
		WHERE k.domain = $1 AND k.id = $2 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())`,
			&seenCredential{"api_keys", "last_used_at", "(last_used_at IS NULL OR last_used_at < now() - " + seenInterval + ")"}),
	}
)

// credentialStatements are the statements that authenticate one kind of
// credential.
type credentialStatements struct {
	// identity and identityRead are the identity statement with and
	// without the writable CTEs.
	identity, identityRead string
	// verify checks a secret ($3) against the stored hash ($4) and, when it
	// matches, records that user $5 and the credential $2 were seen.
	verify string
}

func newCredentialStatements(subject string, seen *seenCredential) credentialStatements {
	// cachedHash is true when the stored hash is the one the token was
	// verified against ($3), so its secret is known to be right.
	const cachedHash = "EXISTS (SELECT 1 FROM subject WHERE subject.secret_hash = $3::text)"
	return credentialStatements{
		identity:     identitySQL(subject, seenCTEs("(SELECT id FROM u)", cachedHash, seen)),
		identityRead: identitySQL(subject, ""),
		verify: `WITH v AS MATERIALIZED (SELECT coalesce(` + verifyExpr("$3", "$4::text") + `, false) AS ok),
		` + seenCTEs("$5::uuid", "(SELECT ok FROM v)", seen) + `
		SELECT ok FROM v`,
	}
}

// seenCredential is where a kind of credential records "last seen": its
// table and column, and the condition that the last record is over a
// minute old.
type seenCredential struct {
	table, column, due string
}

// identitySQL builds the identity statement over a subject; seen, when not
// empty, adds writable CTEs (from seenCTEs) that record "last seen".
func identitySQL(subject, seen string) string {
	if seen != "" {
		seen = ",\n\t" + seen
	}
	return `WITH subject AS MATERIALIZED (` + subject + `),
	u AS MATERIALIZED (
		SELECT u.id, u.is_dashboard_user, u.player_id
		FROM users u
		WHERE u.domain = $1 AND u.id = (SELECT user_id FROM subject)
	),
	held AS (
		SELECT rou.role_id, rou.expires_at FROM role_on_user rou JOIN u ON rou.user_id = u.id
		WHERE rou.domain = $1 AND (rou.expires_at IS NULL OR rou.expires_at > now())
		UNION
		SELECT rop.role_id, rop.expires_at FROM role_on_player rop JOIN u ON rop.player_id = u.player_id
		WHERE rop.domain = $1 AND (rop.expires_at IS NULL OR rop.expires_at > now())
		UNION
		SELECT r.id, NULL FROM roles r JOIN u ON r.name = '` + takaro.RoleUser + `'
			OR (r.name = '` + takaro.RolePlayer + `' AND u.player_id IS NOT NULL)
		WHERE r.domain = $1 AND r.system
	),
	user_perms AS MATERIALIZED (
		SELECT DISTINCT p.code
		FROM held JOIN permission_on_role por ON por.domain = $1 AND por.role_id = held.role_id
		JOIN permissions p ON p.id = por.permission_id
	),
	perms AS (
		SELECT code FROM user_perms WHERE NOT EXISTS (SELECT 1 FROM subject WHERE key_id IS NOT NULL)
		UNION
		SELECT p.code
		FROM subject JOIN api_key_permissions akp ON akp.domain = $1 AND akp.api_key_id = subject.key_id
		JOIN permissions p ON p.id = akp.permission_id
		WHERE EXISTS (SELECT 1 FROM user_perms up WHERE up.code IN (p.code, '` + takaro.PermRoot + `'))
	)` + seen + `
	SELECT subject.secret_hash, u.id,
		-- The dashboard-user gate is the user's, not the credential's: a
		-- user holding ROOT passes it with a key limited to MANAGE_X too.
		u.is_dashboard_user OR EXISTS (SELECT 1 FROM user_perms WHERE code = '` + takaro.PermRoot + `'),
		d.state, subject.domains, ARRAY(SELECT code FROM perms ORDER BY code),
		LEAST(subject.expires_at, (SELECT min(expires_at) FROM held))
	FROM subject JOIN u ON true JOIN domains d ON d.id = $1`
}

// seenCTEs are the writable CTEs that record "last seen" for the user
// (userID, an SQL expression) and, with credential, for the session or
// API key $2, when cond holds and the last record is over a minute old.
func seenCTEs(userID, cond string, credential *seenCredential) string {
	s := `seen_user AS (
		UPDATE users SET last_seen = now()
		WHERE domain = $1 AND id = ` + userID + ` AND last_seen < now() - ` + seenInterval + ` AND ` + cond + `
	)`
	if credential != nil {
		s += `,
	seen_credential AS (
		UPDATE ` + credential.table + ` SET ` + credential.column + ` = now()
		WHERE domain = $1 AND id = $2 AND revoked_at IS NULL AND ` + credential.due + ` AND ` + cond + `
	)`
	}
	return s
}

// identityRow is one row of the identity statement.
type identityRow struct {
	secretHash *string
	identity   takaro.Identity
	validUntil *time.Time
}

func scanIdentity(rows pgx.Rows) (*identityRow, error) {
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (identityRow, error) {
		var r identityRow
		id := &r.identity
		err := row.Scan(&r.secretHash, &id.UserID, &id.IsDashboardUser, &id.DomainState, &id.Domains, &id.Permissions, &r.validUntil)
		return r, err
	})
	if err != nil || len(items) == 0 {
		return nil, err
	}
	return &items[0], nil
}

// Authenticate resolves a session token or API key.
//
// Steady state: no database work at all, the identity comes from the
// identity cache (identitycache.go), which every change to it empties on
// every instance. Otherwise one round trip (the domain binding and the
// identity statement, sent together by readInDomain) and no crypt(): it
// reads the credential, user, domain state and permissions. Only a token
// this process has not verified against the stored hash costs a second
// round trip with one crypt(), shared by concurrent requests with the
// same token.
func (db *DB) Authenticate(ctx context.Context, token string) (*takaro.Identity, error) {
	t, err := takaro.ParseToken(token)
	if err != nil {
		return nil, notAuthorized()
	}
	key := tokenCacheKey(token)
	if id, ok := db.cachedIdentity(key, t.ID); ok {
		db.creds.hits.Add(1) // accepted without a crypt() too
		return id, nil
	}
	gen := db.identities.generation.Load()
	var cached *string
	if h := db.creds.get(key); h != "" {
		cached = &h
	}
	var row *identityRow
	err = db.readInExplicitDomain(ctx, t.Domain, func(b *pgx.Batch, domain string) {
		q, args := credentialSQL[t.Kind].identity, []any{domain, t.ID, cached}
		if db.creds.seenRecently(t.ID) {
			q, args = credentialSQL[t.Kind].identityRead, args[:2] // $3 only guards the writes
		}
		b.Queue(q, args...).Query(func(rows pgx.Rows) error {
			var err error
			row, err = scanIdentity(rows)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if row == nil || row.secretHash == nil {
		db.creds.remove(key)
		return nil, notAuthorized()
	}
	ok, err := db.creds.verify(ctx, key, *row.secretHash, func() (bool, error) {
		// Paid for by the client's address and the global bucket, never
		// by the credential (throttle.go).
		refund, err := db.throttles.reserve(db.creds.clock,
			claim{db.throttles.verifyAddress, takaro.ClientAddress(ctx)}, claim{db.throttles.verifyGlobal, ""})
		if err != nil {
			return false, err
		}
		ok, err := db.verifySecret(ctx, t, *row.secretHash, row.identity.UserID)
		if ok || err != nil {
			refund()
		}
		return ok, err
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notAuthorized()
	}
	db.creds.markSeen(t.ID)
	id := row.identity
	id.Domain = t.Domain
	id.Credential = &takaro.Credential{Kind: t.Kind, ID: t.ID}
	db.identities.put(key, gen, &id, row.validUntil)
	return &id, nil
}

// cachedIdentity returns the cached identity of key, unless "last seen" of
// seenID is due: only the identity statement records it.
func (db *DB) cachedIdentity(key cacheKey, seenID uuid.UUID) (*takaro.Identity, bool) {
	db.ensureListening()
	if !db.creds.seenRecently(seenID) {
		db.identities.misses.Add(1)
		return nil, false
	}
	return db.identities.get(key)
}

// verifySecret checks the token's secret against the stored hash with one
// crypt() and, when it matches, records that the user and the credential
// were seen. ctx carries the token's domain.
func (db *DB) verifySecret(ctx context.Context, t takaro.Token, hash string, userID uuid.UUID) (bool, error) {
	db.creds.verifications.Add(1)
	var ok bool
	err := db.readInExplicitDomain(ctx, t.Domain, func(b *pgx.Batch, domain string) {
		b.Queue(credentialSQL[t.Kind].verify, domain, t.ID, t.Secret, hash, userID).QueryRow(func(row pgx.Row) error {
			return row.Scan(&ok)
		})
	})
	return ok, err
}

// AuthenticateUser resolves the user an admin-signed token names, from
// the identity cache or in one round trip; it records "last seen" like
// Authenticate.
func (db *DB) AuthenticateUser(ctx context.Context, domain string, userID uuid.UUID) (*takaro.Identity, error) {
	if !takaro.ValidDomainID(domain) {
		return nil, notAuthorized()
	}
	key := userCacheKey(domain, userID)
	if id, ok := db.cachedIdentity(key, userID); ok {
		return id, nil
	}
	gen := db.identities.generation.Load()
	var row *identityRow
	err := db.readInExplicitDomain(ctx, domain, func(b *pgx.Batch, domain string) {
		q := userIdentitySQL
		if db.creds.seenRecently(userID) {
			q = userIdentityReadSQL
		}
		b.Queue(q, domain, userID).Query(func(rows pgx.Rows) error {
			var err error
			row, err = scanIdentity(rows)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, notAuthorized()
	}
	db.creds.markSeen(userID)
	id := row.identity
	id.Domain = domain
	db.identities.put(key, gen, &id, row.validUntil)
	return &id, nil
}

// RootUserID returns the earliest-created user of the domain that holds the
// system role root (not merely a user named root: names are not unique).
func (db *DB) RootUserID(ctx context.Context, domain string) (uuid.UUID, error) {
	notFound := takaro.Errorf(takaro.CodeNotFound, "Domain %s has no root user", domain)
	if !takaro.ValidDomainID(domain) {
		return uuid.Nil, notFound
	}
	var ids []uuid.UUID
	err := db.readInExplicitDomain(ctx, domain, func(b *pgx.Batch, domain string) {
		b.Queue(`SELECT u.id FROM users u
			JOIN role_on_user rou ON rou.domain = u.domain AND rou.user_id = u.id
				AND (rou.expires_at IS NULL OR rou.expires_at > now())
			JOIN roles r ON r.domain = rou.domain AND r.id = rou.role_id
			WHERE u.domain = $1 AND r.system AND r.name = $2
			ORDER BY u.created_at, u.id LIMIT 1`, domain, takaro.RoleRoot).Query(func(rows pgx.Rows) error {
			var err error
			ids, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
			return err
		})
	})
	if err != nil {
		return uuid.Nil, err
	}
	if len(ids) == 0 {
		return uuid.Nil, notFound
	}
	return ids[0], nil
}
