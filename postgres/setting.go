package postgres

import (
	"context"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var _ takaro.SettingsService = (*DB)(nil)

// storedSetting is a row of settings: the domain's value of a key
// (override false) or a game server's.
type storedSetting struct {
	key      takaro.SettingKey
	override bool
	value    string
}

// settingsSQL reads the stored values that decide a scope's settings: the
// domain's ($2 NULL) or a game server's ($2) and the domain's. $3 NULL
// reads every key, else only that key.
const settingsSQL = `SELECT s.key, s.gameserver_id IS NOT NULL, s.value FROM settings s
	WHERE s.domain = $1 AND (s.gameserver_id IS NULL OR s.gameserver_id = $2) AND ($3::text IS NULL OR s.key = $3)`

func collectSettings(rows pgx.Rows) ([]storedSetting, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (storedSetting, error) {
		var s storedSetting
		err := row.Scan(&s.key, &s.override, &s.value)
		return s, err
	})
}

// resolveSetting is a setting's effective value from the stored values of
// its scope: a game server's override, else the domain's value (inherited
// when a game server asked), else the default.
func resolveSetting(d takaro.SettingDefinition, stored []storedSetting, gameServerID *uuid.UUID) takaro.Setting {
	out := takaro.Setting{Key: d.Key, Value: d.Default, Type: takaro.SettingDefault,
		Description: d.Description, CanHaveGameServerOverride: d.Overridable}
	for _, s := range stored {
		if s.key != d.Key {
			continue
		}
		switch {
		case s.override:
			out.Value, out.Type = s.value, takaro.SettingOverride
			return out
		case gameServerID != nil:
			out.Value, out.Type = s.value, takaro.SettingInherit
		default:
			out.Value, out.Type = s.value, takaro.SettingGlobal
		}
	}
	return out
}

// Setting reads one setting's effective value for the transaction's domain
// (gameServerID nil) or one of its game servers, so a write can depend on
// a setting in the same transaction (for example the currency operations
// on economyEnabled). The game server is not checked here.
func (tx *Tx) Setting(ctx context.Context, key takaro.SettingKey, gameServerID *uuid.UUID) (takaro.Setting, error) {
	d, err := takaro.LookupSetting("key", key)
	if err != nil {
		return takaro.Setting{}, err
	}
	rows, err := tx.Query(ctx, settingsSQL, tx.Domain, gameServerID, string(key))
	if err != nil {
		return takaro.Setting{}, err
	}
	stored, err := collectSettings(rows)
	if err != nil {
		return takaro.Setting{}, err
	}
	return resolveSetting(d, stored, gameServerID), nil
}

// SettingEnabled reports whether a true/false setting is "true" for the
// transaction's domain or one of its game servers (see Setting).
func (tx *Tx) SettingEnabled(ctx context.Context, key takaro.SettingKey, gameServerID *uuid.UUID) (bool, error) {
	s, err := tx.Setting(ctx, key, gameServerID)
	return s.Value == "true", err
}

// FindSettings returns the effective values of keys (all when empty) for
// the domain or one of its game servers, in one round trip.
func (db *DB) FindSettings(ctx context.Context, gameServerID *uuid.UUID, keys []takaro.SettingKey) ([]takaro.Setting, error) {
	defs := make([]takaro.SettingDefinition, 0, len(takaro.SettingDefinitions))
	for _, k := range keys {
		d, err := takaro.LookupSetting("keys", k)
		if err != nil {
			return nil, err
		}
		defs = append(defs, d)
	}
	if len(keys) == 0 {
		defs = append(defs, takaro.SettingDefinitions...)
	}
	var stored []storedSetting
	serverExists := true
	err := db.readInDomain(ctx, func(b *pgx.Batch, domain string) {
		if gameServerID != nil {
			b.Queue("SELECT "+refGameServer, domain, *gameServerID).QueryRow(func(row pgx.Row) error {
				return row.Scan(&serverExists)
			})
		}
		b.Queue(settingsSQL, domain, gameServerID, nil).Query(func(rows pgx.Rows) error {
			var err error
			stored, err = collectSettings(rows)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if !serverExists {
		return nil, takaro.Invalid("gameServerId", "refers to something that does not exist")
	}
	out := make([]takaro.Setting, len(defs))
	for i, d := range defs {
		out[i] = resolveSetting(d, stored, gameServerID)
	}
	return out, nil
}

// FindSetting returns one setting's effective value.
func (db *DB) FindSetting(ctx context.Context, key takaro.SettingKey, gameServerID *uuid.UUID) (*takaro.Setting, error) {
	if _, err := takaro.SettingByKey(key); err != nil {
		return nil, err
	}
	settings, err := db.FindSettings(ctx, gameServerID, []takaro.SettingKey{key})
	if err != nil {
		return nil, err
	}
	return &settings[0], nil
}

// SetSetting stores the domain's value of a setting or a game server's
// override, records a settings-set event naming the caller, and returns
// the setting as seen from where it was set.
func (db *DB) SetSetting(ctx context.Context, key takaro.SettingKey, in takaro.SettingSet) (*takaro.Setting, error) {
	d, err := takaro.SettingByKey(key)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(d); err != nil {
		return nil, err
	}
	var out takaro.Setting
	err = db.inDomain(ctx, func(tx *Tx) error {
		if err := checkReferences(ctx, tx, reference{"gameServerId", in.GameServerID, refGameServer}); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO settings (domain, gameserver_id, key, value) VALUES ($1, $2, $3, $4)
			ON CONFLICT ON CONSTRAINT settings_scope_key DO UPDATE SET value = EXCLUDED.value`,
			tx.Domain, in.GameServerID, string(key), in.Value)
		if err != nil {
			return translateError(err, "setting")
		}
		if err := recordEvent(ctx, tx, settingEvent(ctx, key, in.GameServerID, &in.Value)); err != nil {
			return err
		}
		out, err = tx.Setting(ctx, key, in.GameServerID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteSetting removes the domain's value of a setting or a game
// server's override.
func (db *DB) DeleteSetting(ctx context.Context, key takaro.SettingKey, gameServerID *uuid.UUID) error {
	if _, err := takaro.SettingByKey(key); err != nil {
		return err
	}
	return db.inDomain(ctx, func(tx *Tx) error {
		if err := checkReferences(ctx, tx, reference{"gameServerId", gameServerID, refGameServer}); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM settings WHERE domain = $1 AND key = $2 AND gameserver_id IS NOT DISTINCT FROM $3`,
			tx.Domain, string(key), gameServerID)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return recordEvent(ctx, tx, settingEvent(ctx, key, gameServerID, nil))
	})
}

// settingEvent describes a change of a setting for the audit log, with the
// caller as its user; value is nil when the value was removed.
func settingEvent(ctx context.Context, key takaro.SettingKey, gameServerID *uuid.UUID, value *string) takaro.EventCreate {
	ev := takaro.EventCreate{EventName: takaro.EventSettingsSet, GameserverID: gameServerID,
		Meta: eventMeta("key", key, "value", value)}
	if p, err := takaro.PrincipalFrom(ctx); err == nil && p.UserID != uuid.Nil {
		ev.UserID = &p.UserID
	}
	return ev
}
