package postgres

import (
	"context"
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
const setLoginEmailSQL = "SELECT set_config('takaro.login_email', $1, true)"

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
