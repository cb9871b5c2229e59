package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

type (
	loginRequest struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	meResponse struct {
		User    takaro.User     `json:"user"`
		Domains []takaro.Domain `json:"domains"`
		Domain  string          `json:"domain"`
	}
)

// sessionRoutes declares logging in and out, and who the caller is.
func (s *Server) sessionRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		bodyHandler(http.MethodPost, "/login", "Log in with an e-mail address and password; X-Takaro-Domain picks the domain", "Auth",
			func(r *request, in *loginRequest) (*takaro.Session, error) {
				return c.Auth.Login(r.Context(), in.Username, in.Password, r.Header.Get(domainHintHeader))
			}).as(public),
		handler(http.MethodPost, "/logout", "Revoke the current session", "Auth", func(r *request) (*empty, error) {
			cred := r.identity.Credential
			if cred == nil || cred.Kind != takaro.CredentialSession {
				return nil, takaro.Errorf(takaro.CodeBadRequest, "Only a session can log out; revoke API keys with DELETE /apikey/{id}")
			}
			return none(c.Auth.Logout(r.Context(), cred.ID))
		}).inAnyDomainState(),
		handler(http.MethodGet, "/me", "The current user, their domains and the current domain (with its server-registration token for MANAGE_GAMESERVERS)", "Auth", func(r *request) (*meResponse, error) {
			u, err := c.Users.FindUserByID(r.Context(), r.identity.UserID)
			if err != nil {
				return nil, err
			}
			out := &meResponse{User: *u, Domain: r.identity.Domain, Domains: []takaro.Domain{}}
			for _, id := range r.identity.Domains {
				d, err := c.Domains.FindDomainByID(r.Context(), id)
				if err == nil && id == r.identity.Domain && hasPermission(r.identity, takaro.PermManageGameservers) {
					d, err = s.withRegistrationToken(r)(d, nil)
				}
				if err != nil {
					return nil, err
				}
				out.Domains = append(out.Domains, *d)
			}
			return out, nil
		}).inAnyDomainState(),
	}
}
