package takaro

import (
	"context"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"time"

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
	// ExportEvents hands each event that the search q finds, within the
	// window of EventExportWindow, to each, in the order of createdAt
	// (ascending, or as q.SortDirection says), a chunk at a time: memory
	// does not grow with the export. It validates q before the first call
	// of each. Errors: CodeValidation, CodeBadRequest for a window longer
	// than MaxEventExportDays, and each's own error.
	ExportEvents(ctx context.Context, q Query, each func(*EventExportRow) error) error
}

// MaxEventExportDays bounds the time range of an event export, as the
// reference platform does.
const MaxEventExportDays = 90

// EventExportRow is one event of an export, with the names of the rows it
// mentions (empty when there is none, or the row is gone).
type EventExportRow struct {
	Event
	ModuleName, PlayerName, UserName, GameServerName string
}

// EventExportWindow fixes the createdAt range of an export as the
// reference does: from greaterThan.createdAt to lessThan.createdAt, the end
// defaulting to now and the start to MaxEventExportDays before the end; a
// longer range is refused. It returns q with both bounds set.
func EventExportWindow(q Query, now time.Time) (Query, error) {
	bound := func(param string, m map[string]any) (time.Time, bool, error) {
		v, ok := m["createdAt"]
		if !ok {
			return time.Time{}, false, nil
		}
		s, _ := v.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, false, Invalid(param+".createdAt", "must be an ISO 8601 date-time, for example 2024-01-31T12:00:00Z")
		}
		return t, true, CheckTime(param+".createdAt", t)
	}
	start, hasStart, err := bound("greaterThan", q.GreaterThan)
	if err != nil {
		return q, err
	}
	end, hasEnd, err := bound("lessThan", q.LessThan)
	if err != nil {
		return q, err
	}
	if !hasEnd {
		end = now
	}
	if !hasStart {
		start = end.AddDate(0, 0, -MaxEventExportDays)
	}
	if days := end.Sub(start).Hours() / 24; days > MaxEventExportDays {
		return q, Errorf(CodeBadRequest, "Time range exceeds maximum allowed period of %d days. Requested range is %d days. "+
			"Please select a date range of %d days or less.", MaxEventExportDays, int(math.Ceil(days)), MaxEventExportDays)
	}
	q.GreaterThan = maps.Clone(q.GreaterThan)
	q.LessThan = maps.Clone(q.LessThan)
	if q.GreaterThan == nil {
		q.GreaterThan = map[string]any{}
	}
	if q.LessThan == nil {
		q.LessThan = map[string]any{}
	}
	q.GreaterThan["createdAt"] = start.UTC().Format(time.RFC3339Nano)
	q.LessThan["createdAt"] = end.UTC().Format(time.RFC3339Nano)
	return q, nil
}
