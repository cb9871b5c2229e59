package takaro

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"
)

// Names of the roles every domain is created with. The system roles User
// and Player are held implicitly by every user and every player.
const (
	RoleRoot      = "root"
	RoleAdmin     = "Admin"
	RoleModerator = "Moderator"
	RolePlayer    = "Player"
	RoleUser      = "User"
)

// Role is a named set of permissions within a domain.
type Role struct {
	ID                  uuid.UUID        `json:"id"`
	CreatedAt           Time             `json:"createdAt"`
	UpdatedAt           Time             `json:"updatedAt"`
	Name                string           `json:"name"`
	System              bool             `json:"system"`
	LinkedDiscordRoleID *string          `json:"linkedDiscordRoleId"`
	Permissions         []RolePermission `json:"permissions"`
}

// RolePermission is one permission granted by a role.
type RolePermission struct {
	ID           uuid.UUID  `json:"id"`
	CreatedAt    Time       `json:"createdAt"`
	UpdatedAt    Time       `json:"updatedAt"`
	RoleID       uuid.UUID  `json:"roleId"`
	PermissionID uuid.UUID  `json:"permissionId"`
	Count        int        `json:"count"`
	Permission   Permission `json:"permission"`
}

// PermissionInput grants one permission to a role.
type PermissionInput struct {
	PermissionID uuid.UUID `json:"permissionId"`
	Count        *int      `json:"count,omitempty"`
}

// RoleCreate is the input for creating a role.
type RoleCreate struct {
	Name                string            `json:"name"`
	Permissions         []PermissionInput `json:"permissions"`
	LinkedDiscordRoleID *string           `json:"linkedDiscordRoleId,omitempty"`
}

// Validate checks the input against the reference's rules.
func (c RoleCreate) Validate() error {
	if err := validateLength("name", c.Name, 3, 20); err != nil {
		return err
	}
	if err := validatePermissionInputs(c.Permissions); err != nil {
		return err
	}
	return validateDiscordRoleID(c.LinkedDiscordRoleID)
}

// RoleUpdate changes a role. A nil Permissions leaves them as they are; a
// non-nil one replaces the whole set.
type RoleUpdate struct {
	Name                *string            `json:"name,omitempty"`
	Permissions         *[]PermissionInput `json:"permissions,omitempty"`
	LinkedDiscordRoleID *string            `json:"linkedDiscordRoleId,omitempty"`
}

// Validate checks the input against the reference's rules.
func (u RoleUpdate) Validate() error {
	if u.Name != nil {
		if err := validateLength("name", *u.Name, 3, 20); err != nil {
			return err
		}
	}
	if u.Permissions != nil {
		if err := validatePermissionInputs(*u.Permissions); err != nil {
			return err
		}
	}
	return validateDiscordRoleID(u.LinkedDiscordRoleID)
}

func validatePermissionInputs(in []PermissionInput) error {
	seen := make(map[uuid.UUID]bool, len(in))
	for _, p := range in {
		if seen[p.PermissionID] {
			return Invalid("permissions", "lists permission %s twice", p.PermissionID)
		}
		seen[p.PermissionID] = true
		if p.Count != nil && *p.Count < 0 {
			return Invalid("permissions", "count must not be negative")
		}
	}
	return nil
}

func validateDiscordRoleID(id *string) error {
	if id == nil {
		return nil
	}
	return validateLength("linkedDiscordRoleId", *id, 17, 20)
}

// RoleAssignment gives a role to a user or a player, optionally only on one
// game server (players) and optionally until an expiry time. The implicit
// assignment of the system role User (to every user) or Player (to every
// player) has no id and no times.
type RoleAssignment struct {
	ID           uuid.UUID  `json:"id,omitzero"`
	CreatedAt    Time       `json:"createdAt,omitzero"`
	UpdatedAt    Time       `json:"updatedAt,omitzero"`
	UserID       *uuid.UUID `json:"userId,omitempty"`
	PlayerID     *uuid.UUID `json:"playerId,omitempty"`
	RoleID       uuid.UUID  `json:"roleId"`
	GameServerID *uuid.UUID `json:"gameServerId,omitempty"`
	ExpiresAt    *Time      `json:"expiresAt"`
	Role         Role       `json:"role"`
}

// MarshalJSON writes an implicit assignment the way the reference lists
// it: the holder, the role's id and the role, nothing else.
func (a RoleAssignment) MarshalJSON() ([]byte, error) {
	type assignment RoleAssignment
	if a.ID != uuid.Nil {
		return json.Marshal(assignment(a))
	}
	return json.Marshal(struct {
		UserID   *uuid.UUID `json:"userId,omitempty"`
		PlayerID *uuid.UUID `json:"playerId,omitempty"`
		RoleID   uuid.UUID  `json:"roleId"`
		Role     Role       `json:"role"`
	}{a.UserID, a.PlayerID, a.RoleID, a.Role})
}

// RoleService manages the roles of the domain in the context's Principal.
type RoleService interface {
	// CreateRole creates a role with its permissions and records a
	// role-created event. Errors: CodeValidation, CodeConflict for a taken
	// name.
	CreateRole(ctx context.Context, in RoleCreate) (*Role, error)
	// FindRoleByID returns a role with its permissions. Errors: CodeNotFound.
	FindRoleByID(ctx context.Context, id uuid.UUID) (*Role, error)
	// FindRoles searches roles. Errors: CodeValidation.
	FindRoles(ctx context.Context, q Query) (*Page[Role], error)
	// UpdateRole changes a role. Errors: CodeValidation, CodeNotFound,
	// CodeBadRequest for the root role or renaming a system role,
	// CodeConflict.
	UpdateRole(ctx context.Context, id uuid.UUID, upd RoleUpdate) (*Role, error)
	// DeleteRole deletes a role. Errors: CodeNotFound, CodeBadRequest for a
	// system role.
	DeleteRole(ctx context.Context, id uuid.UUID) error
	// ListPermissions returns the permission catalogue.
	ListPermissions(ctx context.Context) ([]Permission, error)
}
