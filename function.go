package takaro

import (
	"cmp"
	"context"

	"github.com/google/uuid"
)

// MaxDescription is the longest description of a command, hook, cron job
// or function, in characters (128 KiB), as in the reference.
const MaxDescription = 131072

// MaxCode is the longest function code in characters.
const MaxCode = 1000000

// Function is code. A module version's shared functions have VersionID
// set; the code of a command, hook or cron job is a function of its own
// without one, embedded in its owner; a standalone function has neither.
type Function struct {
	ID          uuid.UUID  `json:"id"`
	CreatedAt   Time       `json:"createdAt"`
	UpdatedAt   Time       `json:"updatedAt"`
	Code        string     `json:"code"`
	Name        *string    `json:"name"`
	Description *string    `json:"description"`
	VersionID   *uuid.UUID `json:"versionId"`

	// Version, Commands, Hooks and CronJobs are present only when a search
	// asks for them with extend "version", "command", "hook", "cronJob".
	Version *SmallModuleVersion `json:"version,omitzero"`
	Command *Command            `json:"command,omitzero"`
	Hook    *Hook               `json:"hook,omitzero"`
	CronJob *CronJob            `json:"cronJob,omitzero"`
}

// FunctionCreate is the input for creating a function; without VersionID
// it is standalone. Absent code gets a default that does nothing.
type FunctionCreate struct {
	Code        *string    `json:"code,omitempty"`
	Name        *string    `json:"name,omitempty"`
	Description *string    `json:"description,omitempty"`
	VersionID   *uuid.UUID `json:"versionId,omitempty"`
}

// Validate checks the input.
func (c FunctionCreate) Validate() error {
	return validateFunctionFields(c.Code, c.Name, c.Description)
}

// FunctionUpdate changes a function; nil fields are left as they are.
type FunctionUpdate struct {
	Code        *string `json:"code,omitempty"`
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

// Validate checks the input.
func (u FunctionUpdate) Validate() error {
	return validateFunctionFields(u.Code, u.Name, u.Description)
}

// DefaultFunctionCode is the code of a function created without any: the
// reference's starting point, character for character (no final newline),
// since clients compare it.
const DefaultFunctionCode = "import { data, takaro } from '@takaro/helpers';\nasync function main() {\n    const {} = data;\n}\nawait main();"

func validateFunctionFields(code, name, description *string) error {
	return cmp.Or(validateOptional("code", code, 0, MaxCode), validateOptional("name", name, 1, 255), validateDescription(description))
}

func validateDescription(d *string) error {
	return validateOptional("description", d, 0, MaxDescription)
}

// validatePart checks what commands, hooks and cron jobs share: a name of
// at most maxName characters, a description and their code.
func validatePart(name *string, maxName int, description, code *string) error {
	return cmp.Or(validateOptional("name", name, 1, maxName), validateDescription(description), validateOptional("function", code, 0, MaxCode))
}

// FunctionService manages functions in the domain of the context's
// Principal. Functions of a tagged version cannot change.
type FunctionService interface {
	// CreateFunction creates a function. Errors: CodeValidation (also for
	// an unknown version), CodeBadRequest for a tagged version or a module
	// at its maxFunctionsInModule, CodeConflict for a taken name.
	CreateFunction(ctx context.Context, in FunctionCreate) (*Function, error)
	// FindFunctionByID returns a function. Errors: CodeNotFound.
	FindFunctionByID(ctx context.Context, id uuid.UUID) (*Function, error)
	// FindFunctions searches functions. Errors: CodeValidation.
	FindFunctions(ctx context.Context, q Query) (*Page[Function], error)
	// UpdateFunction changes a function. Errors: CodeValidation,
	// CodeNotFound, CodeBadRequest, CodeConflict.
	UpdateFunction(ctx context.Context, id uuid.UUID, upd FunctionUpdate) (*Function, error)
	// DeleteFunction deletes a function and the command, hook or cron job
	// whose code it is. Errors: CodeNotFound, CodeBadRequest.
	DeleteFunction(ctx context.Context, id uuid.UUID) error
}
