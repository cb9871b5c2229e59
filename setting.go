package takaro

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// SettingKey names a setting. The keys, their defaults and whether a game
// server may override them are the reference platform's.
type SettingKey string

// The setting keys.
const (
	SettingCommandPrefix                 SettingKey = "commandPrefix"
	SettingServerChatName                SettingKey = "serverChatName"
	SettingEconomyEnabled                SettingKey = "economyEnabled"
	SettingCurrencyName                  SettingKey = "currencyName"
	SettingDeveloperMode                 SettingKey = "developerMode"
	SettingMessagePrefix                 SettingKey = "messagePrefix"
	SettingDomainName                    SettingKey = "domainName"
	SettingDiscordRoleSyncEnabled        SettingKey = "discordRoleSyncEnabled"
	SettingDiscordRoleSyncPreferDiscord  SettingKey = "discordRoleSyncPreferDiscord"
	SettingUnknownCommandFeedbackEnabled SettingKey = "unknownCommandFeedbackEnabled"
	SettingUnknownCommandFeedbackMessage SettingKey = "unknownCommandFeedbackMessage"
)

// EnumValues lists the keys, for the API's documentation.
func (SettingKey) EnumValues() []string {
	out := make([]string, len(SettingDefinitions))
	for i, d := range SettingDefinitions {
		out[i] = string(d.Key)
	}
	return out
}

// SettingKind is what values a setting takes.
type SettingKind int

// Setting kinds.
const (
	// SettingText is free text of at most MaxLength characters (and at
	// least MinLength).
	SettingText SettingKind = iota
	// SettingBool is the text "true" or "false".
	SettingBool
)

// SettingDefinition describes one setting key.
type SettingDefinition struct {
	Key         SettingKey
	Default     string
	Description string
	Kind        SettingKind
	// MinLength and MaxLength bound a text value, in characters.
	MinLength, MaxLength int
	// Overridable says whether a game server may have its own value.
	Overridable bool
}

// maxSettingLength is the longest value any setting takes (the
// reference's column holds 255 characters).
const maxSettingLength = 255

// SettingDefinitions lists every setting, in the reference's order.
var SettingDefinitions = []SettingDefinition{
	{Key: SettingCommandPrefix, Default: "/", Kind: SettingText, MinLength: 1, MaxLength: 10, Overridable: true,
		Description: "What a chat message starts with to be read as a command"},
	{Key: SettingServerChatName, Default: "Takaro", Kind: SettingText, MinLength: 1, MaxLength: 100, Overridable: true,
		Description: "The sender name shown for messages Takaro writes in game chat"},
	{Key: SettingEconomyEnabled, Default: "false", Kind: SettingBool, Overridable: true,
		Description: "Whether players earn, spend and transfer currency"},
	{Key: SettingCurrencyName, Default: "Takaro coins", Kind: SettingText, MinLength: 1, MaxLength: 100, Overridable: true,
		Description: "The name the currency is shown with"},
	{Key: SettingDeveloperMode, Default: "false", Kind: SettingBool,
		Description: "Whether the dashboard shows the module development tools"},
	{Key: SettingMessagePrefix, Default: "", Kind: SettingText, MaxLength: 100, Overridable: true,
		Description: "Text put in front of every message Takaro sends to a game"},
	{Key: SettingDomainName, Default: "", Kind: SettingText, MaxLength: 200,
		Description: "A display name for the domain that replaces its name when set"},
	{Key: SettingDiscordRoleSyncEnabled, Default: "false", Kind: SettingBool,
		Description: "Whether roles are kept in step between Discord and Takaro"},
	{Key: SettingDiscordRoleSyncPreferDiscord, Default: "false", Kind: SettingBool,
		Description: "Whether Discord's roles win when the role sync finds a difference"},
	{Key: SettingUnknownCommandFeedbackEnabled, Default: "false", Kind: SettingBool, Overridable: true,
		Description: "Whether a player who types an unknown command gets a reply"},
	{Key: SettingUnknownCommandFeedbackMessage, Default: "Unknown command. Type /help for available commands.",
		Kind: SettingText, MinLength: 1, MaxLength: maxSettingLength, Overridable: true,
		Description: "The reply to an unknown command"},
}

// LookupSetting returns the definition of key. Errors: CodeValidation,
// naming field, for an unknown key.
func LookupSetting(field string, key SettingKey) (SettingDefinition, error) {
	i := slices.IndexFunc(SettingDefinitions, func(d SettingDefinition) bool { return d.Key == key })
	if i < 0 {
		names := make([]string, len(SettingDefinitions))
		for i, d := range SettingDefinitions {
			names[i] = string(d.Key)
		}
		return SettingDefinition{}, Invalid(field, "must be one of: %s", strings.Join(names, ", "))
	}
	return SettingDefinitions[i], nil
}

// SettingByKey returns the definition of the key a path names. Errors:
// CodeNotFound for an unknown key.
func SettingByKey(key SettingKey) (SettingDefinition, error) {
	if _, err := LookupSetting("key", key); err != nil {
		return SettingDefinition{}, NotFound("Setting", key)
	}
	return LookupSetting("key", key)
}

// Check validates a value of the setting; the error names the key.
func (d SettingDefinition) Check(value string) error {
	switch d.Kind {
	case SettingBool:
		if value != "true" && value != "false" {
			return Invalid("value", "of setting %s must be \"true\" or \"false\"", d.Key)
		}
	default:
		if err := validateLength("value", value, d.MinLength, d.MaxLength); err != nil {
			return Invalid("value", "of setting %s must be valid UTF-8 text of %d to %d characters", d.Key, d.MinLength, d.MaxLength)
		}
	}
	return nil
}

// SettingSource says where a setting's value comes from.
type SettingSource string

// Setting sources: the game server's own value, the domain's value seen
// from a game server, the domain's value, or the built-in default.
const (
	SettingOverride SettingSource = "override"
	SettingInherit  SettingSource = "inherit"
	SettingGlobal   SettingSource = "global"
	SettingDefault  SettingSource = "default"
)

// EnumValues lists the sources, for the API's documentation.
func (SettingSource) EnumValues() []string {
	return []string{string(SettingOverride), string(SettingInherit), string(SettingGlobal), string(SettingDefault)}
}

// Setting is a setting's effective value for the domain or one of its
// game servers.
type Setting struct {
	Key                       SettingKey    `json:"key"`
	Value                     string        `json:"value"`
	Type                      SettingSource `json:"type"`
	Description               string        `json:"description"`
	CanHaveGameServerOverride bool          `json:"canHaveGameServerOverride"`
}

// SettingSet sets a setting for the domain, or for one game server.
type SettingSet struct {
	Value        string     `json:"value"`
	GameServerID *uuid.UUID `json:"gameServerId,omitempty"`
}

// Validate checks the value against the setting's definition.
func (s SettingSet) Validate(d SettingDefinition) error {
	if s.GameServerID != nil && !d.Overridable {
		return Invalid("gameServerId", "must not be given: setting %s cannot be overridden per game server", d.Key)
	}
	return d.Check(s.Value)
}

// SettingsService reads and writes the settings of the domain in the
// context's Principal. A gameServerID of nil means the domain's own
// values; otherwise a game server's effective values (its override, else
// the domain's value, else the default). Errors: CodeValidation for an
// unknown key, a bad value or a game server that is not in the domain.
type SettingsService interface {
	// FindSettings returns the given keys (every key when none is given),
	// in the order given (else the reference's order).
	FindSettings(ctx context.Context, gameServerID *uuid.UUID, keys []SettingKey) ([]Setting, error)
	// FindSetting returns one setting.
	FindSetting(ctx context.Context, key SettingKey, gameServerID *uuid.UUID) (*Setting, error)
	// SetSetting stores a value and records a settings-set event; it
	// returns the setting as seen from where it was set.
	SetSetting(ctx context.Context, key SettingKey, in SettingSet) (*Setting, error)
	// DeleteSetting removes the domain's value or a game server's
	// override, so the default or the domain's value applies again, and
	// records a settings-set event with a null value. Removing a value
	// that is not set changes nothing and records nothing.
	DeleteSetting(ctx context.Context, key SettingKey, gameServerID *uuid.UUID) error
}
