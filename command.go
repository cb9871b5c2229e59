package takaro

import (
	"cmp"
	"context"
	"strconv"

	"github.com/google/uuid"
)

// Command is a chat command of a module version: a player types the
// trigger (after the game server's command prefix) and its function runs
// with the arguments parsed from the message.
type Command struct {
	ID                  uuid.UUID         `json:"id"`
	CreatedAt           Time              `json:"createdAt"`
	UpdatedAt           Time              `json:"updatedAt"`
	Name                string            `json:"name"`
	Trigger             string            `json:"trigger"`
	HelpText            string            `json:"helpText"`
	Description         *string           `json:"description"`
	FunctionID          uuid.UUID         `json:"functionId"`
	Function            Function          `json:"function"`
	VersionID           uuid.UUID         `json:"versionId"`
	Arguments           []CommandArgument `json:"arguments"`
	RequiredPermissions []string          `json:"requiredPermissions"`

	// Module and Permissions (the version's permissions that
	// RequiredPermissions names) are present only when a search asks for
	// them with extend "module", "permissions".
	Module      *ModuleSummary `json:"module,omitzero"`
	Permissions []Permission   `json:"permissions,omitzero"`
}

// ArgumentType is how a command argument is parsed.
type ArgumentType string

// Argument types.
const (
	ArgumentString  ArgumentType = "string"
	ArgumentNumber  ArgumentType = "number"
	ArgumentBoolean ArgumentType = "boolean"
	ArgumentPlayer  ArgumentType = "player"
)

// Valid reports whether t is a known argument type.
func (t ArgumentType) Valid() bool {
	switch t {
	case ArgumentString, ArgumentNumber, ArgumentBoolean, ArgumentPlayer:
		return true
	}
	return false
}

// CommandArgument is one argument of a command, parsed from the message in
// ascending position.
type CommandArgument struct {
	ID           uuid.UUID    `json:"id"`
	CreatedAt    Time         `json:"createdAt"`
	UpdatedAt    Time         `json:"updatedAt"`
	Name         string       `json:"name"`
	Type         ArgumentType `json:"type"`
	HelpText     string       `json:"helpText"`
	DefaultValue *string      `json:"defaultValue"`
	Position     int          `json:"position"`
}

// CommandArgumentCreate is an argument in a command's input, or on its own
// with CommandID.
type CommandArgumentCreate struct {
	Name         string       `json:"name"`
	Type         ArgumentType `json:"type"`
	HelpText     *string      `json:"helpText,omitempty"`
	DefaultValue *string      `json:"defaultValue,omitempty"`
	Position     int          `json:"position"`
	CommandID    *uuid.UUID   `json:"commandId,omitempty"`
}

// Validate checks the input; field is its path in the request.
func (a CommandArgumentCreate) validate(field string) error {
	if err := validateLength(field+".name", a.Name, 1, 150); err != nil {
		return err
	}
	if !a.Type.Valid() {
		return Invalid(field+".type", "must be one of string, number, boolean, player")
	}
	if a.Position < 0 || a.Position > 1000 {
		return Invalid(field+".position", "must be between 0 and 1000")
	}
	return validateArgumentTexts(field, a.HelpText, a.DefaultValue)
}

// Validate checks the input of a single argument.
func (a CommandArgumentCreate) Validate() error {
	if a.CommandID == nil {
		return Invalid("commandId", "is required")
	}
	return a.validate("")
}

// CommandArgumentUpdate changes an argument; its position stays.
type CommandArgumentUpdate struct {
	Name         *string       `json:"name,omitempty"`
	Type         *ArgumentType `json:"type,omitempty"`
	HelpText     *string       `json:"helpText,omitempty"`
	DefaultValue *string       `json:"defaultValue,omitempty"`
}

// Validate checks the input.
func (u CommandArgumentUpdate) Validate() error {
	if err := validateOptional("name", u.Name, 1, 150); err != nil {
		return err
	}
	if u.Type != nil && !u.Type.Valid() {
		return Invalid("type", "must be one of string, number, boolean, player")
	}
	return validateArgumentTexts("", u.HelpText, u.DefaultValue)
}

func validateArgumentTexts(field string, helpText, defaultValue *string) error {
	prefix := ""
	if field != "" {
		prefix = field + "."
	}
	return cmp.Or(validateOptional(prefix+"helpText", helpText, 0, 10000), validateOptional(prefix+"defaultValue", defaultValue, 0, 10000))
}

// CommandCreate is the input for creating a command in the latest version
// of a module. Function is the command's code.
type CommandCreate struct {
	Name                string                  `json:"name"`
	Trigger             string                  `json:"trigger"`
	VersionID           uuid.UUID               `json:"versionId"`
	HelpText            *string                 `json:"helpText,omitempty"`
	Description         *string                 `json:"description,omitempty"`
	Function            *string                 `json:"function,omitempty"`
	Arguments           []CommandArgumentCreate `json:"arguments,omitempty"`
	RequiredPermissions []string                `json:"requiredPermissions,omitempty"`
}

// Validate checks the input.
func (c CommandCreate) Validate() error {
	return validateCommand(&c.Name, &c.Trigger, c.HelpText, c.Description, c.Function, c.Arguments, c.RequiredPermissions)
}

// CommandUpdate changes a command; nil fields are left as they are. Given
// arguments replace all of the command's arguments.
type CommandUpdate struct {
	Name                *string                  `json:"name,omitempty"`
	Trigger             *string                  `json:"trigger,omitempty"`
	HelpText            *string                  `json:"helpText,omitempty"`
	Description         *string                  `json:"description,omitempty"`
	Function            *string                  `json:"function,omitempty"`
	Arguments           *[]CommandArgumentCreate `json:"arguments,omitempty"`
	RequiredPermissions *[]string                `json:"requiredPermissions,omitempty"`
}

// Validate checks the input.
func (u CommandUpdate) Validate() error {
	var args []CommandArgumentCreate
	if u.Arguments != nil {
		args = *u.Arguments
	}
	var perms []string
	if u.RequiredPermissions != nil {
		perms = *u.RequiredPermissions
	}
	return validateCommand(u.Name, u.Trigger, u.HelpText, u.Description, u.Function, args, perms)
}

func validateCommand(name, trigger, helpText, description, code *string, args []CommandArgumentCreate, perms []string) error {
	err := cmp.Or(validatePart(name, 150, description, code), validateOptional("trigger", trigger, 1, 255),
		validateOptional("helpText", helpText, 0, 10000))
	if err != nil {
		return err
	}
	names, positions := map[string]bool{}, map[int]bool{}
	for i, a := range args {
		field := "arguments[" + strconv.Itoa(i) + "]"
		if err := a.validate(field); err != nil {
			return err
		}
		if a.CommandID != nil {
			return Invalid(field+".commandId", "must not be given inside a command")
		}
		if names[a.Name] {
			return Invalid(field+".name", "is used by another argument")
		}
		if positions[a.Position] {
			return Invalid(field+".position", "is used by another argument")
		}
		names[a.Name], positions[a.Position] = true, true
	}
	for i, p := range perms {
		if err := validateLength("requiredPermissions["+strconv.Itoa(i)+"]", p, 1, 100); err != nil {
			return err
		}
	}
	return nil
}

// CommandService manages the commands of module versions in the domain of
// the context's Principal. Only a module's latest version can change.
type CommandService interface {
	// CreateCommand creates a command with its code and arguments.
	// Errors: CodeValidation (also for an unknown version), CodeBadRequest
	// for a tagged version or a module at its maxFunctionsInModule,
	// CodeConflict for a name the version already has.
	CreateCommand(ctx context.Context, in CommandCreate) (*Command, error)
	// FindCommandByID returns a command. Errors: CodeNotFound.
	FindCommandByID(ctx context.Context, id uuid.UUID) (*Command, error)
	// FindCommands searches commands. Errors: CodeValidation.
	FindCommands(ctx context.Context, q Query) (*Page[Command], error)
	// UpdateCommand changes a command. Errors: CodeValidation,
	// CodeNotFound, CodeBadRequest, CodeConflict.
	UpdateCommand(ctx context.Context, id uuid.UUID, upd CommandUpdate) (*Command, error)
	// DeleteCommand deletes a command with its code. Errors: CodeNotFound,
	// CodeBadRequest.
	DeleteCommand(ctx context.Context, id uuid.UUID) error
	// CreateCommandArgument adds an argument to a command. Errors as
	// CreateCommand.
	CreateCommandArgument(ctx context.Context, in CommandArgumentCreate) (*CommandArgument, error)
	// UpdateCommandArgument changes an argument. Errors: CodeValidation,
	// CodeNotFound, CodeBadRequest, CodeConflict.
	UpdateCommandArgument(ctx context.Context, id uuid.UUID, upd CommandArgumentUpdate) (*CommandArgument, error)
	// DeleteCommandArgument deletes an argument. Errors: CodeNotFound,
	// CodeBadRequest.
	DeleteCommandArgument(ctx context.Context, id uuid.UUID) error
}
