package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

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

// validSecretText reports whether s can be a password: text PostgreSQL can
// carry (valid UTF-8 without NUL) and no longer than bcrypt reads, so a
// longer guess cannot match a stored password by its first 72 bytes.
func validSecretText(s string) bool {
	return s != "" && len(s) <= takaro.MaxPasswordBytes && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// setLoginEmailSQL opens the users.login_lookup policy for one address for
// the rest of the transaction; an empty address closes it again.
const setLoginEmailSQL = "SELECT takaro_set_local('takaro.login_email', $1)"

// loginCandidates is how many domains' users one login checks the
// password against; loginSQL pads the candidates to exactly this many
// with a hash that matches nothing, so every login costs the same
// loginCandidates crypt() calls (one with a domain hint) whether the
// address exists in no domain, one or eight: its time is no oracle of
// how many tenants an address belongs to, and the work per attempt is
// bounded. An address with users in more domains is checked in the first
// loginCandidates of them, in domain id order; X-Takaro-Domain reaches
// the others. Four keeps a login at about 0.2 s of database CPU at cost
// 10 and covers the usual case of one community, or a few, per address.
const loginCandidates = 4

// loginSQL returns the users with the address ($1) and a password, in
// domainHint ($3) only when it is set, in domain id order (bytewise,
// whatever the database's collation), at most $4 of them, each with its
// domain's state, whether the password ($2) matches and its hash; then
// padding rows (NULL user) up to $4 rows, each checked against the
// dummy hash $5. Every row costs one crypt().
const loginSQL = `WITH found AS MATERIALIZED (
		SELECT u.domain, u.id, d.state, u.password_hash
		FROM users u JOIN domains d ON d.id = u.domain
		WHERE u.email = $1 AND u.password_hash IS NOT NULL AND ($3::text = '' OR u.domain = $3::text)
		ORDER BY u.domain COLLATE "C" LIMIT $4
	), padded AS (
		SELECT domain, id, state, password_hash, 0 AS pad FROM found
		UNION ALL
		SELECT NULL, NULL, NULL, $5::text, n FROM generate_series(1, $4 - (SELECT count(*) FROM found)::int) n
	)
	SELECT domain, id, state, password_hash = crypt($2::text, password_hash), password_hash
	FROM padded ORDER BY pad, domain COLLATE "C"`

// dummyHash returns a well-formed bcrypt hash at cost for the padding rows
// of loginSQL: crypt() against it costs what a real verification costs,
// and its checksum (all "A") is, for all practical purposes, no
// password's.
func dummyHash(cost int) string {
	return fmt.Sprintf("$2a$%02d$%s", cost, strings.Repeat("A", 53))
}

// hashCost reads the work factor of a bcrypt hash ("$2a$10$…"), or 0.
func hashCost(hash string) int {
	if len(hash) < 7 || hash[0] != '$' || hash[3] != '$' || hash[6] != '$' {
		return 0
	}
	n, err := strconv.Atoi(hash[4:6])
	if err != nil {
		return 0
	}
	return n
}

type loginCandidate struct {
	domain   *string
	userID   *uuid.UUID
	state    *takaro.DomainState
	verified bool
	hash     string
}

// Login checks the address and password against the users with that
// address (loginCandidates of them, or only domainHint's) and opens a
// session in one of them.
//
// Failed logins are throttled per client address and per e-mail address
// (throttle.go): a token is taken from each before any crypt() and given
// back when the password was right.
//
// The lookup runs on the system path with only takaro.login_email set, so
// row-level security shows it the users with that address and nothing
// else. A right password stored under another work factor than the
// configured one is hashed again under it.
func (db *DB) Login(ctx context.Context, email, password, domainHint string) (*takaro.Session, error) {
	email, err := takaro.NormalizeEmail(email)
	if err != nil || !validSecretText(password) {
		return nil, notAuthorized()
	}
	refund, err := db.throttles.reserve(db.creds.clock,
		claim{db.throttles.loginAddress, takaro.ClientAddress(ctx)}, claim{db.throttles.loginEmail, email})
	if err != nil {
		return nil, err
	}
	session, err := db.login(ctx, email, password, domainHint)
	if takaro.ErrorCode(err) != takaro.CodeUnauthorized {
		refund() // the password was right (or was never checked)
	}
	return session, err
}

func (db *DB) login(ctx context.Context, email, password, domainHint string) (*takaro.Session, error) {
	limit := loginCandidates
	if domainHint != "" {
		limit = 1
	}
	var (
		session = &takaro.Session{}
		token   string
		hash    string
	)
	err := db.inSystem(ctx, func(stx pgx.Tx) error {
		var candidates []loginCandidate
		b := &pgx.Batch{}
		b.Queue(setLoginEmailSQL, email)
		b.Queue(loginSQL, email, password, domainHint, limit, dummyHash(db.bcryptCost)).Query(func(rows pgx.Rows) error {
			var err error
			candidates, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (loginCandidate, error) {
				var c loginCandidate
				return c, row.Scan(&c.domain, &c.userID, &c.state, &c.verified, &c.hash)
			})
			return err
		})
		if err := stx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		chosen, domains, err := chooseLoginDomain(candidates)
		if err != nil {
			return err
		}
		// From here on the transaction works in the chosen domain only.
		if _, err := stx.Exec(ctx, setLoginEmailSQL, ""); err != nil {
			return err
		}
		tx, err := bindDomain(ctx, stx, *chosen.domain)
		if err != nil {
			return err
		}
		if hashCost(chosen.hash) != db.bcryptCost {
			if err := db.rehashPassword(ctx, tx, *chosen.userID, chosen.hash, password); err != nil {
				return err
			}
		}
		id := uuid.New()
		var t takaro.Token
		t, token = takaro.NewToken(takaro.CredentialSession, tx.Domain, id)
		err = tx.QueryRow(ctx, `INSERT INTO sessions (domain, id, user_id, secret_hash, expires_at, login_domains)
			VALUES ($1, $2, $3, `+hashExpr("$4", "$5")+`, now() + $6::float8 * interval '1 second', $7)
			RETURNING expires_at, secret_hash`,
			tx.Domain, id, *chosen.userID, t.Secret, db.bcryptCost, SessionLifetime.Seconds(), domains,
		).Scan(&session.ExpiresAt, &hash)
		if err != nil {
			return err
		}
		session.Token, session.Domain, session.UserID, session.Domains = token, tx.Domain, *chosen.userID, domains
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

// rehashPassword stores the password, just verified against old, hashed
// under the configured work factor, unless the hash changed meanwhile.
// The hash is made by a statement of its own: crypt() is volatile and
// stays out of UPDATE … SET.
func (db *DB) rehashPassword(ctx context.Context, tx *Tx, userID uuid.UUID, old, password string) error {
	var hash string
	if err := tx.QueryRow(ctx, "SELECT "+hashExpr("$1", "$2"), password, db.bcryptCost).Scan(&hash); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE users SET password_hash = $3
		WHERE domain = $1 AND id = $2 AND password_hash = $4`, tx.Domain, userID, hash, old)
	return err
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
		if !c.verified || c.domain == nil { // a padding row never matches
			continue
		}
		domains = append(domains, *c.domain)
		if chosen == nil && *c.state == takaro.DomainActive {
			chosen = c
		}
		maintenance = maintenance || *c.state == takaro.DomainMaintenance
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
