package takaro

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/google/uuid"
)

// EventName is the kind of an audit event.
type EventName string

// Event names written by the data core and the API itself.
const (
	EventRoleAssigned       EventName = "role-assigned"
	EventRoleRemoved        EventName = "role-removed"
	EventRoleCreated        EventName = "role-created"
	EventRoleUpdated        EventName = "role-updated"
	EventRoleDeleted        EventName = "role-deleted"
	EventPlayerCreated      EventName = "player-created"
	EventPlayerDeleted      EventName = "player-deleted"
	EventGameServerCreated  EventName = "gameserver-created"
	EventGameServerUpdated  EventName = "gameserver-updated"
	EventGameServerDeleted  EventName = "gameserver-deleted"
	EventVariableCreated    EventName = "variable-created"
	EventVariableUpdated    EventName = "variable-updated"
	EventVariableDeleted    EventName = "variable-deleted"
	EventUserCreated        EventName = "user-created"
	EventUserUpdated        EventName = "user-updated"
	EventUserDeleted        EventName = "user-deleted"
	EventAPIKeyCreated      EventName = "api-key-created"
	EventAPIKeyRevoked      EventName = "api-key-revoked"
	EventSettingsSet        EventName = "settings-set"
	EventPlayerLinked       EventName = "player-linked"
	EventPlayerNewName      EventName = "player-new-name-detected"
	EventPlayerNewIP        EventName = "player-new-ip-detected"
	EventServerStatusChange EventName = "server-status-changed"
	EventModuleCreated      EventName = "module-created"
	EventModuleUpdated      EventName = "module-updated"
	EventModuleDeleted      EventName = "module-deleted"
	EventModuleInstalled    EventName = "module-installed"
	EventModuleUninstalled  EventName = "module-uninstalled"
	EventCommandExecuted    EventName = "command-executed"
	EventHookExecuted       EventName = "hook-executed"
	EventCronJobExecuted    EventName = "cronjob-executed"
	EventCurrencyAdded      EventName = "currency-added"
	EventCurrencyDeducted   EventName = "currency-deducted"
	EventCurrencyResetAll   EventName = "currency-reset-all"
	EventPlayerBanned       EventName = "player-banned"
	EventPlayerUnbanned     EventName = "player-unbanned"
)

// EventNames is every event name the events table accepts: the reference
// platform's names plus the ones this implementation adds for its own
// mutations. The events migration's CHECK constraint lists the same names;
// a test keeps the two in step.
var EventNames = []EventName{
	"role-assigned", "role-removed", "role-created", "role-updated", "role-deleted",
	"command-executed", "command-execution-denied", "hook-executed", "cronjob-executed",
	"currency-added", "currency-deducted", "currency-reset-all", "settings-set",
	"player-new-ip-detected", "player-new-name-detected", "server-status-changed",
	"module-created", "module-updated", "module-deleted", "module-installed", "module-uninstalled",
	"player-created", "shop-listing-created", "shop-listing-updated", "shop-listing-deleted",
	"shop-order-created", "shop-order-status-changed", "shop-order-delivery-failed",
	"player-linked", "gameserver-created", "gameserver-updated", "gameserver-deleted",
	"player-banned", "player-unbanned", "player-deleted",
	"player-connected", "player-disconnected", "chat-message", "player-death", "entity-killed",
	"variable-created", "variable-updated", "variable-deleted",
	"user-created", "user-updated", "user-deleted", "api-key-created", "api-key-revoked",
}

// EnumValues lists the event names, for the API's documentation.
func (EventName) EnumValues() []string {
	out := make([]string, len(EventNames))
	for i, n := range EventNames {
		out[i] = string(n)
	}
	return out
}

// Valid reports whether n is a known event name.
func (n EventName) Valid() bool { return slices.Contains(EventNames, n) }

// Event is an append-only audit record. The ids it mentions are not foreign
// keys: events outlive the rows they describe.
type Event struct {
	ID             uuid.UUID       `json:"id"`
	CreatedAt      Time            `json:"createdAt"`
	UpdatedAt      Time            `json:"updatedAt"`
	EventName      EventName       `json:"eventName"`
	PlayerID       *uuid.UUID      `json:"playerId"`
	GameserverID   *uuid.UUID      `json:"gameserverId"`
	ModuleID       *uuid.UUID      `json:"moduleId"`
	UserID         *uuid.UUID      `json:"userId"`
	ActingUserID   *uuid.UUID      `json:"actingUserId"`
	ActingModuleID *uuid.UUID      `json:"actingModuleId"`
	Meta           json.RawMessage `json:"meta"`

	// GameServer, Player and User are the rows the event names, present
	// only when a search asks for them with extend "gameServer", "player"
	// and "user" and the row still exists in the domain. A game server's
	// connection info is never included.
	GameServer *GameServer `json:"gameServer,omitzero"`
	Player     *Player     `json:"player,omitzero"`
	User       *User       `json:"user,omitzero"`
}

// EventCreate is the input for recording an event.
type EventCreate struct {
	EventName      EventName       `json:"eventName"`
	PlayerID       *uuid.UUID      `json:"playerId,omitempty"`
	GameserverID   *uuid.UUID      `json:"gameserverId,omitempty"`
	ModuleID       *uuid.UUID      `json:"moduleId,omitempty"`
	UserID         *uuid.UUID      `json:"userId,omitempty"`
	ActingUserID   *uuid.UUID      `json:"actingUserId,omitempty"`
	ActingModuleID *uuid.UUID      `json:"actingModuleId,omitempty"`
	Meta           json.RawMessage `json:"meta,omitempty"`
}

// Validate checks the input.
func (c EventCreate) Validate() error {
	if !c.EventName.Valid() {
		return Errorf(CodeBadRequest, "Event %s is not supported", c.EventName)
	}
	if len(c.Meta) > 0 {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(c.Meta, &obj); err != nil || obj == nil {
			return Invalid("meta", "must be a JSON object")
		}
	}
	return nil
}

// EventService records and reads the audit log of the domain in the
// context's Principal.
type EventService interface {
	// CreateEvent records an event; ActingUserID defaults to the caller.
	// Errors: CodeValidation, CodeBadRequest for an unknown event name.
	CreateEvent(ctx context.Context, in EventCreate) (*Event, error)
	// FindEventByID returns one event. Errors: CodeNotFound.
	FindEventByID(ctx context.Context, id uuid.UUID) (*Event, error)
	// FindEvents searches events. Errors: CodeValidation.
	FindEvents(ctx context.Context, q Query) (*Page[Event], error)
}
