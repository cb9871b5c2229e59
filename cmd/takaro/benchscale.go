package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"iter"
	mathrand "math/rand/v2"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	core "github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
)

// takaro bench -scale measures whether a search costs a tenant with
// millions of events what it costs one with thousands. It seeds (with
// COPY) -events events spread over -domains domains plus one domain with
// -big-events, then measures through the API, for the small and the big
// tenant: the first page, page 50 by cursor and by offset, and a filtered
// search (p50, p99, and big ÷ small). Then it runs a maintenance pass
// (postgres.Maintain) that deletes the events older than each domain's
// retention (-expired of them) while API load runs, and reports the rows
// deleted per second and the API's p99 during the pass ÷ without it.

// scaleOptions are the flags of takaro bench -scale.
type scaleOptions struct {
	on          bool
	events      int     // in the small domains together
	domains     int     // small domains
	bigEvents   int     // in the big domain
	expired     float64 // share of every domain's events past its retention
	perScenario time.Duration
	load        time.Duration // API load without maintenance, for the baseline p99
	concurrency int
}

const scaleRetentionDays = 30

func (o *scaleOptions) flags(fs *flag.FlagSet) {
	*o = scaleOptions{events: 10_000_000, domains: 1000, bigEvents: 2_000_000, expired: 0.05,
		perScenario: 4 * time.Second, load: 10 * time.Second, concurrency: 2}
	fs.BoolVar(&o.on, "scale", false, "measure searches on a small and a big tenant and retention under load, on seeded events (the flags below)")
	fs.IntVar(&o.events, "events", o.events, "with -scale: events spread over the small domains")
	fs.IntVar(&o.domains, "domains", o.domains, "with -scale: small domains")
	fs.IntVar(&o.bigEvents, "big-events", o.bigEvents, "with -scale: events of the big domain")
	fs.Float64Var(&o.expired, "expired", o.expired, "with -scale: share of the events older than their domain's retention, deleted by the maintenance pass")
	fs.DurationVar(&o.perScenario, "scenario-time", o.perScenario, "with -scale: measuring time of each search scenario for each tenant, split over the -rounds")
	fs.DurationVar(&o.load, "load-time", o.load, "with -scale: API load measured without maintenance, as the baseline of the load during it")
}

func (o *scaleOptions) check() error {
	if !o.on {
		return nil
	}
	switch {
	case o.domains < 1 || o.events < o.domains || o.bigEvents < 1:
		return fmt.Errorf("%w: -scale needs at least one small domain, one event per small domain and a big domain with events", errUsage)
	case o.expired < 0 || o.expired >= 1:
		return fmt.Errorf("%w: -expired must be at least 0 and below 1", errUsage)
	case o.perScenario < 100*time.Millisecond || o.load < 100*time.Millisecond:
		return fmt.Errorf("%w: -scenario-time and -load-time must be at least 100ms", errUsage)
	}
	return nil
}

// scaleTenant is one seeded domain the benchmark searches as its root user.
type scaleTenant struct {
	name            string
	domain          string
	events          int
	email, password string // the root user's
	token           string
}

// scaleBench is one run of takaro bench -scale.
type scaleBench struct {
	a      *app
	o      benchOptions
	seedDB *postgres.DB
	url    string
	client *http.Client

	mu      sync.Mutex
	domains []string // every seeded domain, deleted at the end
	players []uuid.UUID
}

func runScaleBench(ctx context.Context, a *app, db *postgres.DB, o benchOptions) error {
	keys, err := a.cfg.keyring()
	if err != nil {
		return err
	}
	// The seed's units of work copy 50,000 rows each and its domains need
	// no strong root passwords.
	seedDB, err := postgres.Open(ctx, db.Pool().Config(), postgres.Options{Keys: keys, BcryptCost: 4,
		StatementTimeout: time.Hour, AllowInsecureTransport: a.cfg.AllowInsecureTransport})
	if err != nil {
		return err
	}
	defer seedDB.Close()
	s := &scaleBench{a: a, o: o, seedDB: seedDB}
	for range 50 {
		s.players = append(s.players, uuid.New())
	}
	defer s.deleteDomains(context.WithoutCancel(ctx))
	small, big, err := s.seed(ctx)
	if err != nil {
		return err
	}
	url, stop, err := a.serveBenchAPI(ctx, db)
	if err != nil {
		return err
	}
	defer stop()
	s.url = url
	s.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * o.scale.concurrency, DisableCompression: true}}
	for _, tn := range []*scaleTenant{small, big} {
		if tn.token, err = s.login(ctx, tn); err != nil {
			return err
		}
	}
	var version string
	if err := db.Pool().QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		return err
	}
	out := a.stdout
	sc := o.scale
	fmt.Fprintf(out, "takaro bench -scale: %d events in %d domains (%d each) and a big domain with %d; PostgreSQL %s; Go %s, %d CPUs\n\n",
		sc.events, sc.domains, sc.events/sc.domains, sc.bigEvents, version, runtime.Version(), runtime.NumCPU())
	if err := s.searches(ctx, small, big); err != nil {
		return err
	}
	return s.retention(ctx, db, small, big)
}

// seed creates the domains and copies their events in. It returns the
// first small domain and the big one.
func (s *scaleBench) seed(ctx context.Context) (small, big *scaleTenant, err error) {
	sc := s.o.scale
	s.a.log.Info("seeding", "small_domains", sc.domains, "events", sc.events, "big_domain_events", sc.bigEvents)
	started := time.Now()
	stamp := time.Now().UTC().Format("20060102T150405")
	tenants := make([]*scaleTenant, sc.domains+1)
	for i := range sc.domains {
		n := sc.events / sc.domains
		if i < sc.events%sc.domains {
			n++
		}
		tenants[i] = &scaleTenant{name: fmt.Sprintf("takaro bench scale %s small %d", stamp, i), events: n}
	}
	tenants[sc.domains] = &scaleTenant{name: "takaro bench scale " + stamp + " big", events: sc.bigEvents}
	var copied atomic.Int64
	work := make(chan *scaleTenant)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for tn := range work {
				if err := s.seedTenant(ctx, tn, &copied); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	progress := time.NewTicker(10 * time.Second)
	defer progress.Stop()
feed:
	for _, tn := range tenants {
		for {
			select {
			case work <- tn:
				continue feed
			case err = <-errs:
				break feed
			case <-progress.C:
				s.a.log.Info("seeding", "events_copied", copied.Load(), "elapsed_ms", time.Since(started).Milliseconds())
			}
		}
	}
	close(work)
	wg.Wait()
	if err == nil && len(errs) > 0 {
		err = <-errs
	}
	if err != nil {
		return nil, nil, err
	}
	s.a.log.Info("seeded; vacuuming and analyzing events", "events_copied", copied.Load(), "elapsed_ms", time.Since(started).Milliseconds())
	if err := s.seedDB.VacuumAnalyzeEvents(ctx); err != nil {
		return nil, nil, err
	}
	return tenants[0], tenants[sc.domains], nil
}

// seedTenant creates the tenant's domain (with retention) and copies its
// events: spread evenly over a span whose oldest -expired share lies
// beyond the retention, a third of them chat messages.
func (s *scaleBench) seedTenant(ctx context.Context, tn *scaleTenant, copied *atomic.Int64) error {
	created, err := s.seedDB.CreateDomain(ctx, core.DomainCreate{Name: tn.name,
		DomainLimits: core.DomainLimits{EventRetentionDays: new(scaleRetentionDays)}})
	if err != nil {
		return err
	}
	tn.domain = created.CreatedDomain.ID
	s.mu.Lock()
	s.domains = append(s.domains, tn.domain)
	s.mu.Unlock()
	tn.email, tn.password = created.RootUser.Email, created.Password
	ctx = core.NewContext(ctx, core.Principal{Domain: tn.domain, UserID: created.RootUser.ID})
	now := time.Now()
	span := time.Duration(float64(scaleRetentionDays*24*time.Hour) / (1 - s.o.scale.expired))
	// Game events, which the core does not write itself: a third are
	// chat messages.
	names := []core.EventName{"chat-message", "player-connected", "player-disconnected",
		"chat-message", "player-death", "chat-message"}
	rng := mathrand.New(mathrand.NewPCG(uint64(len(tn.domain)), uint64(tn.events)))
	events := func(yield func(core.Event) bool) {
		for i := range tn.events {
			player := s.players[rng.IntN(len(s.players))]
			at := now.Add(-time.Duration(rng.Int64N(int64(span)))).Truncate(time.Microsecond)
			if !yield(core.Event{ID: uuid.New(), EventName: names[i%len(names)], PlayerID: &player, CreatedAt: core.Time{Time: at}}) {
				return
			}
			if i%10_000 == 9_999 {
				copied.Add(10_000)
			}
		}
	}
	_, err = s.seedDB.ImportEvents(ctx, iter.Seq[core.Event](events))
	return err
}

// login opens a session as the tenant's root user.
func (s *scaleBench) login(ctx context.Context, tn *scaleTenant) (string, error) {
	body, err := json.Marshal(map[string]string{"username": tn.email, "password": tn.password})
	if err != nil {
		return "", err
	}
	res, err := callAPI(ctx, s.client, "", http.MethodPost, s.url+"/login", string(body))
	if err != nil {
		return "", err
	}
	var login struct {
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	if err := json.Unmarshal(res, &login); err != nil || login.Data.Token == "" {
		return "", fmt.Errorf("login: no token in %s", res)
	}
	return login.Data.Token, nil
}

// searchScenario is one kind of event search, with a body per tenant.
type searchScenario struct {
	name string
	body func(tn *scaleTenant) string
}

const newestFirst = `"sortBy": "createdAt", "sortDirection": "desc", "limit": 100`

// searches measures each scenario on both tenants, alternating which goes
// first, and prints p50/p99 and big ÷ small.
func (s *scaleBench) searches(ctx context.Context, small, big *scaleTenant) error {
	cursors := map[*scaleTenant]string{}
	for _, tn := range []*scaleTenant{small, big} {
		c, err := s.cursorOfPage(ctx, tn, 49)
		if err != nil {
			return err
		}
		cursors[tn] = c
	}
	scenarios := []searchScenario{
		{"first page, newest first", func(*scaleTenant) string { return "{" + newestFirst + "}" }},
		{"page 50 by cursor", func(tn *scaleTenant) string {
			return "{" + newestFirst + `, "cursor": "` + cursors[tn] + `"}`
		}},
		{"page 50 by offset", func(*scaleTenant) string { return "{" + newestFirst + `, "page": 49}` }},
		{"filtered: chat messages", func(*scaleTenant) string {
			return `{"filters": {"eventName": ["chat-message"]}, ` + newestFirst + "}"
		}},
		{"filtered: one player's", func(*scaleTenant) string {
			return `{"filters": {"playerId": ["` + s.players[0].String() + `"]}, ` + newestFirst + "}"
		}},
	}
	rounds := s.o.rounds
	run := s.o.scale.perScenario / time.Duration(rounds)
	fmt.Fprintf(s.a.stdout, "Event searches, %d client(s), %d rounds of %s per scenario and tenant; medians over the rounds\n\n",
		s.o.scale.concurrency, rounds, run)
	fmt.Fprintln(s.a.stdout, "| scenario | small p50 | small p99 | big p50 | big p99 | big ÷ small (p50) | big ÷ small (p99) |")
	fmt.Fprintln(s.a.stdout, "|---|---:|---:|---:|---:|---:|---:|")
	for _, sc := range scenarios {
		// Every request must answer a full page.
		for _, tn := range []*scaleTenant{small, big} {
			if err := s.wantFullPage(ctx, tn, sc.body(tn)); err != nil {
				return fmt.Errorf("%s: %w", sc.name, err)
			}
		}
		results := map[*scaleTenant][]sample{}
		for round := range rounds {
			order := []*scaleTenant{small, big}
			if round%2 == 1 {
				order[0], order[1] = big, small
			}
			for _, tn := range order {
				body := sc.body(tn)
				r, err := drive(ctx, s.o.scale.concurrency, run, func(ctx context.Context) error {
					_, err := callAPI(ctx, s.client, tn.token, http.MethodPost, s.url+"/event/search", body)
					return err
				})
				if err != nil {
					return fmt.Errorf("%s: %w", sc.name, err)
				}
				results[tn] = append(results[tn], r)
			}
		}
		sp50, sp99 := median(results[small], sample.median), median(results[small], sample.tail)
		bp50, bp99 := median(results[big], sample.median), median(results[big], sample.tail)
		fmt.Fprintf(s.a.stdout, "| %s | %s | %s | %s | %s | %.2f | %.2f |\n", sc.name, ms(sp50), ms(sp99), ms(bp50), ms(bp99), bp50/sp50, bp99/sp99)
	}
	fmt.Fprintln(s.a.stdout)
	return nil
}

// cursorOfPage follows the cursor from the first page to page n
// (zero-based) and returns the cursor that reads it.
func (s *scaleBench) cursorOfPage(ctx context.Context, tn *scaleTenant, n int) (string, error) {
	cursor := ""
	for page := range n {
		body := "{" + newestFirst
		if cursor != "" {
			body += `, "cursor": "` + cursor + `"`
		}
		res, err := callAPI(ctx, s.client, tn.token, http.MethodPost, s.url+"/event/search", body+"}")
		if err != nil {
			return "", err
		}
		var env struct {
			Meta struct {
				NextCursor string `json:"nextCursor"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(res, &env); err != nil || env.Meta.NextCursor == "" {
			return "", fmt.Errorf("page %d of the events of %s has no next cursor; does the domain hold %d events?", page, tn.domain, (n+1)*100)
		}
		cursor = env.Meta.NextCursor
	}
	return cursor, nil
}

// wantFullPage checks that the search answers 100 events.
func (s *scaleBench) wantFullPage(ctx context.Context, tn *scaleTenant, body string) error {
	res, err := callAPI(ctx, s.client, tn.token, http.MethodPost, s.url+"/event/search", body)
	if err != nil {
		return err
	}
	var env struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(res, &env); err != nil {
		return err
	}
	if len(env.Data) != 100 {
		return fmt.Errorf("%s answered %d events, want 100", body, len(env.Data))
	}
	return nil
}

// retention measures API load (the first page of both tenants, in turn)
// without maintenance, then during a maintenance pass that deletes the
// expired events, and reports the pass's rows per second and the load's
// p99 during ÷ without.
func (s *scaleBench) retention(ctx context.Context, db *postgres.DB, small, big *scaleTenant) error {
	var turn atomic.Int64
	load := func(ctx context.Context) error {
		tn := small
		if turn.Add(1)%2 == 0 {
			tn = big
		}
		_, err := callAPI(ctx, s.client, tn.token, http.MethodPost, s.url+"/event/search", "{"+newestFirst+"}")
		return err
	}
	s.a.log.Info("measuring API load without maintenance", "duration", s.o.scale.load)
	without, err := drive(ctx, s.o.scale.concurrency, s.o.scale.load, load)
	if err != nil {
		return err
	}
	s.a.log.Info("running a maintenance pass under the same load")
	var done atomic.Bool
	var removals []postgres.Removal
	var maintainErr error
	started := time.Now()
	var elapsed time.Duration
	go func() {
		removals, maintainErr = db.Maintain(ctx, postgres.MaintainOptions{})
		elapsed = time.Since(started)
		done.Store(true)
	}()
	during, err := driveWhile(ctx, s.o.scale.concurrency, func() bool { return !done.Load() }, load)
	for !done.Load() { // the load failed: let the pass finish
		time.Sleep(10 * time.Millisecond)
	}
	if err := errors.Join(err, maintainErr); err != nil {
		return err
	}
	var events int64
	for _, r := range removals {
		if r.Table == "events" {
			events += r.Rows
		}
	}
	sc := s.o.scale
	want := int64(float64(sc.events+sc.bigEvents) * sc.expired)
	fmt.Fprintf(s.a.stdout, "Retention: one maintenance pass (batches of %d, %s pauses) under API load (%d clients, first pages of both tenants)\n\n",
		postgres.DefaultMaintainBatchSize, postgres.DefaultMaintainPause, sc.concurrency)
	fmt.Fprintln(s.a.stdout, "| events deleted | about expected | seconds | rows/s | API p50 without | API p99 without | API p99 during | p99 during ÷ without |")
	fmt.Fprintln(s.a.stdout, "|---:|---:|---:|---:|---:|---:|---:|---:|")
	fmt.Fprintf(s.a.stdout, "| %d | %d | %.1f | %.0f | %s | %s | %s | %.2f |\n\n", events, want, elapsed.Seconds(),
		float64(events)/elapsed.Seconds(), ms(float64(without.p50)), ms(float64(without.p99)), ms(float64(during.p99)),
		float64(during.p99)/float64(without.p99))
	return nil
}

// deleteDomains removes every seeded domain with its rows.
func (s *scaleBench) deleteDomains(ctx context.Context) {
	s.a.log.Info("deleting the benchmark's domains", "domains", len(s.domains))
	for _, d := range s.domains {
		if err := s.seedDB.DeleteDomain(ctx, d, true); err != nil {
			s.a.log.Error("could not delete a benchmark domain; delete it with DELETE /domain/{id}?hardDelete=true",
				"domain", d, "error", err.Error())
		}
	}
}
