package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	// The root package, under another name: the command's tests have a
	// helper called takaro.
	core "github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/httpapi"
	"github.com/gotakaro/takaro/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// takaro bench measures the API over loopback HTTP against the database
// work it does. It seeds a throwaway domain, serves the real API on a
// loopback port, and for each scenario records the exact statements one
// authenticated request sends (a pgx tracer on the API's pool, armed only
// for that request). The baseline replays those statements, as the same
// pipelined batches, through a plain pgx pool with the same concurrency:
// once with the authentication round trip (what the API asks of the
// database) and once with the data round trip only (the floor a request
// for the data could cost). The ratios say what HTTP, routing, JSON and
// authentication add on top.
//
// The machine is shared and noisy, so absolute numbers drift: every
// variant runs once per round, the rounds interleave all variants, and the
// figures are medians over rounds (the ratio, the median of each round's
// ratio).

// benchOptions are the flags of takaro bench.
type benchOptions struct {
	duration    time.Duration // per scenario and variant, split over the rounds
	warmup      time.Duration // per scenario and variant
	rounds      int
	concurrency []int
	gameServers int
	variables   int
	cpuProfile  string // file for a CPU profile of the whole run, or ""
}

func runBench(ctx context.Context, a *app, args []string) error {
	o, err := parseBenchFlags(a, args)
	if err != nil {
		return err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			_ = f.Close() // the profile never started; nothing was written
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				a.log.Error("could not write the CPU profile", "file", o.cpuProfile, "error", err.Error())
			}
		}()
	}
	db, err := a.openServing(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	b := &bench{opts: o, out: a.stdout, log: a.log}
	// The API gets a data core of its own on the same database, whose pool
	// carries the recorder; the baseline a plain pool with the same
	// settings (and so the same connection limit).
	apiPool := db.Pool().Config()
	apiPool.ConnConfig.Tracer = &b.recorder
	keys, err := a.cfg.keyring()
	if err != nil {
		return err
	}
	apiDB, err := postgres.Open(ctx, apiPool, postgres.Options{
		Keys: keys, BcryptCost: a.cfg.BcryptCost, AllowInsecureTransport: a.cfg.AllowInsecureTransport,
		StatementTimeout: a.cfg.StatementTimeout,
	})
	if err != nil {
		return err
	}
	defer apiDB.Close()
	if b.baseline, err = pgxpool.NewWithConfig(ctx, db.Pool().Config()); err != nil {
		return err
	}
	defer b.baseline.Close()

	domain, err := b.seed(ctx, db)
	if domain != "" {
		defer func() {
			if err := db.DeleteDomain(context.WithoutCancel(ctx), domain, true); err != nil {
				b.log.Error("could not delete the benchmark domain; delete it with DELETE /domain/{id}?hardDelete=true",
					"domain", domain, "error", err.Error())
				return
			}
			b.log.Info("deleted the benchmark domain", "domain", domain)
		}()
	}
	if err != nil {
		return err
	}

	cfg, err := a.apiConfig(apiDB)
	if err != nil {
		return err
	}
	// Each request's log line is formatted as serve would, then dropped:
	// a terminal would otherwise be what is measured.
	cfg.Logger = newLogger(io.Discard, a.cfg)
	api, err := httpapi.New(cfg)
	if err != nil {
		return err
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	serveCtx, stopServing := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- a.serveUntilDone(serveCtx, api.Handler(), listener) }()
	defer func() {
		stopServing()
		if err := <-served; err != nil {
			b.log.Error("the API server failed", "error", err.Error())
		}
	}()
	b.url = "http://" + listener.Addr().String()
	b.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: slices.Max(o.concurrency), DisableCompression: true}}
	return b.run(ctx, apiDB)
}

// parseBenchFlags reads the command line of takaro bench.
func parseBenchFlags(a *app, args []string) (benchOptions, error) {
	o := benchOptions{duration: 10 * time.Second, warmup: time.Second, rounds: 5, concurrency: []int{2, 8},
		gameServers: 1000, variables: 1000}
	_, err := a.parseFlags(args, func(fs *flag.FlagSet) {
		fs.BoolVar(&a.cfg.Migrate, "migrate", a.cfg.Migrate, "apply pending migrations first (TAKARO_MIGRATE)")
		fs.DurationVar(&o.duration, "duration", o.duration, "measuring time of each scenario and variant at each concurrency, split over the rounds")
		fs.DurationVar(&o.warmup, "warmup", o.warmup, "warm-up time of each scenario and variant")
		fs.IntVar(&o.rounds, "rounds", o.rounds, "rounds that interleave the API and baseline runs")
		fs.Func("concurrency", "concurrent clients: a count, or a comma-separated list run in turn (default 2,8)", func(v string) error {
			o.concurrency = nil
			for _, f := range strings.Split(v, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || n < 1 {
					return errors.New("want positive whole numbers separated by commas")
				}
				o.concurrency = append(o.concurrency, n)
			}
			return nil
		})
		fs.IntVar(&o.gameServers, "gameservers", o.gameServers, "game servers (with connection info) in the benchmark domain")
		fs.IntVar(&o.variables, "variables", o.variables, "variables in the benchmark domain")
		fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (read it with go tool pprof)")
	})
	switch {
	case err != nil:
		return o, err
	case o.rounds < 1 || o.duration/time.Duration(o.rounds) < 100*time.Millisecond:
		return o, fmt.Errorf("%w: -duration must give each of the -rounds at least 100ms", errUsage)
	case o.gameServers < 1 || o.gameServers > 1_000_000 || o.variables < 0 || o.variables > 1_000_000:
		return o, fmt.Errorf("%w: -gameservers must be 1 to 1000000 and -variables 0 to 1000000", errUsage)
	}
	return o, nil
}

// bench is one run of takaro bench.
type bench struct {
	opts     benchOptions
	out      io.Writer
	log      *slog.Logger
	recorder sqlRecorder
	baseline *pgxpool.Pool
	client   *http.Client
	url      string
	token    string // the bench user's session

	email, password string
	gameServers     []uuid.UUID
}

// seed creates the benchmark domain, a dashboard user whose role holds
// MANAGE_GAMESERVERS (so connection info is decrypted) and READ_VARIABLES,
// the game servers and the variables. It returns the domain's id as soon
// as the domain exists, so that it is deleted whatever fails later.
func (b *bench) seed(ctx context.Context, db *postgres.DB) (string, error) {
	o := b.opts
	b.log.Info("seeding the benchmark domain", "gameservers", o.gameServers, "variables", o.variables)
	created, err := db.CreateDomain(ctx, core.DomainCreate{
		Name:         "takaro bench " + time.Now().UTC().Format(time.RFC3339),
		DomainLimits: core.DomainLimits{MaxGameservers: &o.gameServers, MaxVariables: &o.variables},
	})
	if err != nil {
		return "", err
	}
	domain := created.CreatedDomain.ID
	ctx = core.NewContext(ctx, core.Principal{Domain: domain, UserID: created.RootUser.ID})
	catalogue, err := db.ListPermissions(ctx)
	if err != nil {
		return domain, err
	}
	var perms []core.PermissionInput
	for _, p := range catalogue {
		if p.Permission == core.PermManageGameservers || p.Permission == core.PermReadVariables {
			perms = append(perms, core.PermissionInput{PermissionID: p.ID})
		}
	}
	role, err := db.CreateRole(ctx, core.RoleCreate{Name: "bench", Permissions: perms})
	if err != nil {
		return domain, err
	}
	b.email, b.password = "bench@"+domain+".example.com", rand.Text()
	user, err := db.CreateUser(ctx, core.UserCreate{Name: "bench", Email: b.email, Password: b.password, IsDashboardUser: true})
	if err != nil {
		return domain, err
	}
	if err := db.AssignUserRole(ctx, user.ID, role.ID, nil); err != nil {
		return domain, err
	}
	for i := range o.gameServers {
		gs, err := db.CreateGameServer(ctx, core.GameServerCreate{
			Name: fmt.Sprintf("bench-%07d", i), Type: core.GameServerMock,
			ConnectionInfo: fmt.Sprintf(`{"host":"10.%d.%d.%d","port":28015,"rconPassword":"%s"}`, i>>16&255, i>>8&255, i&255, rand.Text()),
		})
		if err != nil {
			return domain, err
		}
		b.gameServers = append(b.gameServers, gs.ID)
	}
	for i := range o.variables {
		if _, err := db.CreateVariable(ctx, core.VariableCreate{Key: fmt.Sprintf("bench-%07d", i), Value: rand.Text()}); err != nil {
			return domain, err
		}
	}
	return domain, nil
}

// scenario is one kind of request.
type scenario struct {
	name, method, path, body string // {id} in path: a random game server per request
	want                     func(env *envelope) error
	trips                    []roundTrip // what one request sent, captured
}

// envelope is the part of a response that scenarios check.
type envelope struct {
	Data json.RawMessage `json:"data"`
	Meta struct {
		Total *int `json:"total"`
	} `json:"meta"`
}

func wantTotal(n int) func(*envelope) error {
	return func(env *envelope) error {
		if env.Meta.Total == nil || *env.Meta.Total != n {
			return fmt.Errorf("the search found %v rows, want %d", env.Meta.Total, n)
		}
		return nil
	}
}

// variant is one way of running a scenario: the API, or a baseline.
type variant struct {
	name string
	op   func(context.Context) error
}

func (b *bench) run(ctx context.Context, apiDB *postgres.DB) error {
	credentials, err := json.Marshal(map[string]string{"username": b.email, "password": b.password})
	if err != nil {
		return err
	}
	session, err := b.call(ctx, http.MethodPost, "/login", string(credentials))
	if err != nil {
		return err
	}
	var login struct {
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	if err := json.Unmarshal(session, &login); err != nil || login.Data.Token == "" {
		return fmt.Errorf("login: no token in %s", session)
	}
	b.token = login.Data.Token

	scenarios := []*scenario{
		{name: "GET /gameserver/{id}", method: http.MethodGet, path: "/gameserver/{id}", want: func(env *envelope) error {
			var gs core.GameServer
			if err := json.Unmarshal(env.Data, &gs); err != nil || !strings.HasPrefix(string(gs.ConnectionInfo), "{") {
				return fmt.Errorf("want the game server with its connection info decrypted, not %s", env.Data)
			}
			return nil
		}},
		{name: "POST /gameserver/search", method: http.MethodPost, path: "/gameserver/search", body: `{"limit":20}`,
			want: wantTotal(b.opts.gameServers)},
		{name: "POST /variables/search", method: http.MethodPost, path: "/variables/search", body: `{"limit":20}`,
			want: wantTotal(b.opts.variables)},
	}
	var version string
	if err := b.baseline.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		return err
	}
	fmt.Fprintf(b.out, "takaro bench: %d game servers, %d variables; PostgreSQL %s; Go %s %s/%s, GOMAXPROCS %d, %d CPUs\n\n",
		b.opts.gameServers, b.opts.variables, version, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU())
	// Steady state has the identity cache on: wait for its listener.
	for deadline := time.Now().Add(10 * time.Second); !apiDB.IdentityCacheStats().Listening; time.Sleep(10 * time.Millisecond) {
		if _, err := b.call(ctx, http.MethodGet, "/me", ""); err != nil { // starts the listener
			return err
		}
		if time.Now().After(deadline) {
			return errors.New("the identity cache's listener did not come up within 10 s; its connection cannot LISTEN")
		}
	}
	fmt.Fprintln(b.out, "What one request sends to PostgreSQL in steady state (captured after a warm-up request):")
	variants := make([][]variant, len(scenarios))
	for i, sc := range scenarios {
		if err := b.capture(ctx, sc); err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		var data []roundTrip
		for _, t := range sc.trips {
			if !t.auth {
				data = append(data, t)
			}
		}
		fmt.Fprintf(b.out, "- %s: %d round trip(s) in all; authentication %s; data %s\n", sc.name, len(sc.trips),
			describeTrips(sc.trips, true), describeTrips(sc.trips, false))
		variants[i] = []variant{{"API over HTTP", b.apiOp(sc)}}
		if len(data) < len(sc.trips) {
			variants[i] = append(variants[i], variant{"SQL: authentication + data", b.replayOp(sc.trips)})
		}
		variants[i] = append(variants[i], variant{"SQL: data only", b.replayOp(data)})
	}
	fmt.Fprintln(b.out)

	b.log.Info("warming up", "per_variant", b.opts.warmup)
	for _, vs := range variants {
		for _, v := range vs {
			if _, err := drive(ctx, slices.Max(b.opts.concurrency), b.opts.warmup, v.op); err != nil {
				return fmt.Errorf("warm-up, %s: %w", v.name, err)
			}
		}
	}
	verifiedBefore, cacheBefore := apiDB.CredentialStats().Verifications, apiDB.IdentityCacheStats()
	for _, c := range b.opts.concurrency {
		results, err := b.measure(ctx, c, variants)
		if err != nil {
			return err
		}
		b.report(c, scenarios, variants, results)
	}
	cache := apiDB.IdentityCacheStats()
	fmt.Fprintf(b.out, "crypt() verifications of a token while measuring: %d\n", apiDB.CredentialStats().Verifications-verifiedBefore)
	fmt.Fprintf(b.out, "identity cache while measuring: %d hits, %d misses (identity read from the database), %d invalidations\n",
		cache.Hits-cacheBefore.Hits, cache.Misses-cacheBefore.Misses, cache.Invalidations-cacheBefore.Invalidations)
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err == nil {
		// Linux reports kilobytes. It includes the load generator's clients.
		fmt.Fprintf(b.out, "peak RSS of this process (API, pools and load generator): %.1f MB\n", float64(usage.Maxrss)/1024)
	}
	return nil
}

// measure runs every variant of every scenario once per round, with c
// clients; each round starts with another variant, so none is always
// first. results[scenario][variant] holds one sample a round.
func (b *bench) measure(ctx context.Context, c int, variants [][]variant) ([][][]sample, error) {
	run := b.opts.duration / time.Duration(b.opts.rounds)
	b.log.Info("measuring", "concurrency", c, "rounds", b.opts.rounds, "run", run)
	results := make([][][]sample, len(variants))
	for i, vs := range variants {
		results[i] = make([][]sample, len(vs))
	}
	for round := range b.opts.rounds {
		for i, vs := range variants {
			for k := range vs {
				j := (k + round) % len(vs)
				s, err := drive(ctx, c, run, vs[j].op)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", vs[j].name, err)
				}
				results[i][j] = append(results[i][j], s)
			}
		}
	}
	return results, nil
}

// report prints the table of one concurrency: the API's figures and, per
// baseline, its figures and the ratio of the API's requests/s to its.
func (b *bench) report(c int, scenarios []*scenario, variants [][]variant, results [][][]sample) {
	fmt.Fprintf(b.out, "%d concurrent clients; %d rounds of %s per variant; medians over the rounds\n\n",
		c, b.opts.rounds, b.opts.duration/time.Duration(b.opts.rounds))
	fmt.Fprintln(b.out, "| scenario | req/s | p50 | p99 | baseline | baseline req/s | baseline p50 | baseline p99 | ratio (API ÷ baseline req/s) |")
	fmt.Fprintln(b.out, "|---|---:|---:|---:|---|---:|---:|---:|---:|")
	for i, sc := range scenarios {
		api := results[i][0]
		// The API's cells are filled on its first row only.
		cells := fmt.Sprintf("%s | %s | %s | %s", sc.name, rps(api), ms(median(api, sample.median)), ms(median(api, sample.tail)))
		for j := 1; j < len(variants[i]); j++ {
			base := results[i][j]
			ratios := make([]float64, len(api))
			for r := range api {
				ratios[r] = api[r].rps / base[r].rps
			}
			fmt.Fprintf(b.out, "| %s | %s | %s | %s | %s | %.2f |\n", cells, variants[i][j].name,
				rps(base), ms(median(base, sample.median)), ms(median(base, sample.tail)), medianOf(ratios))
			cells = " |  |  | "
		}
	}
	fmt.Fprintln(b.out)
}

// capture sends one request of sc (after one that warms it up) with the
// recorder armed, keeps what it sent to the database, and checks the
// response.
func (b *bench) capture(ctx context.Context, sc *scenario) error {
	path := strings.Replace(sc.path, "{id}", b.gameServers[0].String(), 1)
	if _, err := b.call(ctx, sc.method, path, sc.body); err != nil {
		return err
	}
	b.recorder.arm()
	res, err := b.call(ctx, sc.method, path, sc.body)
	sc.trips = b.recorder.disarm()
	if err != nil {
		return err
	}
	var env envelope
	if err := json.Unmarshal(res, &env); err != nil {
		return err
	}
	if err := sc.want(&env); err != nil {
		return err
	}
	for _, t := range sc.trips {
		for i := range t.statements {
			t.statements[i].markID(b.gameServers[0])
		}
	}
	return nil
}

// call sends one request as the bench user and returns the response body;
// any status but 200 is an error.
func (b *bench) call(ctx context.Context, method, path, body string) ([]byte, error) {
	var content io.Reader
	if body != "" {
		content = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.url+path, content)
	if err != nil {
		return nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.token != "" {
		req.Header.Set("Authorization", "Bearer "+b.token)
	}
	res, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = res.Body.Close() }()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, res.Status, data)
	}
	return data, nil
}

func (b *bench) randomGameServer() uuid.UUID {
	return b.gameServers[mathrand.IntN(len(b.gameServers))]
}

// apiOp sends one request of sc.
func (b *bench) apiOp(sc *scenario) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := b.call(ctx, sc.method, strings.Replace(sc.path, "{id}", b.randomGameServer().String(), 1), sc.body)
		return err
	}
}

// replayOp sends trips through the baseline pool, each as one pipelined
// batch, for a random game server. Results are read and discarded.
func (b *bench) replayOp(trips []roundTrip) func(context.Context) error {
	return func(ctx context.Context) error {
		id := b.randomGameServer()
		for _, t := range trips {
			batch := &pgx.Batch{}
			for _, s := range t.statements {
				batch.Queue(s.sql, s.argsFor(id)...)
			}
			if err := b.baseline.SendBatch(ctx, batch).Close(); err != nil {
				return err
			}
		}
		return nil
	}
}

// sqlRecorder is the tracer of the API's pool. While armed it records the
// statements of every round trip; otherwise it costs an atomic load.
type sqlRecorder struct {
	armed atomic.Bool
	mu    sync.Mutex
	trips []roundTrip
}

// roundTrip is the statements one batch (or one single query) sent.
type roundTrip struct {
	// auth: sent before the request was bound to its caller, which
	// httpapi does once authentication has resolved the caller's user.
	auth       bool
	statements []statement
}

type statement struct {
	sql  string
	args []any
	ids  []int // the arguments that are the captured request's game server id
}

func (r *sqlRecorder) arm() {
	r.mu.Lock()
	r.trips = nil
	r.mu.Unlock()
	r.armed.Store(true)
}

func (r *sqlRecorder) disarm() []roundTrip {
	r.armed.Store(false)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.trips
}

func (r *sqlRecorder) record(ctx context.Context, statements []statement) {
	p, err := core.PrincipalFrom(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trips = append(r.trips, roundTrip{auth: err != nil || p.UserID == uuid.Nil, statements: statements})
}

func (r *sqlRecorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if r.armed.Load() {
		r.record(ctx, []statement{{sql: d.SQL, args: slices.Clone(d.Args)}})
	}
	return ctx
}

func (r *sqlRecorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *sqlRecorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	if r.armed.Load() {
		statements := make([]statement, len(d.Batch.QueuedQueries))
		for i, q := range d.Batch.QueuedQueries {
			statements[i] = statement{sql: q.SQL, args: slices.Clone(q.Arguments)}
		}
		r.record(ctx, statements)
	}
	return ctx
}

func (r *sqlRecorder) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (r *sqlRecorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// markID notes which arguments are id, to be replaced by argsFor.
func (s *statement) markID(id uuid.UUID) {
	for i, a := range s.args {
		if v, ok := a.(uuid.UUID); ok && v == id {
			s.ids = append(s.ids, i)
		}
	}
}

// argsFor returns the statement's arguments for game server id.
func (s statement) argsFor(id uuid.UUID) []any {
	if len(s.ids) == 0 {
		return s.args
	}
	args := slices.Clone(s.args)
	for _, i := range s.ids {
		args[i] = id
	}
	return args
}

// cryptCall matches pgcrypto's crypt() (bcrypt), not pgp_sym_decrypt().
var cryptCall = regexp.MustCompile(`(^|[^a-z_])crypt\(`)

// describeTrips says how many round trips and statements the
// authentication (or the data) part of a request took.
func describeTrips(trips []roundTrip, auth bool) string {
	n, statements, crypts := 0, 0, 0
	for _, t := range trips {
		if t.auth != auth {
			continue
		}
		n++
		statements += len(t.statements)
		for _, s := range t.statements {
			if cryptCall.MatchString(s.sql) {
				crypts++
			}
		}
	}
	return fmt.Sprintf("%d round trip(s), %d statement(s), %d with crypt()", n, statements, crypts)
}

// sample is one measured run.
type sample struct {
	rps      float64
	p50, p99 time.Duration
}

func (s sample) median() float64 { return float64(s.p50) }
func (s sample) tail() float64   { return float64(s.p99) }

// drive runs op from c clients, each repeating it until d has passed, and
// measures the requests per second and the latencies. An error stops it.
func drive(ctx context.Context, c int, d time.Duration, op func(context.Context) error) (sample, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	latencies := make([][]time.Duration, c)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range c {
		wg.Go(func() {
			for ctx.Err() == nil {
				began := time.Now()
				if !began.Before(deadline) {
					return
				}
				if err := op(ctx); err != nil {
					cancel(err)
					return
				}
				latencies[i] = append(latencies[i], time.Since(began))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return sample{}, err
	}
	all := slices.Concat(latencies...)
	if len(all) == 0 {
		return sample{}, errors.New("no request completed")
	}
	slices.Sort(all)
	return sample{rps: float64(len(all)) / elapsed.Seconds(), p50: all[len(all)/2], p99: all[len(all)*99/100]}, nil
}

// median returns the median of f over the samples.
func median(samples []sample, f func(sample) float64) float64 {
	values := make([]float64, len(samples))
	for i, s := range samples {
		values[i] = f(s)
	}
	return medianOf(values)
}

func medianOf(values []float64) float64 {
	values = slices.Clone(values)
	slices.Sort(values)
	n := len(values)
	if n%2 == 1 {
		return values[n/2]
	}
	return (values[n/2-1] + values[n/2]) / 2
}

// rps formats the median requests per second.
func rps(samples []sample) string {
	return fmt.Sprintf("%.0f", median(samples, func(s sample) float64 { return s.rps }))
}

// ms formats nanoseconds as milliseconds.
func ms(ns float64) string { return fmt.Sprintf("%.2f ms", ns/1e6) }
