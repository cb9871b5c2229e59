package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

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
