package takaro

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
)

// MaxPasswordBytes is bcrypt's input limit. Longer secrets would be silently
// truncated by crypt(), so they are refused instead.
const MaxPasswordBytes = 72

// User is a person with access to one domain's dashboard or API. The same
// e-mail address may have a separate user (with its own password) in several
// domains; nothing links them.
type User struct {
	ID              uuid.UUID  `json:"id"`
	CreatedAt       Time       `json:"createdAt"`
	UpdatedAt       Time       `json:"updatedAt"`
	Name            string     `json:"name"`
	Email           string     `json:"email"`
	DiscordID       *string    `json:"discordId"`
	LastSeen        Time       `json:"lastSeen"`
	PlayerID        *uuid.UUID `json:"playerId"`
	IsDashboardUser bool       `json:"isDashboardUser"`
	// Roles are the user's current roles, followed by the implicit system
	// role User that every user holds.
	Roles []RoleAssignment `json:"roles"`

	// Player is the linked player, present only when a search asks for it
	// with extend "player" (and the user is linked).
	Player *Player `json:"player,omitzero"`
}

// UserCreate is the input for creating a user.
type UserCreate struct {
	Name            string `json:"name"`
	Email           string `json:"email"`
	Password        string `json:"password"`
	IsDashboardUser bool   `json:"isDashboardUser,omitempty"`
}

// Validate checks the input. The e-mail is normalised to lower case.
func (c *UserCreate) Validate() error {
	if err := validateLength("name", c.Name, 3, 50); err != nil {
		return err
	}
	email, err := NormalizeEmail(c.Email)
	if err != nil {
		return err
	}
	c.Email = email
	return ValidatePassword(c.Password)
}

// UserUpdate changes a user; nil fields are left as they are.
type UserUpdate struct {
	Name            *string `json:"name,omitempty"`
	IsDashboardUser *bool   `json:"isDashboardUser,omitempty"`
}

// Validate checks the input.
func (u UserUpdate) Validate() error {
	if u.Name != nil {
		return validateLength("name", *u.Name, 3, 50)
	}
	return nil
}

// NormalizeEmail checks that s is a plain e-mail address and returns it in
// lower case, the form in which it is stored and looked up.
func NormalizeEmail(s string) (string, error) {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" || len(s) > 254 {
		return "", Invalid("email", "must be an e-mail address")
	}
	return strings.ToLower(s), nil
}

// ValidatePassword enforces the length rules for passwords: at least 8
// characters and at most MaxPasswordBytes bytes.
func ValidatePassword(p string) error {
	if err := validateLength("password", p, 8, MaxPasswordBytes); err != nil {
		return err
	}
	if len(p) > MaxPasswordBytes {
		return Invalid("password", "must be at most %d bytes long", MaxPasswordBytes)
	}
	return nil
}

// UserService manages the users of the domain in the context's Principal.
type UserService interface {
	// CreateUser creates a user with a hashed password and records a
	// user-created event. Errors: CodeValidation; CodeBadRequest when a
	// dashboard user would exceed the domain's maxUsers; CodeConflict for a
	// taken e-mail address.
	CreateUser(ctx context.Context, in UserCreate) (*User, error)
	// InviteUser returns the user with the e-mail address, or creates a
	// dashboard user named after it with no password (who cannot log in
	// until one is set). Errors: CodeValidation; CodeBadRequest when
	// maxUsers would be exceeded.
	InviteUser(ctx context.Context, email string) (*User, error)
	// FindUserByID returns a user with their current role assignments.
	// Errors: CodeNotFound.
	FindUserByID(ctx context.Context, id uuid.UUID) (*User, error)
	// FindUsers searches users. Errors: CodeValidation.
	FindUsers(ctx context.Context, q Query) (*Page[User], error)
	// UpdateUser changes a user. Errors: CodeValidation, CodeNotFound,
	// CodeBadRequest when maxUsers would be exceeded.
	UpdateUser(ctx context.Context, id uuid.UUID, upd UserUpdate) (*User, error)
	// DeleteUser deletes a user. Errors: CodeNotFound.
	DeleteUser(ctx context.Context, id uuid.UUID) error
	// AssignUserRole gives a user a role, optionally until expiresAt, and
	// records a role-assigned event. Errors: CodeNotFound for an unknown
	// user or role, CodeBadRequest for the implicit User and Player roles,
	// CodeConflict when the user already has the role.
	AssignUserRole(ctx context.Context, userID, roleID uuid.UUID, expiresAt *time.Time) error
	// RemoveUserRole takes a role from a user and records a role-removed
	// event. Errors: CodeNotFound.
	RemoveUserRole(ctx context.Context, userID, roleID uuid.UUID) error
}
