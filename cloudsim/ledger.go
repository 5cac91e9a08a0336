package cloudsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/imagefleet/imagefleet/cloud"
)

const ledgerFile = "ledger.jsonl"

// ledger is the append-only record of side effects: in memory for
// GET /admin/ledger, and in DataDir/ledger.jsonl, one JSON entry per line.
type ledger struct {
	file    *os.File // nil without a data directory
	entries []cloud.LedgerEntry
}

// openLedger loads dir/ledger.jsonl. A torn last line (a crash mid-append) is
// cut off so that later appends start on a line of their own.
func openLedger(dir string) (*ledger, error) {
	l := &ledger{}
	if dir == "" {
		return l, nil
	}
	path := filepath.Join(dir, ledgerFile)
	data, err := readIfExists(path)
	if err != nil {
		return nil, err
	}
	good, err := eachLine(data, func(line []byte) error {
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
		var e cloud.LedgerEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("%s: corrupt entry after seq %d: %w", path, l.lastSeq(), err)
		}
		l.entries = append(l.entries, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if l.file, err = openAppend(path, good); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *ledger) lastSeq() int64 {
	if len(l.entries) == 0 {
		return 0
	}
	return l.entries[len(l.entries)-1].Seq
}

// append records entries in memory and on disk (one write, synced).
func (l *ledger) append(entries []cloud.LedgerEntry) error {
	if len(entries) == 0 {
		return nil
	}
	l.entries = append(l.entries, entries...)
	if l.file == nil {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	if _, err := l.file.Write(buf.Bytes()); err != nil {
		return err
	}
	return l.file.Sync()
}

// recover appends the entries of the last mutation that the state holds
// but the ledger file lacks (a crash between the two writes).
func (l *ledger) recover(st *state) error {
	last := l.lastSeq()
	var missing []cloud.LedgerEntry
	for _, e := range st.LastLedger {
		if e.Seq > last {
			missing = append(missing, e)
		}
	}
	if err := l.append(missing); err != nil {
		return err
	}
	// A ledger ahead of the state (restored from elsewhere) keeps Seq increasing.
	st.LedgerSeq = max(st.LedgerSeq, l.lastSeq())
	return nil
}

func (l *ledger) snapshot() []cloud.LedgerEntry {
	return append([]cloud.LedgerEntry(nil), l.entries...)
}

func (l *ledger) close() error { return closeOnce(&l.file) }
