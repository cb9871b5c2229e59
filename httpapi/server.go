package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gotakaro/takaro"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config is what the server needs: the services it exposes and its
// settings. httpapi never reads the environment.
type Config struct {
	Domains     takaro.DomainService
	Users       takaro.UserService
	Roles       takaro.RoleService
	GameServers takaro.GameServerService
	Players     takaro.PlayerService
	Variables   takaro.VariableService
	Events      takaro.EventService
	Settings    takaro.SettingsService
	Modules     takaro.ModuleService
	Commands    takaro.CommandService
	Hooks       takaro.HookService
	CronJobs    takaro.CronJobService
	Functions   takaro.FunctionService
	Tracking    takaro.TrackingService
	Auth        takaro.AuthService
	Currency    takaro.CurrencyService
	Bans        takaro.BanService
	Items       takaro.ItemService
	Shop        takaro.ShopService
	Entities    takaro.EntityService

	// SearchFields describes what each resource's search accepts, for the
	// OpenAPI document; nil leaves the lists out.
	SearchFields func(resource string) (takaro.SearchFields, bool)

	// Ready reports whether the database answers, for /readyz.
	Ready func(context.Context) error
	// PoolStats, when set, exports the database pool's state as metrics.
	PoolStats func() PoolStats
	// IdentityCacheStats, when set, exports the identity cache's counters
	// and its listener's state as metrics.
	IdentityCacheStats func() IdentityCacheStats

	// AdminSecret enables the admin API; empty turns it off.
	AdminSecret string
	// JWTSecret signs the domain tokens of POST /token; empty turns the
	// X-Takaro-Token header off.
	JWTSecret []byte
	// DomainTokenTTL is how long a domain token lasts (default one hour).
	DomainTokenTTL time.Duration

	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// PoolStats is a snapshot of the database connection pool.
type PoolStats struct {
	Acquired, Idle, Total, Max int32
	// Waits counts acquisitions that had to wait for a connection, and
	// WaitDuration their total waiting time.
	Waits        int64
	WaitDuration time.Duration
}

// IdentityCacheStats is a snapshot of the cache of authenticated
// identities.
type IdentityCacheStats struct {
	Hits, Misses, Invalidations uint64
	Entries                     int
	// Listening reports whether the cache is in use: its listener for
	// changes is up. While it is not, every request reads its identity
	// from the database.
	Listening bool
}

// Server is the REST API.
type Server struct {
	cfg       Config
	log       *slog.Logger
	endpoints []endpoint
	handler   http.Handler
	metrics   *metrics
	registry  *prometheus.Registry
	openAPI   []byte
}

// New builds the server and its routes.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DomainTokenTTL == 0 {
		cfg.DomainTokenTTL = time.Hour
	}
	s := &Server{cfg: cfg, log: cfg.Logger, registry: prometheus.NewRegistry()}
	s.metrics = newMetrics(s.registry)
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if cfg.PoolStats != nil {
		s.registry.MustRegister(poolCollector(cfg.PoolStats))
	}
	if cfg.IdentityCacheStats != nil {
		s.registry.MustRegister(identityCacheMetrics(cfg.IdentityCacheStats)...)
	}
	s.endpoints = s.routes()
	doc, err := json.Marshal(openAPIDocument(s.endpoints, cfg.SearchFields))
	if err != nil {
		return nil, err
	}
	s.openAPI = doc

	mux := http.NewServeMux()
	for _, e := range s.endpoints {
		mux.Handle(e.method+" "+e.path, s.serve(e))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"healthy": true})
	})
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.openAPI)
	})
	mux.HandleFunc("GET /api.html", serveAPIDocs)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/api.html", http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, takaro.Errorf(takaro.CodeNotFound, "Route %s %s not found", r.Method, r.URL.Path))
	})
	s.handler = s.observe(trimTrailingSlash(mux))
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Route describes one API route, for tests and tools.
type Route struct {
	Method, Path string
	// Public routes need no credential; Admin routes need the admin token;
	// the others need a user of a domain.
	Public, Admin bool
	Permissions   []string
	HasBody       bool
	// NotImplemented routes act on a live game server, which the data
	// core cannot: after their checks they answer 501.
	NotImplemented bool
}

// Routes lists every API route (not the health, metrics and documentation
// routes), in declaration order.
func (s *Server) Routes() []Route {
	out := make([]Route, len(s.endpoints))
	for i, e := range s.endpoints {
		out[i] = Route{Method: e.method, Path: e.path, Public: e.access == public, Admin: e.access == admin,
			Permissions: e.permissions, HasBody: e.body != nil, NotImplemented: e.notImplemented}
	}
	return out
}

// serve is the handler of one endpoint: authenticate, authorize, bind the
// context to the caller's domain, validate the input, run, respond.
func (s *Server) serve(e endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.access != admin {
			// Failed logins and token verifications are throttled by it.
			r = r.WithContext(takaro.WithClientAddress(r.Context(), clientAddress(r)))
		}
		req := &request{Request: r}
		switch e.access {
		case admin:
			if err := s.checkAdmin(r); err != nil {
				writeError(w, r, s.log, err)
				return
			}
		case user:
			id, err := s.authenticate(r)
			if err == nil {
				err = authorize(e, id)
			}
			if err != nil {
				writeError(w, r, s.log, err)
				return
			}
			// The one place where a request's domain is fixed.
			p := id.Principal()
			noteCaller(r.Context(), p)
			req.Request = r.WithContext(takaro.NewContext(r.Context(), p))
			req.identity = id
		}
		if err := e.checkPathParams(r); err != nil {
			writeInputError(w, r, s.log, err, e.pathInput(r))
			return
		}
		var input any
		if e.body != nil {
			body, raw, err := decodeBody(r, e.body)
			input = raw
			if err != nil {
				writeInputError(w, r, s.log, err, input)
				return
			}
			req.body = body
		}
		data, err := e.handle(req)
		if err != nil {
			writeInputError(w, r, s.log, err, input)
			return
		}
		writeData(w, http.StatusOK, data)
	})
}

// ready answers 200 only when the database answers.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.cfg.Ready == nil {
		writeJSON(w, http.StatusOK, map[string]bool{"healthy": true})
		return
	}
	if err := s.cfg.Ready(ctx); err != nil {
		if !errors.Is(err, context.Canceled) {
			s.log.WarnContext(ctx, "readiness check failed", "error", err.Error())
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]bool{"healthy": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"healthy": true})
}

// identityCacheMetrics exports IdentityCacheStats.
func identityCacheMetrics(stats func() IdentityCacheStats) []prometheus.Collector {
	counter := func(name, help string, v func(IdentityCacheStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v(stats())) })
	}
	gauge := func(name, help string, v func(IdentityCacheStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return v(stats()) })
	}
	return []prometheus.Collector{
		counter("identity_cache_hits_total", "Requests whose identity came from memory.",
			func(s IdentityCacheStats) uint64 { return s.Hits }),
		counter("identity_cache_misses_total", "Requests whose identity was read from the database.",
			func(s IdentityCacheStats) uint64 { return s.Misses }),
		counter("identity_cache_invalidations_total", "Change notifications handled.",
			func(s IdentityCacheStats) uint64 { return s.Invalidations }),
		gauge("identity_cache_entries", "Identities held.", func(s IdentityCacheStats) float64 { return float64(s.Entries) }),
		gauge("identity_cache_listening", "1 while the listener for changes is up and the cache in use, 0 while it is bypassed.",
			func(s IdentityCacheStats) float64 {
				if s.Listening {
					return 1
				}
				return 0
			}),
	}
}

// poolCollector exports PoolStats as gauges and counters.
func poolCollector(stats func() PoolStats) prometheus.Collector {
	return &poolStatsCollector{stats: stats,
		acquired: prometheus.NewDesc("db_pool_acquired_connections", "Connections in use.", nil, nil),
		idle:     prometheus.NewDesc("db_pool_idle_connections", "Idle connections.", nil, nil),
		total:    prometheus.NewDesc("db_pool_total_connections", "Open connections.", nil, nil),
		max:      prometheus.NewDesc("db_pool_max_connections", "The pool's connection limit.", nil, nil),
		waits:    prometheus.NewDesc("db_pool_waits_total", "Acquisitions that waited for a connection.", nil, nil),
		waitSecs: prometheus.NewDesc("db_pool_wait_seconds_total", "Time spent waiting for a connection.", nil, nil),
	}
}

type poolStatsCollector struct {
	stats                                       func() PoolStats
	acquired, idle, total, max, waits, waitSecs *prometheus.Desc
}

func (c *poolStatsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.max, c.waits, c.waitSecs} {
		ch <- d
	}
}

func (c *poolStatsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(st.Acquired))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(st.Idle))
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(st.Total))
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(st.Max))
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(st.Waits))
	ch <- prometheus.MustNewConstMetric(c.waitSecs, prometheus.CounterValue, st.WaitDuration.Seconds())
}
