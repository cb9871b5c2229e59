package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// Authentication happens here, and nowhere else: authenticate turns the
// request's credential into an identity, and serve (server.go) then binds
// the request's context to that identity's domain with takaro.NewContext.
// A domain never comes from a path, a body or a header other than the
// credential itself.
//
// Credentials, in order:
//   - Authorization: Bearer <session token or API key> (takaro_s_…,
//     takaro_k_…), resolved by the AuthService;
//   - X-Takaro-Token: <JWT>, signed by this server for a domain's root user
//     (POST /token, admin only).
//
// The admin API uses X-Takaro-Admin-Token instead, compared in constant time.

// Header names.
const (
	adminTokenHeader  = "X-Takaro-Admin-Token"
	domainTokenHeader = "X-Takaro-Token"
	domainHintHeader  = "X-Takaro-Domain"
)

var errNotAuthorized = takaro.Errorf(takaro.CodeUnauthorized, "Not authorized")

// checkAdmin accepts the request when it carries the admin secret.
func (s *Server) checkAdmin(r *http.Request) error {
	if len(s.cfg.AdminSecret) == 0 {
		return takaro.Errorf(takaro.CodeUnauthorized, "The admin API is disabled (ADMIN_CLIENT_SECRET is not set)")
	}
	got := r.Header.Get(adminTokenHeader)
	// Hashing first makes the comparison constant-time in the length too.
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(s.cfg.AdminSecret))
	if got == "" || subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return errNotAuthorized
	}
	return nil
}

// clientAddress is the address failed authentication attempts are
// throttled by: the peer's IP address. X-Forwarded-For is not trusted, as
// any client can send it; behind a proxy, all its clients share the
// proxy's address.
func clientAddress(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// authenticate resolves the request's credential. Any failure is the same
// 401, whatever the reason.
func (s *Server) authenticate(r *http.Request) (*takaro.Identity, error) {
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return s.cfg.Auth.Authenticate(r.Context(), strings.TrimSpace(bearer))
	}
	if text := r.Header.Get(domainTokenHeader); text != "" {
		claims, err := s.parseDomainToken(text)
		if err != nil {
			return nil, errNotAuthorized
		}
		userID, err := uuid.Parse(claims.Subject)
		if err != nil {
			return nil, errNotAuthorized
		}
		return s.cfg.Auth.AuthenticateUser(r.Context(), claims.DomainID, userID)
	}
	return nil, errNotAuthorized
}

// authorize checks the identity's domain state and the endpoint's
// permissions.
func authorize(e endpoint, id *takaro.Identity) error {
	if !e.anyDomainState {
		switch id.DomainState {
		case takaro.DomainDisabled:
			return takaro.Errorf(takaro.CodeBadRequest, "Domain is disabled. Please contact support.")
		case takaro.DomainMaintenance:
			return takaro.Errorf(takaro.CodeBadRequest, "Domain is in maintenance mode. Please try again later.")
		}
	}
	for _, p := range e.permissions {
		if !hasPermission(id, p) {
			return takaro.Errorf(takaro.CodeForbidden, "Forbidden")
		}
	}
	// As in the reference, managing anything is for dashboard users (or
	// holders of ROOT): a billing gate, answered with 400.
	for _, p := range e.permissions {
		if strings.HasPrefix(p, "MANAGE_") && !id.IsDashboardUser && !slices.Contains(id.Permissions, takaro.PermRoot) {
			return takaro.Errorf(takaro.CodeBadRequest, "You must be a dashboard user to perform this action")
		}
	}
	return nil
}

// hasPermission reports whether the identity holds code; ROOT holds all.
func hasPermission(id *takaro.Identity, code string) bool {
	return slices.Contains(id.Permissions, takaro.PermRoot) || slices.Contains(id.Permissions, code)
}

// domainClaims are the claims of an admin-issued domain token.
type domainClaims struct {
	DomainID string `json:"domainId"`
	jwt.RegisteredClaims
}

const tokenIssuer = "takaro"

// signDomainToken issues a token that acts as userID in domain. Without a
// secret there are none: a token signed with an empty key would be
// refused by parseDomainToken anyway, and anyone could forge one.
func (s *Server) signDomainToken(domain string, userID uuid.UUID, now time.Time) (string, error) {
	if len(s.cfg.JWTSecret) == 0 {
		return "", takaro.Errorf(takaro.CodeBadRequest, "Domain tokens are disabled (JWT_SECRET is not set)")
	}
	claims := domainClaims{
		DomainID: domain,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tokenIssuer,
			Audience:  jwt.ClaimStrings{tokenIssuer},
			Subject:   userID.String(),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.cfg.DomainTokenTTL)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.cfg.JWTSecret)
}

// parseDomainToken verifies a domain token's signature, algorithm, issuer,
// audience and expiry, and refuses one issued in the future: this server
// never signs such a token, so it was forged with a leaked secret or
// signed by a host whose clock runs ahead.
func (s *Server) parseDomainToken(text string) (*domainClaims, error) {
	if len(s.cfg.JWTSecret) == 0 {
		return nil, errNotAuthorized
	}
	var claims domainClaims
	_, err := jwt.ParseWithClaims(text, &claims, func(*jwt.Token) (any, error) { return s.cfg.JWTSecret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithIssuer(tokenIssuer),
		jwt.WithAudience(tokenIssuer), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil || !takaro.ValidDomainID(claims.DomainID) {
		return nil, errNotAuthorized
	}
	return &claims, nil
}
