package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var _ takaro.AuthService = (*DB)(nil)

// SessionLifetime is how long a session token from Login is valid. It is
// absolute, not extended by use. A session is a bearer token for a
// dashboard that can change game servers, roles and API keys, and it is
// checked against the database on every request, so logging out ends it at
// once; the lifetime bounds what a leaked token that nobody revoked is
// worth. One day is the default session lifespan of Ory Kratos, which
// issued the reference platform's sessions, so users log in as often as
// they did there, and it is well under the five days of the reference's
// unrevocable admin tokens.
const SessionLifetime = 24 * time.Hour

// seenInterval is how stale a "last seen" time may get before a request
// records a new one: at most one write per user and credential a minute,
// however many requests they make.
const seenInterval = "interval '1 minute'"

func notAuthorized() error { return takaro.Errorf(takaro.CodeUnauthorized, "Not authorized") }

// validSecretText reports whether s can be a password: text PostgreSQL can
// carry (valid UTF-8 without NUL) and no longer than bcrypt reads, so a
// longer guess cannot match a stored password by its first 72 bytes.
func validSecretText(s string) bool {
	return s != "" && len(s) <= takaro.MaxPasswordBytes && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// setLoginEmailSQL opens the users.login_lookup policy for one address for
// the rest of the transaction; an empty address closes it again.
const setLoginEmailSQL = "SELECT takaro_set_local('takaro.login_email', $1)"

// loginSQL returns, in domain id order (bytewise, whatever the database's
// collation), every user with the address and a password, in domainHint
// only when it is set, whether the password matches, and the domain's
// state. Each candidate costs one crypt().
var loginSQL = `SELECT u.domain, u.id, d.state, coalesce(` + verifyExpr("$2", "u.password_hash") + `, false)
	FROM users u JOIN domains d ON d.id = u.domain
	WHERE u.email = $1 AND u.password_hash IS NOT NULL AND ($3::text = '' OR u.domain = $3::text)
	ORDER BY u.domain COLLATE "C"`

type loginCandidate struct {
	domain   string
	userID   uuid.UUID
	state    takaro.DomainState
	verified bool
}

// Login checks the address and password against every domain's user with
// that address (or only domainHint's) and opens a session in one of them.
//
// The lookup runs on the system path with only takaro.login_email set, so
// row-level security shows it the users with that address and nothing
// else. When no user has the address, one throwaway crypt() runs instead,
// so the answer takes as long as for a wrong password.
func (db *DB) Login(ctx context.Context, email, password, domainHint string) (*takaro.Session, error) {
	email, err := takaro.NormalizeEmail(email)
	if err != nil || !validSecretText(password) {
		return nil, notAuthorized()
	}
	var (
		session = &takaro.Session{}
		token   string
		hash    string
	)
	err = db.inSystem(ctx, func(stx pgx.Tx) error {
		var candidates []loginCandidate
		b := &pgx.Batch{}
		b.Queue(setLoginEmailSQL, email)
		b.Queue(loginSQL, email, password, domainHint).Query(func(rows pgx.Rows) error {
			var err error
			candidates, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (loginCandidate, error) {
				var c loginCandidate
				return c, row.Scan(&c.domain, &c.userID, &c.state, &c.verified)
			})
			return err
		})
		if err := stx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if len(candidates) == 0 {
			if _, err := stx.Exec(ctx, "SELECT "+hashExpr("$1", "$2"), password, db.bcryptCost); err != nil {
				return err
			}
			return notAuthorized()
		}
		chosen, domains, err := chooseLoginDomain(candidates)
		if err != nil {
			return err
		}
		// From here on the transaction works in the chosen domain only.
		if _, err := stx.Exec(ctx, setLoginEmailSQL, ""); err != nil {
			return err
		}
		tx, err := bindDomain(ctx, stx, chosen.domain)
		if err != nil {
			return err
		}
		id := uuid.New()
		var t takaro.Token
		t, token = takaro.NewToken(takaro.CredentialSession, tx.Domain, id)
		err = tx.QueryRow(ctx, `INSERT INTO sessions (domain, id, user_id, secret_hash, expires_at, login_domains)
			VALUES ($1, $2, $3, `+hashExpr("$4", "$5")+`, now() + $6::float8 * interval '1 second', $7)
			RETURNING expires_at, secret_hash`,
			tx.Domain, id, chosen.userID, t.Secret, db.bcryptCost, SessionLifetime.Seconds(), domains,
		).Scan(&session.ExpiresAt, &hash)
		if err != nil {
			return err
		}
		session.Token, session.Domain, session.UserID, session.Domains = token, tx.Domain, chosen.userID, domains
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The hash was just made from the token's secret: the session's first
	// requests to this process need no crypt().
	db.creds.put(tokenCacheKey(token), hash)
	return session, nil
}

// chooseLoginDomain picks the first active domain among the candidates whose
// password matched (they come in domain id order) and lists all of those
// domains.
func chooseLoginDomain(candidates []loginCandidate) (*loginCandidate, []string, error) {
	var (
		chosen      *loginCandidate
		domains     []string
		maintenance bool
	)
	for i := range candidates {
		c := &candidates[i]
		if !c.verified {
			continue
		}
		domains = append(domains, c.domain)
		if chosen == nil && c.state == takaro.DomainActive {
			chosen = c
		}
		maintenance = maintenance || c.state == takaro.DomainMaintenance
	}
	switch {
	case len(domains) == 0:
		return nil, nil, notAuthorized()
	case chosen != nil:
		return chosen, domains, nil
	case maintenance:
		return nil, nil, takaro.Errorf(takaro.CodeBadRequest, "Domain is in maintenance mode. Please try again later.")
	default:
		return nil, nil, takaro.Errorf(takaro.CodeBadRequest, "Domain is disabled. Please contact support.")
	}
}

// The identity statement. For a credential its parameters are $1 the
// domain, $2 the credential kind, $3 the credential id and $4 the hash its
// token was last verified against (NULL when it is not cached); for an
// admin-signed token, $1 the domain and $2 the user id.
//
// The subject CTE is the live credential (not revoked, not expired) or the
// named user; every other CTE hangs off it, so an unknown, revoked or
// expired credential yields no row. The permission codes are the union over
// the user's current role assignments, the implicit User role, the linked
// player's current role assignments on any game server and, when a player
// is linked, the implicit Player role, as the reference computes them; an
// API key gets only the codes it was granted that the user still holds
// (all of them while the user holds ROOT, which stands for every
// permission).
//
// The writable CTEs record "last seen", at most once a minute, and only
// for a token whose secret is known to be right: in this statement, when
// the stored hash is the cached one. Otherwise the verification statement
// records it (verifySQL). They cost about 40 % of the statement's time, so
// for a minute after this process recorded a credential as seen it sends
// the read-only variant (…ReadSQL) instead.
var (
	sessionSubjectSQL = `
		SELECT s.user_id, s.secret_hash, s.login_domains AS domains, NULL::uuid AS key_id
		FROM sessions s
		WHERE $2::text = '` + string(takaro.CredentialSession) + `' AND s.domain = $1 AND s.id = $3
			AND s.revoked_at IS NULL AND s.expires_at > now()
		UNION ALL
		SELECT k.user_id, k.secret_hash, ARRAY[k.domain], k.id
		FROM api_keys k
		WHERE $2::text = '` + string(takaro.CredentialAPIKey) + `' AND k.domain = $1 AND k.id = $3
			AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())`
	userSubjectSQL = `
		SELECT $2::uuid AS user_id, NULL::text AS secret_hash, ARRAY[$1::text] AS domains, NULL::uuid AS key_id`
	// cachedHash is true when the stored hash is the one the token was
	// verified against ($4), so its secret is known to be right.
	cachedHash = "EXISTS (SELECT 1 FROM subject WHERE subject.secret_hash = $4::text)"

	sessionIdentitySQL     = identitySQL(sessionSubjectSQL, seenCTEs("(SELECT id FROM u)", cachedHash, true))
	sessionIdentityReadSQL = identitySQL(sessionSubjectSQL, "")
	userIdentitySQL        = identitySQL(userSubjectSQL, seenCTEs("(SELECT id FROM u)", "true", false))
	userIdentityReadSQL    = identitySQL(userSubjectSQL, "")
	// verifySQL checks a secret ($4) against the stored hash ($5) and, when
	// it matches, records that user $6 and the credential were seen.
	verifySQL = `WITH v AS MATERIALIZED (SELECT coalesce(` + verifyExpr("$4", "$5::text") + `, false) AS ok),
		` + seenCTEs("$6::uuid", "(SELECT ok FROM v)", true) + `
		SELECT ok FROM v`
)

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
		SELECT rou.role_id FROM role_on_user rou JOIN u ON rou.user_id = u.id
		WHERE rou.domain = $1 AND (rou.expires_at IS NULL OR rou.expires_at > now())
		UNION
		SELECT rop.role_id FROM role_on_player rop JOIN u ON rop.player_id = u.player_id
		WHERE rop.domain = $1 AND (rop.expires_at IS NULL OR rop.expires_at > now())
		UNION
		SELECT r.id FROM roles r JOIN u ON r.name = '` + takaro.RoleUser + `'
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
		d.state, subject.domains, ARRAY(SELECT code FROM perms ORDER BY code)
	FROM subject JOIN u ON true JOIN domains d ON d.id = $1`
}

// seenCTEs are the writable CTEs that record "last seen" for the user
// (userID, an SQL expression) and, with credential, for the session or
// API key $2/$3, when cond holds and the last record is over a minute old.
func seenCTEs(userID, cond string, credential bool) string {
	s := `seen_user AS (
		UPDATE users SET last_seen = now()
		WHERE domain = $1 AND id = ` + userID + ` AND last_seen < now() - ` + seenInterval + ` AND ` + cond + `
	)`
	if credential {
		s += `,
	seen_session AS (
		UPDATE sessions SET last_seen_at = now()
		WHERE $2::text = '` + string(takaro.CredentialSession) + `' AND domain = $1 AND id = $3 AND revoked_at IS NULL
			AND last_seen_at < now() - ` + seenInterval + ` AND ` + cond + `
	),
	seen_key AS (
		UPDATE api_keys SET last_used_at = now()
		WHERE $2::text = '` + string(takaro.CredentialAPIKey) + `' AND domain = $1 AND id = $3 AND revoked_at IS NULL
			AND (last_used_at IS NULL OR last_used_at < now() - ` + seenInterval + `) AND ` + cond + `
	)`
	}
	return s
}

// identityRow is one row of the identity statement.
type identityRow struct {
	secretHash *string
	identity   takaro.Identity
}

func scanIdentity(rows pgx.Rows) (*identityRow, error) {
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (identityRow, error) {
		var r identityRow
		id := &r.identity
		err := row.Scan(&r.secretHash, &id.UserID, &id.IsDashboardUser, &id.DomainState, &id.Domains, &id.Permissions)
		return r, err
	})
	if err != nil || len(items) == 0 {
		return nil, err
	}
	return &items[0], nil
}

// Authenticate resolves a session token or API key.
//
// Steady state: one round trip (the domain binding and the identity
// statement, sent together by readInDomain) and no crypt(); it reads the
// credential, user, domain state and permissions afresh, so revocation and
// role changes apply to the next request. Only a token this process has
// not verified against the stored hash costs a second round trip with one
// crypt(), shared by concurrent requests with the same token.
func (db *DB) Authenticate(ctx context.Context, token string) (*takaro.Identity, error) {
	t, err := takaro.ParseToken(token)
	if err != nil {
		return nil, notAuthorized()
	}
	key := tokenCacheKey(token)
	var cached *string
	if h := db.creds.get(key); h != "" {
		cached = &h
	}
	ctx = takaro.NewContext(ctx, takaro.Principal{Domain: t.Domain})
	var row *identityRow
	err = db.readInDomain(ctx, func(b *pgx.Batch, domain string) {
		q, args := sessionIdentitySQL, []any{domain, string(t.Kind), t.ID, cached}
		if db.creds.seenRecently(t.ID) {
			q, args = sessionIdentityReadSQL, args[:3] // $4 only guards the writes
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
		if db.creds.throttle(t.ID) {
			return false, nil
		}
		ok, err := db.verifySecret(ctx, t, *row.secretHash, row.identity.UserID)
		if err == nil && !ok {
			db.creds.fail(t.ID)
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
	return &id, nil
}

// verifySecret checks the token's secret against the stored hash with one
// crypt() and, when it matches, records that the user and the credential
// were seen. ctx carries the token's domain.
func (db *DB) verifySecret(ctx context.Context, t takaro.Token, hash string, userID uuid.UUID) (bool, error) {
	db.creds.verifications.Add(1)
	var ok bool
	err := db.readInDomain(ctx, func(b *pgx.Batch, domain string) {
		b.Queue(verifySQL, domain, string(t.Kind), t.ID, t.Secret, hash, userID).QueryRow(func(row pgx.Row) error {
			return row.Scan(&ok)
		})
	})
	return ok, err
}

// AuthenticateUser resolves the user an admin-signed token names, in one
// round trip; it records "last seen" like Authenticate.
func (db *DB) AuthenticateUser(ctx context.Context, domain string, userID uuid.UUID) (*takaro.Identity, error) {
	if !takaro.ValidDomainID(domain) {
		return nil, notAuthorized()
	}
	ctx = takaro.NewContext(ctx, takaro.Principal{Domain: domain})
	var row *identityRow
	err := db.readInDomain(ctx, func(b *pgx.Batch, domain string) {
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
	return &id, nil
}

// Logout revokes a session of the principal's domain and, when the
// principal names a user, of that user only.
func (db *DB) Logout(ctx context.Context, sessionID uuid.UUID) error {
	p, err := takaro.PrincipalFrom(ctx)
	if err != nil {
		return err
	}
	var user *uuid.UUID
	if p.UserID != uuid.Nil {
		user = &p.UserID
	}
	return db.inDomain(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now()
			WHERE domain = $1 AND id = $2 AND revoked_at IS NULL AND ($3::uuid IS NULL OR user_id = $3)`,
			tx.Domain, sessionID, user)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return takaro.NotFound("Session", sessionID)
		}
		return nil
	})
}

// RootUserID returns the earliest-created user of the domain that holds the
// system role root (not merely a user named root: names are not unique).
func (db *DB) RootUserID(ctx context.Context, domain string) (uuid.UUID, error) {
	notFound := takaro.Errorf(takaro.CodeNotFound, "Domain %s has no root user", domain)
	if !takaro.ValidDomainID(domain) {
		return uuid.Nil, notFound
	}
	ctx = takaro.NewContext(ctx, takaro.Principal{Domain: domain})
	var ids []uuid.UUID
	err := db.readInDomain(ctx, func(b *pgx.Batch, domain string) {
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

// apiKeyObject is an API key as the API shows it: never its secret or hash.
var apiKeyObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"name", "name"}, {"userId", "user_id"},
	{"permissions", `ARRAY(SELECT p.code FROM api_key_permissions akp JOIN permissions p ON p.id = akp.permission_id
		WHERE akp.domain = $1 AND akp.api_key_id = {t}.id ORDER BY p.code)`},
	{"expiresAt", "expires_at"}, {"revokedAt", "revoked_at"}, {"lastUsedAt", "last_used_at"},
}

// CreateAPIKey creates an API key for the creator, who must be the
// principal's user, with permissions the creator holds (any, with ROOT).
func (db *DB) CreateAPIKey(ctx context.Context, creator *takaro.Identity, in takaro.APIKeyCreate) (*takaro.APIKeyCreated, error) {
	p, err := takaro.PrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if creator == nil || creator.Domain != p.Domain || creator.UserID == uuid.Nil {
		return nil, notAuthorized()
	}
	if err := in.Validate(time.Now()); err != nil {
		return nil, err
	}
	codes := slices.Clone(in.Permissions)
	slices.Sort(codes)
	codes = slices.Compact(codes)
	if !slices.Contains(creator.Permissions, takaro.PermRoot) {
		for _, c := range codes {
			if !slices.Contains(creator.Permissions, c) {
				return nil, takaro.Errorf(takaro.CodeForbidden, "Cannot grant %s: you do not have this permission", c)
			}
		}
	}
	id := uuid.New()
	t, token := takaro.NewToken(takaro.CredentialAPIKey, p.Domain, id)
	var (
		key  takaro.APIKey
		hash string
	)
	err = db.inDomain(ctx, func(tx *Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO api_keys (domain, id, user_id, name, secret_hash, expires_at)
			VALUES ($1, $2, $3, $4, `+hashExpr("$5", "$6")+`, $7) RETURNING secret_hash`,
			tx.Domain, id, creator.UserID, in.Name, t.Secret, db.bcryptCost, in.ExpiresAt).Scan(&hash)
		if err != nil {
			return translateError(err, "API key")
		}
		tag, err := tx.Exec(ctx, `INSERT INTO api_key_permissions (domain, api_key_id, permission_id)
			SELECT $1, $2, p.id FROM permissions p WHERE p.code = ANY($3)`, tx.Domain, id, codes)
		if err != nil {
			return translateError(err, "API key")
		}
		if tag.RowsAffected() != int64(len(codes)) {
			return fmt.Errorf("create API key: %d of the permissions %v are not in the catalogue", len(codes)-int(tag.RowsAffected()), codes)
		}
		if err := tx.QueryRow(ctx, "SELECT "+apiKeyObject.build("t")+" FROM api_keys t WHERE t.domain = $1 AND t.id = $2",
			tx.Domain, id).Scan(&key); err != nil {
			return err
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventAPIKeyCreated, UserID: &creator.UserID,
			Meta: eventMeta("apiKeyId", id, "name", in.Name, "permissions", codes)})
	})
	if err != nil {
		return nil, err
	}
	db.creds.put(tokenCacheKey(token), hash)
	return &takaro.APIKeyCreated{APIKey: key, Secret: token}, nil
}

// ListAPIKeys lists every API key of the domain, revoked ones included,
// oldest first.
func (db *DB) ListAPIKeys(ctx context.Context) ([]takaro.APIKey, error) {
	keys := []takaro.APIKey{}
	err := db.readInDomain(ctx, func(b *pgx.Batch, domain string) {
		b.Queue("SELECT "+apiKeyObject.build("t")+" FROM api_keys t WHERE t.domain = $1 ORDER BY t.created_at, t.id", domain).
			Query(func(rows pgx.Rows) error {
				var err error
				keys, err = pgx.AppendRows(keys, rows, pgx.RowTo[takaro.APIKey])
				return err
			})
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// RevokeAPIKey revokes an API key of the domain. The next request with it
// fails on every instance, since each request reads the key's row.
func (db *DB) RevokeAPIKey(ctx context.Context, id uuid.UUID) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		var userID uuid.UUID
		err := tx.QueryRow(ctx, `UPDATE api_keys SET revoked_at = now()
			WHERE domain = $1 AND id = $2 AND revoked_at IS NULL RETURNING user_id`, tx.Domain, id).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return takaro.NotFound("API key", id)
		}
		if err != nil {
			return err
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventAPIKeyRevoked, UserID: &userID,
			Meta: eventMeta("apiKeyId", id)})
	})
}
