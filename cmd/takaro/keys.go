package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/gotakaro/takaro/postgres"
)

// The commands that work on every encrypted value: db rotate-key and db
// verify-encryption. The work itself is in package postgres (rotate.go,
// verify.go); here are the flags, the progress display and the reports.

func runRotateKey(ctx context.Context, a *app, args []string) error {
	var dryRun bool
	var pause time.Duration
	batchSize := postgres.DefaultBatchSize
	if _, err := a.parseFlags(args, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "print how many values each key encrypts, and change nothing")
		fs.IntVar(&batchSize, "batch-size", batchSize, "values re-encrypted per transaction (each holds their row locks until it commits)")
		fs.DurationVar(&pause, "pause", 0, "rest between batches, to leave the database room for other load (for example 50ms)")
	}); err != nil {
		return err
	}
	if batchSize < 1 {
		return fmt.Errorf("%w: -batch-size must be at least 1", errUsage)
	}
	keys, err := a.requiredKeys()
	if err != nil {
		return err
	}
	if dryRun {
		// Counting reads key identifiers only: the dry run sends no key
		// (so it works over any connection) and installs nothing.
		db, err := a.connect(ctx, nil)
		if err != nil {
			return err
		}
		defer db.Close()
		return a.printKeyUsage(ctx, db, keys)
	}
	db, err := a.openDatabase(ctx, true)
	if err != nil {
		return err
	}
	defer db.Close()
	meter := a.newProgressMeter("re-encrypted")
	p, err := db.RotateKeys(ctx, postgres.RotateOptions{BatchSize: batchSize, Pause: pause, Progress: meter.update})
	meter.end()
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted after re-encrypting %d of %d values: every value is readable; run takaro db rotate-key again to finish", p.Done, p.Total)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "re-encrypted %d values with the current key %s; no value is left under a previous key\n", p.Done, keys.Current().ID())
	return a.recordDevKeys(append([]secret{a.cfg.EncryptionKey}, a.cfg.PreviousKeys...))
}

// printKeyUsage prints, for rotate-key -dry-run, how many values each key
// encrypts. Values under a key that is not configured make it fail, as the
// rotation itself would.
func (a *app) printKeyUsage(ctx context.Context, db *postgres.DB, keys *postgres.Keyring) error {
	usage, err := db.KeyUsage(ctx)
	if err != nil {
		return err
	}
	values := map[string]int64{}
	domains := map[string]int{}
	for _, u := range usage {
		values[u.KeyID] += u.Values
		domains[u.KeyID]++
	}
	ids := keys.IDs()
	for id := range values {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KEY ID\tSTATE\tVALUES\tDOMAINS")
	var toRotate int64
	var missing []postgres.KeyUsage
	for i, id := range ids {
		state := "previous"
		switch _, ok := keys.Lookup(id); {
		case i == 0:
			state = "current"
		case !ok:
			state = "NOT CONFIGURED"
		default:
			toRotate += values[id]
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\n", id, state, values[id], domains[id])
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, u := range usage {
		if _, ok := keys.Lookup(u.KeyID); !ok {
			missing = append(missing, u)
		}
	}
	fmt.Fprintf(a.stdout, "a rotation would re-encrypt %d values with the current key %s (dry run: nothing was changed)\n", toRotate, keys.Current().ID())
	if len(missing) > 0 {
		return &postgres.KeyNotConfiguredError{Usage: missing}
	}
	return nil
}

func runVerifyEncryption(ctx context.Context, a *app, args []string) error {
	batchSize := postgres.DefaultBatchSize
	if _, err := a.parseFlags(args, func(fs *flag.FlagSet) {
		fs.IntVar(&batchSize, "batch-size", batchSize, "values checked per statement")
	}); err != nil {
		return err
	}
	if batchSize < 1 {
		return fmt.Errorf("%w: -batch-size must be at least 1", errUsage)
	}
	db, err := a.openDatabase(ctx, true)
	if err != nil {
		return err
	}
	defer db.Close()
	meter := a.newProgressMeter("checked")
	res, err := db.VerifyEncryption(ctx, postgres.VerifyOptions{
		BatchSize: batchSize,
		Progress:  meter.update,
		Failure: func(f *postgres.EncryptionFailure) {
			meter.clear()
			fmt.Fprintln(a.stdout, f.Error())
		},
	})
	meter.end()
	if err != nil {
		return err
	}
	if res.Failed > 0 {
		return fmt.Errorf("%d of %d encrypted values cannot be decrypted (listed above)", res.Failed, res.Checked)
	}
	fmt.Fprintf(a.stdout, "checked %d encrypted values: every one decrypts\n", res.Checked)
	return nil
}

// How often progress is shown: redrawn in place on a terminal, logged as
// a line otherwise (a log collector wants few lines).
const (
	progressRedrawEvery = 200 * time.Millisecond
	progressLogEvery    = 10 * time.Second
)

// progressMeter shows how far a long run has come: done/total, rate and
// time left.
type progressMeter struct {
	verb     string
	terminal io.Writer // the terminal, or nil to log instead
	log      *slog.Logger
	start    time.Time
	shown    time.Time // when progress was last shown
	drawn    bool      // a line is on the terminal
	last     postgres.Progress
}

// newProgressMeter shows progress on stderr when it is a terminal, and in
// the log otherwise.
func (a *app) newProgressMeter(verb string) *progressMeter {
	m := &progressMeter{verb: verb, log: a.log, start: time.Now()}
	if isTerminal(a.stderr) {
		m.terminal = a.stderr
	}
	return m
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// update records p and shows it when it is time to.
func (m *progressMeter) update(p postgres.Progress) {
	m.last = p
	every := progressLogEvery
	if m.terminal != nil {
		every = progressRedrawEvery
	}
	if now := time.Now(); m.shown.IsZero() || now.Sub(m.shown) >= every {
		m.shown = now
		m.show()
	}
}

// end shows the final state and ends the terminal line.
func (m *progressMeter) end() {
	m.show()
	if m.drawn {
		fmt.Fprintln(m.terminal)
		m.drawn = false
	}
}

// clear removes the progress line from the terminal, so that other output
// starts on a clean line; the next update draws it again.
func (m *progressMeter) clear() {
	if m.drawn {
		fmt.Fprint(m.terminal, "\r\033[K")
		m.drawn = false
		m.shown = time.Time{}
	}
}

func (m *progressMeter) show() {
	p := m.last
	elapsed := time.Since(m.start)
	rate := float64(p.Done) / elapsed.Seconds()
	left, leftKnown := time.Duration(0), rate > 0
	if leftKnown {
		left = time.Duration(float64(max(p.Total-p.Done, 0)) / rate * float64(time.Second))
	}
	if m.terminal == nil {
		// Durations in the log are in milliseconds, like every other.
		attrs := []any{"what", m.verb, "done", p.Done, "total", p.Total, "per_second", int64(rate), "elapsed_ms", elapsed.Milliseconds()}
		if leftKnown {
			attrs = append(attrs, "left_ms", left.Milliseconds())
		}
		m.log.Info("progress", attrs...)
		return
	}
	percent := int64(100)
	if p.Total > 0 {
		percent = min(100*p.Done/p.Total, 100)
	}
	shownLeft := "unknown"
	if leftKnown {
		shownLeft = left.Round(time.Second).String()
	}
	fmt.Fprintf(m.terminal, "\r\033[K%s %d of %d values (%d%%), %d values/s, %s left",
		m.verb, p.Done, p.Total, percent, int64(rate), shownLeft)
	m.drawn = true
}
