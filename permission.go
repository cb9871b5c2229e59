package takaro

import (
	"github.com/google/uuid"
)

// Permission is an entry of the global permission catalogue. Its code is
// stable across installations; its id is not.
type Permission struct {
	ID              uuid.UUID  `json:"id"`
	CreatedAt       Time       `json:"createdAt"`
	UpdatedAt       Time       `json:"updatedAt"`
	Permission      string     `json:"permission"`
	FriendlyName    string     `json:"friendlyName"`
	Description     string     `json:"description"`
	CanHaveCount    bool       `json:"canHaveCount"`
	ModuleVersionID *uuid.UUID `json:"moduleVersionId"`
}

// The permission codes of the reference platform. The migration that seeds
// the catalogue and the test that checks it use this list.
const (
	PermRoot               = "ROOT"
	PermManageUsers        = "MANAGE_USERS"
	PermReadUsers          = "READ_USERS"
	PermManageRoles        = "MANAGE_ROLES"
	PermReadRoles          = "READ_ROLES"
	PermManageGameservers  = "MANAGE_GAMESERVERS"
	PermReadModules        = "READ_MODULES"
	PermManageModules      = "MANAGE_MODULES"
	PermReadPlayers        = "READ_PLAYERS"
	PermManagePlayers      = "MANAGE_PLAYERS"
	PermManageSettings     = "MANAGE_SETTINGS"
	PermReadSettings       = "READ_SETTINGS"
	PermReadVariables      = "READ_VARIABLES"
	PermManageVariables    = "MANAGE_VARIABLES"
	PermReadEvents         = "READ_EVENTS"
	PermManageEvents       = "MANAGE_EVENTS"
	PermReadItems          = "READ_ITEMS"
	PermManageItems        = "MANAGE_ITEMS"
	PermReadEntities       = "READ_ENTITIES"
	PermManageEntities     = "MANAGE_ENTITIES"
	PermManageShopListings = "MANAGE_SHOP_LISTINGS"
	PermManageShopOrders   = "MANAGE_SHOP_ORDERS"
	PermViewDiscordInfo    = "VIEW_DISCORD_INFO"
	PermSendDiscordMessage = "SEND_DISCORD_MESSAGE"
)

// PermissionCodes lists every system permission code, in catalogue order.
var PermissionCodes = []string{
	PermRoot, PermManageUsers, PermReadUsers, PermManageRoles, PermReadRoles,
	PermManageGameservers, PermReadModules, PermManageModules, PermReadPlayers,
	PermManagePlayers, PermManageSettings, PermReadSettings, PermReadVariables,
	PermManageVariables, PermReadEvents, PermManageEvents, PermReadItems,
	PermManageItems, PermReadEntities, PermManageEntities, PermManageShopListings,
	PermManageShopOrders, PermViewDiscordInfo, PermSendDiscordMessage,
}
