package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
)

// BenchmarkRotateKeys measures key rotation throughput, in values
// re-encrypted per second, alone and while API-like load (reads with
// connection info and updates through the data core, from 4 goroutines
// without rest) runs on the same values; and the load's own rate alone and
// during the rotation. Each iteration rotates all values from one test key
// to the other and back, so every rotation has the same work.
//
//	go test ./postgres -run '^$' -bench BenchmarkRotateKeys -benchtime 3x
func BenchmarkRotateKeys(b *testing.B) {
	const domains, perDomain, workers = 10, 2000, 4
	db := pgtest.New(b)
	servers := db.SeedGameServers(b, pgtest.OtherKey, domains, perDomain)
	cores := [2]*postgres.DB{ // the API and the rotation share a keyring
		db.Open(b, postgres.Options{Keys: encKeyring(b, pgtest.Key, pgtest.OtherKey)}),
		db.Open(b, postgres.Options{Keys: encKeyring(b, pgtest.OtherKey, pgtest.Key)}),
	}
	var next int
	// rotate rotates every value to the other key, with load from workers
	// goroutines when load, and returns the values it re-encrypted, the
	// time it took and the load's operations.
	rotate := func(load bool) (int64, time.Duration, int64) {
		core := cores[next%2]
		next++
		ctx, stop := context.WithCancel(context.Background())
		var res *pgtest.LoadResult
		var wg sync.WaitGroup
		if load {
			wg.Go(func() { res = pgtest.RunLoad(ctx, core, servers, workers, 0) })
		}
		start := time.Now()
		p, err := core.RotateKeys(context.Background(), postgres.RotateOptions{})
		elapsed := time.Since(start)
		stop()
		wg.Wait()
		if err != nil {
			b.Fatal(err)
		}
		if !load {
			return p.Done, elapsed, 0
		}
		if res.Failed > 0 {
			b.Fatalf("%d API operations failed during the rotation: %v", res.Failed, res.Errors)
		}
		return p.Done, elapsed, res.Reads + res.Writes
	}
	var aloneValues, loadedValues, loadedOps, apiOps int64
	var aloneTime, loadedTime, apiTime time.Duration
	for b.Loop() {
		n, d, _ := rotate(false)
		aloneValues, aloneTime = aloneValues+n, aloneTime+d

		// The load alone, as long as the rotation alone took.
		ctx, stop := context.WithTimeout(context.Background(), d)
		res := pgtest.RunLoad(ctx, cores[(next+1)%2], servers, workers, 0) // the keyring just rotated to
		stop()
		apiOps, apiTime = apiOps+res.Reads+res.Writes, apiTime+d

		n, d, ops := rotate(true)
		loadedValues, loadedTime, loadedOps = loadedValues+n, loadedTime+d, loadedOps+ops
	}
	alone := float64(aloneValues) / aloneTime.Seconds()
	loaded := float64(loadedValues) / loadedTime.Seconds()
	api := float64(apiOps) / apiTime.Seconds()
	apiLoaded := float64(loadedOps) / loadedTime.Seconds()
	b.ReportMetric(alone, "values/s-alone")
	b.ReportMetric(loaded, "values/s-under-load")
	b.ReportMetric(loaded/alone, "under-load/alone")
	b.ReportMetric(api, "api-ops/s-alone")
	b.ReportMetric(apiLoaded, "api-ops/s-during-rotation")
	b.ReportMetric(apiLoaded/api, "api-during/alone")
}
