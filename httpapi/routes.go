package httpapi

// empty is the data of responses that have none: {}.
type empty struct{}

// none is the result of a handler whose response has no data.
func none(err error) (*empty, error) { return nil, err }

// routes declares every API route: one table, assembled from the parts
// that each resource's file declares. Paths, bodies and permission codes
// are the reference platform's; see README for where they differ.
func (s *Server) routes() []endpoint {
	var all []endpoint
	for _, part := range [][]endpoint{
		s.domainRoutes(),
		s.sessionRoutes(),
		s.apiKeyRoutes(),
		s.userRoutes(),
		s.roleRoutes(),
		s.gameServerRoutes(),
		s.liveGameServerRoutes(),
		s.playerRoutes(),
		s.currencyRoutes(),
		s.banRoutes(),
		s.itemRoutes(),
		s.entityRoutes(),
		s.shopRoutes(),
		s.variableRoutes(),
		s.eventRoutes(),
		s.settingRoutes(),
		s.moduleRoutes(),
		s.commandRoutes(),
		s.hookRoutes(),
		s.cronJobRoutes(),
		s.functionRoutes(),
		s.trackingRoutes(),
	} {
		all = append(all, part...)
	}
	return all
}
