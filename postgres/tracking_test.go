package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
)

// locationsOf returns the x coordinates of locs, which the tests use to
// tell samples apart, in their order except that the samples of one
// moment (one write) are sorted among themselves.
func locationsOf(t *testing.T, locs []takaro.PlayerLocation) []float64 {
	t.Helper()
	xs := make([]float64, len(locs))
	for i, l := range locs {
		xs[i] = l.X
		if i > 0 && !l.CreatedAt.Equal(locs[i-1].CreatedAt.Time) && !l.CreatedAt.Before(locs[i-1].CreatedAt.Time) {
			t.Errorf("location %d is newer than the one before it", i)
		}
	}
	for i := 0; i < len(locs); {
		j := i + 1
		for j < len(locs) && locs[j].CreatedAt.Equal(locs[i].CreatedAt.Time) {
			j++
		}
		slices.Sort(xs[i:j])
		i = j
	}
	return xs
}

func TestTrackingRecordsAndSearchesLocations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(5)})
	f := e.fill(t, a)
	other := e.createPlayer(t, a, uniqueName("steam"))
	check[*takaro.PlayerOnGameServer](t)(e.core.UpsertPlayerOnGameServer(a.ctx, takaro.PlayerOnGameServerUpsert{
		PlayerID: other.ID, GameServerID: f.GameServer.ID, GameID: uniqueName("game"),
	}))
	start := time.Now()
	// fill recorded x=1 for f.Player; these come later, so sort first.
	for i, x := range []float64{10, 20, 30} {
		dim := "overworld"
		check[[]takaro.PlayerLocation](t)(e.core.RecordLocations(a.ctx, takaro.LocationRecord{GameServerID: f.GameServer.ID, Samples: []takaro.LocationSample{
			{PlayerID: f.Player.ID, X: x, Y: 0, Z: 0, Dimension: &dim},
			{PlayerID: other.ID, X: -x, Y: float64(i), Z: 0.125},
		}}))
	}

	all := check[[]takaro.PlayerLocation](t)(e.core.FindLocations(a.ctx, takaro.LocationHistoryQuery{}))
	if got := locationsOf(t, all); !slices.Equal(got, []float64{-30, 30, -20, 20, -10, 10, 1}) {
		t.Errorf("all locations newest first: %v", got)
	}
	mine := check[[]takaro.PlayerLocation](t)(e.core.FindLocations(a.ctx, takaro.LocationHistoryQuery{PlayerID: []uuid.UUID{f.Player.ID}, Limit: ptrTo(2)}))
	if got := locationsOf(t, mine); !slices.Equal(got, []float64{30, 20}) {
		t.Errorf("the player's two latest: %v, want [30 20]", got)
	}
	if l := mine[0]; l.PlayerID != f.Player.ID || l.GameServerID != f.GameServer.ID || l.PogID == uuid.Nil || l.Dimension == nil || *l.Dimension != "overworld" {
		t.Errorf("location: %+v", l)
	}
	recent := check[[]takaro.PlayerLocation](t)(e.core.FindLocations(a.ctx, takaro.LocationHistoryQuery{
		PlayerID: []uuid.UUID{f.Player.ID}, TimeWindow: takaro.TimeWindow{StartDate: &start}}))
	if got := locationsOf(t, recent); !slices.Equal(got, []float64{30, 20, 10}) {
		t.Errorf("since the start: %v, want [30 20 10]", got)
	}

	box := check[[]takaro.PlayerLocation](t)(e.core.FindLocationsInBox(a.ctx, takaro.LocationBoxQuery{
		GameServerID: f.GameServer.ID, MinX: -25, MaxX: 15, MinY: 0, MaxY: 1, MinZ: 0, MaxZ: 1}))
	if got := locationsOf(t, box); !slices.Equal(got, []float64{-20, -10, 10}) {
		t.Errorf("in the box: %v, want [-20 -10 10]", got)
	}
	near := check[[]takaro.PlayerLocation](t)(e.core.FindLocationsInRadius(a.ctx, takaro.LocationRadiusQuery{
		GameServerID: f.GameServer.ID, X: 0, Y: 0, Z: 0, Radius: 10.01}))
	if got := locationsOf(t, near); !slices.Equal(got, []float64{-10, 10, 1}) {
		t.Errorf("within 10.01 of the origin: %v, want [-10 10 1]", got)
	}

	_, err := e.core.RecordLocations(a.ctx, takaro.LocationRecord{GameServerID: f.GameServer.ID, Samples: []takaro.LocationSample{{PlayerID: uuid.New()}}})
	wantCode(t, err, takaro.CodeNotFound)
	_, err = e.core.RecordLocations(a.ctx, takaro.LocationRecord{GameServerID: f.GameServer.ID, Samples: []takaro.LocationSample{{PlayerID: f.Player.ID}, {PlayerID: f.Player.ID, X: 1e10}}})
	bad := wantCode(t, err, takaro.CodeValidation)
	if bad.Details[0].Field != "samples[1].x" {
		t.Errorf("a coordinate out of range names %q, want samples[1].x", bad.Details[0].Field)
	}
	_, err = e.core.FindLocationsInBox(a.ctx, takaro.LocationBoxQuery{GameServerID: f.GameServer.ID, MinX: 2, MaxX: 1})
	wantCode(t, err, takaro.CodeValidation)
	_, err = e.core.FindLocations(a.ctx, takaro.LocationHistoryQuery{Limit: ptrTo(takaro.MaxLocationResults + 1)})
	wantCode(t, err, takaro.CodeValidation)
	end := start.Add(-time.Hour)
	_, err = e.core.FindLocations(a.ctx, takaro.LocationHistoryQuery{TimeWindow: takaro.TimeWindow{StartDate: &start, EndDate: &end}})
	wantCode(t, err, takaro.CodeValidation)
}

// todaysPartition is the name of today's partition of player_location.
func todaysPartition() string {
	return "player_location_" + time.Now().UTC().Format("20060102")
}

func TestTrackingPartitionsAreIsolatedLikeTheirTable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.newDomain(t, takaro.DomainLimits{}), e.newDomain(t, takaro.DomainLimits{})
	e.fill(t, a)
	e.fill(t, b)
	pool := e.db.Pool(t)
	ctx := context.Background()
	partition := todaysPartition()

	// Read directly, without a domain, the partition shows nothing and
	// takes nothing.
	var n int
	must(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+partition).Scan(&n))
	if n != 0 {
		t.Errorf("%s shows %d rows without a domain, want 0", partition, n)
	}
	_, err := pool.Exec(ctx, "INSERT INTO "+partition+" (domain, pog_id, player_id, gameserver_id, x, y, z) VALUES ($1, $2, $2, $2, 0, 0, 0)", a.ID, uuid.New())
	wantSQLState(t, err, "42501")

	// Bound to a, it shows a's row only.
	must(t, e.core.InDomainForTest(a.ctx, func(tx *postgres.Tx) error {
		var mine, others int
		if err := tx.QueryRow(ctx, "SELECT count(*) FILTER (WHERE domain = $1), count(*) FILTER (WHERE domain <> $1) FROM "+partition, a.ID).Scan(&mine, &others); err != nil {
			return err
		}
		if mine != 1 || others != 0 {
			t.Errorf("bound to a, %s shows %d of its rows and %d of others, want 1 and 0", partition, mine, others)
		}
		return nil
	}))
}

func TestTrackingWriteMakesAMissingPartition(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.newDomain(t, takaro.DomainLimits{})
	f := e.fill(t, a)
	super := superuser(t, e.db)
	_, err := super.Exec(context.Background(), "DROP TABLE "+todaysPartition())
	must(t, err)
	check[[]takaro.PlayerLocation](t)(e.core.RecordLocations(a.ctx, takaro.LocationRecord{GameServerID: f.GameServer.ID, Samples: []takaro.LocationSample{{PlayerID: f.Player.ID, X: 5}}}))
	got := check[[]takaro.PlayerLocation](t)(e.core.FindLocations(a.ctx, takaro.LocationHistoryQuery{}))
	if xs := locationsOf(t, got); !slices.Equal(xs, []float64{5}) {
		t.Errorf("after the partition was made again: %v, want [5]", xs)
	}
}

func TestMaintainKeepsPartitionsAheadAndDropsExpiredDays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	super := superuser(t, e.db)
	ctx := context.Background()
	short := e.newDomain(t, takaro.DomainLimits{EventRetentionDays: ptrTo(3)})
	long := e.newDomain(t, takaro.DomainLimits{EventRetentionDays: ptrTo(20)})
	e.fill(t, short)
	e.fill(t, long)
	// Partitions for 30 and 10 days ago, with a row of each domain.
	for _, ago := range []int{30, 10} {
		day := time.Now().UTC().AddDate(0, 0, -ago)
		_, err := super.Exec(ctx, "SELECT takaro_ensure_day_partitions('player_location', $1::date, 1)", day.Format(time.DateOnly))
		must(t, err)
		for _, tn := range []*tenant{short, long} {
			_, err := super.Exec(ctx, `INSERT INTO player_location (domain, pog_id, player_id, gameserver_id, x, y, z, created_at)
				SELECT domain, id, player_id, gameserver_id, $2, 0, 0, $3 FROM player_on_gameserver WHERE domain = $1`,
				tn.ID, ago, day)
			must(t, err)
		}
	}

	removed, err := e.core.Maintain(ctx, postgres.MaintainOptions{})
	must(t, err)

	partitions := queryStrings(t, super, `SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'player_location'::regclass ORDER BY 1`)
	oldest := "player_location_" + time.Now().UTC().AddDate(0, 0, -30).Format("20060102")
	if slices.Contains(partitions, oldest) {
		t.Errorf("the partition of 30 days ago, older than every domain's retention, was kept: %v", partitions)
	}
	for i := range 8 {
		name := "player_location_" + time.Now().UTC().AddDate(0, 0, i).Format("20060102")
		if !slices.Contains(partitions, name) {
			t.Errorf("no partition %s ahead of time: %v", name, partitions)
		}
	}
	var dropped bool
	for _, r := range removed {
		dropped = dropped || r.Partition == oldest
	}
	if !dropped {
		t.Errorf("the pass does not report the dropped partition: %+v", removed)
	}
	// The day of 10 days ago stays for the long retention; the short one's
	// row of that day is deleted.
	for _, c := range []struct {
		tn        *tenant
		retention int
		want      []float64
	}{{short, 3, []float64{1}}, {long, 20, []float64{1, 10}}} {
		var xs []float64
		rows, err := super.Query(ctx, "SELECT x::float8 FROM player_location WHERE domain = $1 ORDER BY x", c.tn.ID)
		must(t, err)
		for rows.Next() {
			var x float64
			must(t, rows.Scan(&x))
			xs = append(xs, x)
		}
		must(t, rows.Err())
		if !slices.Equal(xs, c.want) {
			t.Errorf("domain with retention %d: locations %v, want %v", c.retention, xs, c.want)
		}
	}
}
