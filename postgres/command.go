package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var _ takaro.CommandService = (*DB)(nil)

var argumentObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"name", "name"}, {"type", "type"},
	{"helpText", "help_text"}, {"defaultValue", "default_value"}, {"position", "position"},
}

var commandObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"name", "name"}, {"trigger", "trigger"},
	{"helpText", "help_text"}, {"description", "description"}, {"functionId", "function_id"}, {"function", functionOf},
	{"versionId", "version_id"},
	{"arguments", `(SELECT coalesce(json_agg(` + argumentObject.build("a") + ` ORDER BY a.position), '[]'::json)
		FROM command_arguments a WHERE a.domain = $1 AND a.command_id = {t}.id)`},
	{"requiredPermissions", "required_permissions"},
}

var commandSearch = &searchSpec{
	table:  "commands",
	object: commandObject,
	fields: withCommonFields(map[string]field{
		"name":      {column: "t.name", kind: kindText, ops: opFilter | opSearch | opSort},
		"trigger":   {column: "t.trigger", kind: kindText, ops: opFilter | opSearch | opSort},
		"versionId": {column: "t.version_id", kind: kindUUID, ops: opFilter},
		"moduleId":  {column: moduleOfVersion("t.version_id"), kind: kindUUID, ops: opFilter},
	}),
	// The function and the arguments are always embedded. The reference's
	// "gameServer" names no relation of a command, so it is refused.
	extend: map[string]string{
		"module": partModule,
		"permissions": `(SELECT coalesce(json_agg(` + modulePermissionObject.build("rp") + ` ORDER BY rp.code), '[]'::json)
			FROM module_permissions rp WHERE rp.domain = $1 AND rp.version_id = t.version_id AND rp.code = ANY(t.required_permissions))`,
	},
}

// defaultHelpText is the help text of a command or argument created
// without one, as in the reference.
const defaultHelpText = "No help text available"

// CreateCommand creates a command, with its code and arguments, in a
// latest version.
func (db *DB) CreateCommand(ctx context.Context, in takaro.CommandCreate) (*takaro.Command, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return createPart[takaro.Command](ctx, db, "commands", commandObject, in.VersionID, func(tx *Tx) (uuid.UUID, error) {
		return insertCommand(ctx, tx, in)
	})
}

// insertCommand stores a command with its code and arguments in a version
// the caller has checked.
func insertCommand(ctx context.Context, tx *Tx, in takaro.CommandCreate) (uuid.UUID, error) {
	fn, err := insertFunction(ctx, tx, nil, &in.VersionID, nil, nil, in.Function)
	if err != nil {
		return uuid.Nil, err
	}
	helpText := defaultHelpText
	if in.HelpText != nil {
		helpText = *in.HelpText
	}
	perms := in.RequiredPermissions
	if perms == nil {
		perms = []string{}
	}
	var id uuid.UUID
	err = tx.QueryRow(ctx, `INSERT INTO commands (domain, version_id, function_id, name, trigger, help_text, description, required_permissions)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		tx.Domain, in.VersionID, fn, in.Name, in.Trigger, helpText, in.Description, perms).Scan(&id)
	if err != nil {
		return uuid.Nil, translateError(err, "command")
	}
	return id, insertArguments(ctx, tx, id, in.Arguments)
}

// insertArguments adds arguments to a command, as the rows of one
// INSERT … VALUES: Citus turns an INSERT … SELECT into a COPY into the
// shards, which row-level security refuses.
func insertArguments(ctx context.Context, tx *Tx, command uuid.UUID, args []takaro.CommandArgumentCreate) error {
	if len(args) == 0 {
		return nil
	}
	rows := make([]string, len(args))
	params := []any{tx.Domain, command}
	for i, a := range args {
		n := len(params)
		rows[i] = fmt.Sprintf("($1, $2, $%d, $%d, coalesce($%d::text, '%s'), $%d, $%d::int)", n+1, n+2, n+3, defaultHelpText, n+4, n+5)
		params = append(params, a.Name, string(a.Type), a.HelpText, a.DefaultValue, int32(a.Position))
	}
	_, err := tx.Exec(ctx, `INSERT INTO command_arguments (domain, command_id, name, type, help_text, default_value, position)
		VALUES `+strings.Join(rows, ", "), params...)
	return translateError(err, "argument")
}

// FindCommandByID returns a command.
func (db *DB) FindCommandByID(ctx context.Context, id uuid.UUID) (*takaro.Command, error) {
	return findByID[takaro.Command](ctx, db, "commands", commandObject, id, "Command", "")
}

// FindCommands searches commands.
func (db *DB) FindCommands(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.Command], error) {
	return search[takaro.Command](ctx, db, commandSearch, q)
}

// UpdateCommand changes a command of a latest version; given arguments
// replace the old ones.
func (db *DB) UpdateCommand(ctx context.Context, id uuid.UUID, upd takaro.CommandUpdate) (*takaro.Command, error) {
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	return updatePart[takaro.Command](ctx, db, "commands", commandObject, id, takaro.NotFound("Command", id), func(tx *Tx) error {
		var perms []string
		if upd.RequiredPermissions != nil {
			perms = *upd.RequiredPermissions
			if perms == nil {
				perms = []string{}
			}
		}
		_, err := tx.Exec(ctx, `UPDATE commands SET name = coalesce($3, name), trigger = coalesce($4, trigger),
			help_text = coalesce($5, help_text), description = coalesce($6, description),
			required_permissions = coalesce($7, required_permissions)
			WHERE domain = $1 AND id = $2`, tx.Domain, id, upd.Name, upd.Trigger, upd.HelpText, upd.Description, perms)
		if err != nil {
			return translateError(err, "command")
		}
		if err := updatePartCode(ctx, tx, "commands", id, upd.Function); err != nil {
			return err
		}
		if upd.Arguments != nil {
			if _, err := tx.Exec(ctx, "DELETE FROM command_arguments WHERE domain = $1 AND command_id = $2", tx.Domain, id); err != nil {
				return err
			}
			if err := insertArguments(ctx, tx, id, *upd.Arguments); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteCommand deletes a command of a latest version with its code.
func (db *DB) DeleteCommand(ctx context.Context, id uuid.UUID) error {
	return deletePart(ctx, db, "commands", id, takaro.NotFound("Command", id))
}

// CreateCommandArgument adds an argument to a command of a latest version.
func (db *DB) CreateCommandArgument(ctx context.Context, in takaro.CommandArgumentCreate) (*takaro.CommandArgument, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return writeRow[takaro.CommandArgument](ctx, db, "command_arguments", argumentObject, func(tx *Tx) (uuid.UUID, error) {
		err := lockPartVersion(ctx, tx, "commands", *in.CommandID, takaro.Invalid("commandId", "refers to something that does not exist"))
		if err != nil {
			return uuid.Nil, err
		}
		var id uuid.UUID
		err = tx.QueryRow(ctx, `INSERT INTO command_arguments (domain, command_id, name, type, help_text, default_value, position)
			VALUES ($1, $2, $3, $4, coalesce($5, '`+defaultHelpText+`'), $6, $7) RETURNING id`,
			tx.Domain, in.CommandID, in.Name, in.Type, in.HelpText, in.DefaultValue, in.Position).Scan(&id)
		return id, translateError(err, "argument")
	})
}

// UpdateCommandArgument changes an argument of a command of a latest
// version.
func (db *DB) UpdateCommandArgument(ctx context.Context, id uuid.UUID, upd takaro.CommandArgumentUpdate) (*takaro.CommandArgument, error) {
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	return writeRow[takaro.CommandArgument](ctx, db, "command_arguments", argumentObject, func(tx *Tx) (uuid.UUID, error) {
		if err := lockArgumentVersion(ctx, tx, id); err != nil {
			return uuid.Nil, err
		}
		_, err := tx.Exec(ctx, `UPDATE command_arguments SET name = coalesce($3, name), type = coalesce($4, type),
			help_text = coalesce($5, help_text), default_value = coalesce($6, default_value)
			WHERE domain = $1 AND id = $2`, tx.Domain, id, upd.Name, upd.Type, upd.HelpText, upd.DefaultValue)
		return id, translateError(err, "argument")
	})
}

// DeleteCommandArgument deletes an argument of a command of a latest
// version.
func (db *DB) DeleteCommandArgument(ctx context.Context, id uuid.UUID) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		if err := lockArgumentVersion(ctx, tx, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM command_arguments WHERE domain = $1 AND id = $2", tx.Domain, id)
		return err
	})
}

// lockArgumentVersion checks that argument id exists and may change, and
// locks its version.
func lockArgumentVersion(ctx context.Context, tx *Tx, id uuid.UUID) error {
	var command uuid.UUID
	err := tx.QueryRow(ctx, "SELECT command_id FROM command_arguments WHERE domain = $1 AND id = $2", tx.Domain, id).Scan(&command)
	if errors.Is(err, pgx.ErrNoRows) {
		return takaro.NotFound("Command argument", id)
	}
	if err != nil {
		return err
	}
	return lockPartVersion(ctx, tx, "commands", command, takaro.NotFound("Command argument", id))
}
