package takaro

import (
	"context"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// Hook runs its function when an event of its type happens on a game
// server and, when it has a regex, the event's message matches it.
type Hook struct {
	ID          uuid.UUID `json:"id"`
	CreatedAt   Time      `json:"createdAt"`
	UpdatedAt   Time      `json:"updatedAt"`
	Name        string    `json:"name"`
	Description *string   `json:"description"`
	Regex       *string   `json:"regex"`
	EventType   string    `json:"eventType"`
	FunctionID  uuid.UUID `json:"functionId"`
	Function    Function  `json:"function"`
	VersionID   uuid.UUID `json:"versionId"`

	// Module is present only when a search asks for it with extend "module".
	Module *ModuleSummary `json:"module,omitzero"`
}

// HookEventDiscordMessage is the hook event type of a Discord message, the
// only one whose hooks need a channel in the installation's system config.
const HookEventDiscordMessage = "discord-message"

// HookEventTypes are the event types a hook can wait for: the game's log
// lines, Discord messages, and the events of the reference platform (the
// event names without the ones this implementation adds).
var HookEventTypes = func() []string {
	added := []EventName{EventVariableCreated, EventVariableUpdated, EventVariableDeleted, EventUserCreated,
		EventUserUpdated, EventUserDeleted, EventAPIKeyCreated, EventAPIKeyRevoked}
	types := []string{"log", HookEventDiscordMessage}
	for _, n := range EventNames {
		if !slices.Contains(added, n) {
			types = append(types, string(n))
		}
	}
	return types
}()

// HookCreate is the input for creating a hook in the latest version of a
// module. Function is the hook's code.
type HookCreate struct {
	Name        string    `json:"name"`
	EventType   string    `json:"eventType"`
	VersionID   uuid.UUID `json:"versionId"`
	Regex       *string   `json:"regex,omitempty"`
	Description *string   `json:"description,omitempty"`
	Function    *string   `json:"function,omitempty"`
}

// Validate checks the input.
func (c HookCreate) Validate() error {
	return validateHook(&c.Name, &c.EventType, c.Regex, c.Description, c.Function)
}

// HookUpdate changes a hook; nil fields are left as they are.
type HookUpdate struct {
	Name        *string `json:"name,omitempty"`
	EventType   *string `json:"eventType,omitempty"`
	Regex       *string `json:"regex,omitempty"`
	Description *string `json:"description,omitempty"`
	Function    *string `json:"function,omitempty"`
}

// Validate checks the input.
func (u HookUpdate) Validate() error {
	return validateHook(u.Name, u.EventType, u.Regex, u.Description, u.Function)
}

func validateHook(name, eventType, regex, description, code *string) error {
	if err := validatePart(name, 50, description, code); err != nil {
		return err
	}
	if eventType != nil && !slices.Contains(HookEventTypes, *eventType) {
		return Invalid("eventType", "must be one of %s", strings.Join(HookEventTypes, ", "))
	}
	if regex != nil {
		if err := validateLength("regex", *regex, 0, 10000); err != nil {
			return err
		}
		// Go's regexp is RE2: matching takes time linear in the input,
		// so no pattern can make a hook hang on a crafted message.
		if _, err := regexp.Compile(*regex); err != nil {
			return Invalid("regex", "is not a valid RE2 regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		// The hook's code runs elsewhere, in JavaScript, whose
		// backtracking engine may try exponentially many ways to match a
		// repetition inside a repetition ("(x+x+)+y"). As the reference
		// does (with the safe-regex package), such patterns are refused.
		if re, err := syntax.Parse(*regex, syntax.Perl); err == nil && starHeight(re) > 1 {
			return Invalid("regex", MsgUnsafeRegex)
		}
	}
	return nil
}

// MsgUnsafeRegex is the reference's message for a hook regex with nested
// repetitions; a whole sentence, shown as it is.
const MsgUnsafeRegex = "Regex did not pass validation (see the underlying package for more details: https://www.npmjs.com/package/safe-regex)"

// starHeight is the deepest nesting of unbounded or multiple repetitions
// in re.
func starHeight(re *syntax.Regexp) int {
	height := 0
	for _, sub := range re.Sub {
		height = max(height, starHeight(sub))
	}
	if re.Op == syntax.OpStar || re.Op == syntax.OpPlus || re.Op == syntax.OpRepeat && (re.Max == -1 || re.Max > 1) {
		height++
	}
	return height
}

// HookService manages the hooks of module versions in the domain of the
// context's Principal. Only a module's latest version can change.
type HookService interface {
	// CreateHook creates a hook with its code. Errors: CodeValidation
	// (also for an unknown version), CodeBadRequest for a tagged version
	// or a module at its maxFunctionsInModule, CodeConflict.
	CreateHook(ctx context.Context, in HookCreate) (*Hook, error)
	// FindHookByID returns a hook. Errors: CodeNotFound.
	FindHookByID(ctx context.Context, id uuid.UUID) (*Hook, error)
	// FindHooks searches hooks. Errors: CodeValidation.
	FindHooks(ctx context.Context, q Query) (*Page[Hook], error)
	// UpdateHook changes a hook. Errors: CodeValidation, CodeNotFound,
	// CodeBadRequest, CodeConflict.
	UpdateHook(ctx context.Context, id uuid.UUID, upd HookUpdate) (*Hook, error)
	// DeleteHook deletes a hook with its code. Errors: CodeNotFound,
	// CodeBadRequest.
	DeleteHook(ctx context.Context, id uuid.UUID) error
}
