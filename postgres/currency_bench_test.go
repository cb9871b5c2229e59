package postgres_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// BenchmarkCurrencyTransfer measures concurrent transfers per second
// through the data core, between random pairs of players and with one hot
// player in every transfer (each either way), against a baseline: the
// exact statements one transfer sends, captured with a tracer and replayed
// (with the players swapped in) through a plain pgx pool, in the same
// round trips. Data core and baseline alternate in short rounds, so the
// noise of a shared machine hits both alike; the ratio is the figure to
// read.
//
//	go test ./postgres -run '^$' -bench BenchmarkCurrencyTransfer -benchtime 3x
func BenchmarkCurrencyTransfer(b *testing.B) {
	const players, workers, perRound = 100, 8, 1500
	e := newEnv(b)
	core := e.openWide(b)
	tn := e.newDomain(b, takaro.DomainLimits{})
	ec := e.newEconomy(b, tn, players, 1_000_000_000)

	// One transfer, traced: its statements in order, batches kept together.
	rec := &recorder{}
	cfg := e.db.Config(b)
	cfg.ConnConfig.Tracer = rec
	traced, err := postgres.Open(context.Background(), cfg, postgres.Options{BcryptCost: 4})
	must(b, err)
	defer traced.Close()
	from, to := ec.pogs[0], ec.pogs[1]
	rec.on = true
	must(b, traced.TransferCurrency(tn.ctx, ec.server.ID, from.ID, to.ID, takaro.CurrencyAmount{Currency: 1}))
	rec.on = false
	plainCfg := e.db.Config(b)
	plainCfg.MaxConns = 32 // as openWide's
	plain, err := pgxpool.NewWithConfig(context.Background(), plainCfg)
	must(b, err)
	defer plain.Close()

	pick := map[string]func() (int, int){
		"random": func() (int, int) {
			a := rand.IntN(players)
			return a, (a + 1 + rand.IntN(players-1)) % players
		},
		"hot": func() (int, int) {
			other := 1 + rand.IntN(players-1)
			if rand.IntN(2) == 0 {
				return 0, other
			}
			return other, 0
		},
	}
	run := func(transfer func(a, b int) error, choose func() (int, int)) time.Duration {
		var wg sync.WaitGroup
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for range perRound / workers {
					x, y := choose()
					if err := transfer(x, y); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	api := func(x, y int) error {
		return core.TransferCurrency(tn.ctx, ec.server.ID, ec.pogs[x].ID, ec.pogs[y].ID, takaro.CurrencyAmount{Currency: 1})
	}
	baseline := func(x, y int) error {
		swap := map[uuid.UUID]uuid.UUID{from.ID: ec.pogs[x].ID, to.ID: ec.pogs[y].ID,
			from.PlayerID: ec.pogs[x].PlayerID, to.PlayerID: ec.pogs[y].PlayerID}
		return rec.replay(context.Background(), plain, swap)
	}
	for _, scenario := range []string{"random", "hot"} {
		b.Run(scenario, func(b *testing.B) {
			var apiTime, sqlTime time.Duration
			for b.Loop() {
				apiTime += run(api, pick[scenario])
				sqlTime += run(baseline, pick[scenario])
			}
			rounds := float64(b.N * perRound / workers * workers)
			b.ReportMetric(rounds/apiTime.Seconds(), "transfers/s")
			b.ReportMetric(rounds/sqlTime.Seconds(), "same-sql-transfers/s")
			b.ReportMetric(sqlTime.Seconds()/apiTime.Seconds(), "api/same-sql")
		})
	}
	sum := 0
	for _, bal := range ec.balances(b, e, tn) {
		sum += bal
	}
	if sum != players*1_000_000_000 {
		b.Errorf("the balances sum to %d after the benchmark", sum)
	}
}

// recorder is a pgx tracer that records the statements of its
// connections while on: each with its arguments and the batch it was sent
// in (0 for none).
type recorder struct {
	on      bool
	batch   int
	entries []recorded
}

type recorded struct {
	sql   string
	args  []any
	batch int
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if r.on {
		r.entries = append(r.entries, recorded{sql: d.SQL, args: d.Args})
	}
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *recorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.batch++
	return ctx
}

func (r *recorder) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	if r.on {
		r.entries = append(r.entries, recorded{sql: d.SQL, args: d.Args, batch: r.batch})
	}
}

func (r *recorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// replay sends the recorded statements on one connection, in the same
// round trips, with every id found in swap replaced, reading every result.
func (r *recorder) replay(ctx context.Context, pool *pgxpool.Pool, swap map[uuid.UUID]uuid.UUID) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	args := func(in []any) []any {
		out := make([]any, len(in))
		for i, a := range in {
			switch v := a.(type) {
			case uuid.UUID:
				if s, ok := swap[v]; ok {
					a = s
				}
			case []uuid.UUID:
				ids := make([]uuid.UUID, len(v))
				for j, id := range v {
					ids[j] = id
					if s, ok := swap[id]; ok {
						ids[j] = s
					}
				}
				a = ids
			}
			out[i] = a
		}
		return out
	}
	for i := 0; i < len(r.entries); {
		e := r.entries[i]
		if e.batch == 0 {
			rows, err := conn.Query(ctx, e.sql, args(e.args)...)
			if err != nil {
				return err
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			i++
			continue
		}
		batch := &pgx.Batch{}
		for ; i < len(r.entries) && r.entries[i].batch == e.batch; i++ {
			batch.Queue(r.entries[i].sql, args(r.entries[i].args)...)
		}
		if err := conn.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
	}
	return nil
}
