package takaro

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Identity is what an authenticated credential acts as: a user of one
// domain, with the permission codes the request may use. It is read fresh
// from the database on every request, so a revoked credential, a removed
// role or a disabled domain takes effect at once.
type Identity struct {
	Domain      string
	DomainState DomainState
	UserID      uuid.UUID
	// IsDashboardUser reports whether the user may use the MANAGE_
	// permissions: a dashboard user, or one whose roles grant ROOT (so
	// also when the credential is an API key without ROOT).
	IsDashboardUser bool
	// Permissions is the union of the permission codes of the user's
	// current roles, the implicit User role, the linked player's roles and
	// the implicit Player role; for an API key, only those of them the key
	// was granted.
	Permissions []string
	// Credential names the session or API key used, for audit and logout;
	// nil for an admin-signed token.
	Credential *Credential
	// Domains lists the domains whose users accepted the same e-mail
	// address and password when the session was opened (just Domain for
	// other credentials).
	Domains []string
}

// Principal returns the principal that units of work of this identity are
// bound to.
func (id *Identity) Principal() Principal {
	return Principal{Domain: id.Domain, UserID: id.UserID}
}

// Session is a successful login: a bearer token for one domain. Domains
// lists every domain in which the same e-mail address and password were
// accepted; a client picks another with the X-Takaro-Domain header when it
// logs in again.
type Session struct {
	Token     string    `json:"token"`
	Domain    string    `json:"-"`
	UserID    uuid.UUID `json:"-"`
	ExpiresAt time.Time `json:"-"`
	Domains   []string  `json:"-"`
}

// APIKeyCreated is a new API key with its secret, shown only this once.
type APIKeyCreated struct {
	APIKey APIKey `json:"apiKey"`
	Secret string `json:"secret"`
}

// AuthService turns credentials into identities and manages sessions and
// API keys.
type AuthService interface {
	// Login checks an e-mail address and password in every domain (or only
	// in domainHint when it is set) and opens a session in one of them:
	// domainHint, else the first active domain in alphabetical order.
	// Errors: CodeUnauthorized (the same for an unknown address and a wrong
	// password), CodeBadRequest when no matching domain is active.
	Login(ctx context.Context, email, password, domainHint string) (*Session, error)
	// Authenticate resolves a session token or API key. Errors:
	// CodeUnauthorized for anything unknown, malformed, expired or revoked.
	Authenticate(ctx context.Context, token string) (*Identity, error)
	// AuthenticateUser resolves a user that an admin-signed token names.
	// Errors: CodeUnauthorized when the user does not exist in the domain.
	AuthenticateUser(ctx context.Context, domain string, userID uuid.UUID) (*Identity, error)
	// Logout revokes the session of the identity in ctx's principal.
	// Errors: CodeNotFound.
	Logout(ctx context.Context, sessionID uuid.UUID) error
	// RootUserID returns the id of a domain's root user, for admin-issued
	// tokens. Errors: CodeNotFound.
	RootUserID(ctx context.Context, domain string) (uuid.UUID, error)
	// CreateAPIKey creates an API key for the principal's user with at most
	// the permissions the creator holds (creator). Errors: CodeValidation,
	// CodeForbidden when a permission is not the creator's.
	CreateAPIKey(ctx context.Context, creator *Identity, in APIKeyCreate) (*APIKeyCreated, error)
	// ListAPIKeys lists the API keys of the domain; never their secrets.
	ListAPIKeys(ctx context.Context) ([]APIKey, error)
	// RevokeAPIKey revokes an API key; it stops working on every instance
	// at once. Errors: CodeNotFound.
	RevokeAPIKey(ctx context.Context, id uuid.UUID) error
}

// CredentialKind is the kind of a bearer credential.
type CredentialKind string

// Credential kinds.
const (
	CredentialSession CredentialKind = "session"
	CredentialAPIKey  CredentialKind = "apikey"
)

// Credential names the session or API key a request authenticated with.
type Credential struct {
	Kind CredentialKind
	ID   uuid.UUID
}
