package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/gotakaro/takaro/httpapi"
	"github.com/gotakaro/takaro/postgres"
)

// defaultMaintenanceInterval is how often serve runs the maintenance pass:
// hourly, as the reference platform's cleanup jobs.
const defaultMaintenanceInterval = time.Hour

// maintenanceReport logs each maintenance pass and keeps the counters that
// /metrics exports.
type maintenanceReport struct {
	log *slog.Logger
	mu  sync.Mutex
	st  httpapi.MaintenanceStats
}

// removed counts one batch as it goes, so the counters move during a long
// pass.
func (r *maintenanceReport) removed(table, _ string, rows int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.st.RowsDeleted == nil {
		r.st.RowsDeleted = map[string]uint64{}
	}
	r.st.RowsDeleted[table] += uint64(rows)
}

// passed records and logs a finished pass.
func (r *maintenanceReport) passed(pass postgres.MaintenancePass) {
	r.mu.Lock()
	if !pass.Started.IsZero() { // a pass, not a failure to reach the lock
		r.st.Runs++
		r.st.LastRun, r.st.LastDuration = pass.Started, pass.Duration
	}
	if pass.Err != nil {
		r.st.Errors++
	}
	r.mu.Unlock()
	logPass(r.log, pass, false)
}

// stats returns a copy of the counters, every maintained table present
// (at zero before its first deletion), for /metrics.
func (r *maintenanceReport) stats() httpapi.MaintenanceStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.st
	st.RowsDeleted = map[string]uint64{}
	for _, table := range postgres.MaintainedTables() {
		st.RowsDeleted[table] = 0
	}
	for table, n := range r.st.RowsDeleted {
		st.RowsDeleted[table] = n
	}
	return st
}

// logPass logs one line per table and domain that lost rows, then the
// pass's summary. Domain ids are not secret; nothing else of a domain is
// logged.
func logPass(log *slog.Logger, pass postgres.MaintenancePass, dryRun bool) {
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	var total int64
	for _, r := range pass.Removed {
		total += r.Rows
		attrs := []any{"table", r.Table, "rows", r.Rows}
		if r.Partition != "" {
			attrs = append(attrs, "partition", r.Partition, "rows_estimated", true)
		} else {
			attrs = append(attrs, "domain", r.Domain)
		}
		log.Info("maintenance "+verb, attrs...)
	}
	attrs := []any{"rows", total, "duration_ms", float64(pass.Duration.Microseconds()) / 1000, "dry_run", dryRun}
	if pass.Err != nil {
		log.Error("maintenance pass failed; the next pass carries on", append(attrs, "error", pass.Err.Error())...)
		return
	}
	log.Info("maintenance pass done", attrs...)
}

// startMaintenance runs the maintenance loop in the background, unless
// its interval is zero; the returned function stops it and waits.
func (a *app) startMaintenance(ctx context.Context, db *postgres.DB, report *maintenanceReport) (stop func()) {
	interval := a.cfg.MaintenanceInterval
	if interval <= 0 {
		a.log.Info("maintenance is off: TAKARO_MAINTENANCE_INTERVAL is off")
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.RunMaintenance(ctx, interval, postgres.MaintainOptions{Removed: report.removed}, report.passed)
	}()
	a.log.Info("maintenance runs on one instance at a time", "interval", interval.String())
	return func() {
		cancel()
		<-done
	}
}

func runMaintain(ctx context.Context, a *app, args []string) error {
	var opts postgres.MaintainOptions
	if _, err := a.parseFlags(args, func(fs *flag.FlagSet) {
		fs.BoolVar(&opts.DryRun, "dry-run", false, "count what would be removed, per table and domain, and remove nothing")
		fs.IntVar(&opts.BatchSize, "batch-size", postgres.DefaultMaintainBatchSize, "most rows one transaction deletes")
		fs.DurationVar(&opts.Pause, "pause", postgres.DefaultMaintainPause, "rest between two batches")
	}); err != nil {
		return err
	}
	if opts.BatchSize < 1 || opts.Pause < 0 {
		return fmt.Errorf("%w: -batch-size must be at least 1 and -pause not negative", errUsage)
	}
	db, err := a.openDatabase(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	// The rules are written for this binary's schema.
	if err := a.checkSchema(ctx, db, false); err != nil {
		return err
	}
	before, err := db.MaintainedTableSizes(ctx)
	if err != nil {
		return err
	}
	pass := postgres.MaintenancePass{Started: time.Now()}
	pass.Removed, pass.Err = db.Maintain(ctx, opts)
	pass.Duration = time.Since(pass.Started)
	logPass(a.log, pass, opts.DryRun)
	if err := a.printRemovals(pass, opts.DryRun); err != nil {
		return err
	}
	if pass.Err != nil {
		return pass.Err
	}
	after, err := db.MaintainedTableSizes(ctx)
	if err != nil {
		return err
	}
	return a.printSizes(before, after)
}

// printRemovals prints what a pass removed (or would), per table and
// domain.
func (a *app) printRemovals(pass postgres.MaintenancePass, dryRun bool) error {
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	verb := "REMOVED"
	if dryRun {
		verb = "WOULD REMOVE"
	}
	fmt.Fprintf(w, "TABLE\tDOMAIN\t%s\n", verb)
	var total int64
	for _, r := range pass.Removed {
		where := r.Domain
		if r.Partition != "" {
			where = "partition " + r.Partition + " (all domains, estimated)"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\n", r.Table, where, r.Rows)
		total += r.Rows
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%d rows in %s\n\n", total, pass.Duration.Round(time.Millisecond))
	return nil
}

// printSizes prints each maintained table's size before and after the
// pass. Deleted rows leave dead space that vacuum makes reusable; only
// dropped partitions shrink a table at once (see the README).
func (a *app) printSizes(before, after []postgres.TableSize) error {
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "TABLE\tBYTES BEFORE\tBYTES AFTER\t")
	for i, b := range before {
		var now int64
		if i < len(after) && after[i].Table == b.Table {
			now = after[i].Bytes
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t\n", b.Table, b.Bytes, now)
	}
	return w.Flush()
}

// maintenanceIntervalText shows an interval as the configuration takes it.
func maintenanceIntervalText(d time.Duration) string {
	if d <= 0 {
		return "off"
	}
	return d.String()
}
