package cloudsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
)

// Persistence: state.json is a snapshot, journal.jsonl holds one line per
// mutating call since, with the new value of every record the call touched
// (see call.touch). Appending a line costs what the call changed, not the
// size of the state; the snapshot is rewritten (and the journal emptied)
// only when the journal has grown past the snapshot, so its cost is
// amortised over as many bytes of journal.
const (
	journalFile = "journal.jsonl"
	// minCompactSize: a small state is not rewritten every few lines.
	minCompactSize = 1 << 20
)

// journalLine is one committed mutating call.
type journalLine struct {
	// Seq orders the lines; the snapshot's state.JournalSeq is the last line
	// it includes, so lines left behind by a crash during compaction are
	// skipped on load.
	Seq int64
	// Set holds the new value of touched records by table and key
	// ("Images", "Build.Vpcs"; see tables), Del the touched keys that no
	// longer exist.
	Set map[string]map[string]json.RawMessage `json:",omitempty"`
	Del map[string][]string                   `json:",omitempty"`
	// Entries are changed entries of maps inside records (touchEntry).
	Entries []entryChange `json:",omitempty"`
	// Events are appended to state.Events (the event log only grows).
	Events     []cloud.Event `json:",omitempty"`
	LedgerSeq  int64
	LastLedger []cloud.LedgerEntry `json:",omitempty"`
}

// tables returns st's record maps by name, nested structs (Build) included:
// the units the journal records. Every map of state is a table, so a new
// resource type needs nothing here.
func (st *state) tables() map[string]reflect.Value {
	out := map[string]reflect.Value{}
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		for i := range v.NumField() {
			f, fv := v.Type().Field(i), v.Field(i)
			switch {
			case !f.IsExported():
			case f.Type.Kind() == reflect.Map:
				if f.Type.Key().Kind() != reflect.String {
					panic("cloudsim: state map " + prefix + f.Name + " is not keyed by string")
				}
				out[prefix+f.Name] = fv
			case f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Time]():
				walk(prefix+f.Name+".", fv)
			}
		}
	}
	walk("", reflect.ValueOf(st).Elem())
	return out
}

// touchedRecord is a record a call changed, added or deleted, or with
// inner set: an entry of a map inside that record.
type touchedRecord struct {
	table    any // the map, as passed to touch
	key      string
	inner    any // touchEntry's map inside the record
	innerKey string
}

// entryChange is the new value of an entry of a map inside a record, the
// map being the record's field Field; no Value: the entry was deleted.
type entryChange struct {
	Table, Key, Field, EntryKey string
	Value                       json.RawMessage `json:",omitempty"`
}

// touch tells the pipeline that a mutating handler changed, added or
// deleted the records with keys in table (a map of c.st, e.g. c.st.Images):
// only touched records are persisted. In tests every mutating call checks
// that nothing else changed (Config.VerifyJournal).
func (c *call) touch(table any, keys ...string) {
	for _, k := range keys {
		c.touched = append(c.touched, touchedRecord{table: table, key: k})
	}
}

// touchEntry is touch for one entry of a map inside a record (a scaling
// group's member, a load balancer's weight), so that a call changing one of
// many entries does not save the whole record: inner is a map field of
// table[key], innerKey its entry that was changed, added or deleted.
func (c *call) touchEntry(table any, key string, inner any, innerKey string) {
	c.touched = append(c.touched, touchedRecord{table, key, inner, innerKey})
}

// journalLineOf builds the line of a call that succeeded; eventsBefore is
// len(st.Events) before it ran.
func journalLineOf(st *state, c *call, eventsBefore int) (*journalLine, error) {
	line := &journalLine{Seq: st.JournalSeq + 1, LedgerSeq: st.LedgerSeq, LastLedger: st.LastLedger}
	if len(st.Events) > eventsBefore {
		line.Events = st.Events[eventsBefore:]
	}
	if len(c.touched) == 0 {
		return line, nil
	}
	tables := st.tables()
	names := make(map[uintptr]string, len(tables))
	for name, m := range tables {
		names[m.Pointer()] = name
	}
	type recordKey struct{ table, key string }
	whole := map[recordKey]bool{}
	type entry struct {
		table string
		t     touchedRecord
	}
	var entries []entry
	for _, t := range c.touched {
		m := reflect.ValueOf(t.table)
		name, ok := "", m.Kind() == reflect.Map
		if ok {
			name, ok = names[m.Pointer()]
		}
		if !ok {
			return nil, fmt.Errorf("cloudsim bug: %s touched a %T that is not a map of the state", c.action, t.table)
		}
		if t.inner != nil {
			entries = append(entries, entry{name, t}) // after the whole records
			continue
		}
		if whole[recordKey{name, t.key}] {
			continue
		}
		whole[recordKey{name, t.key}] = true
		v := m.MapIndex(reflect.ValueOf(t.key))
		if !v.IsValid() {
			if line.Del == nil {
				line.Del = map[string][]string{}
			}
			line.Del[name] = append(line.Del[name], t.key)
			continue
		}
		raw, err := json.Marshal(v.Interface())
		if err != nil {
			return nil, err
		}
		if line.Set == nil {
			line.Set = map[string]map[string]json.RawMessage{}
		}
		if line.Set[name] == nil {
			line.Set[name] = map[string]json.RawMessage{}
		}
		line.Set[name][t.key] = raw
	}
	type entryKey struct{ table, key, field, entry string }
	done := map[entryKey]bool{}
	for _, en := range entries {
		name, t := en.table, en.t
		if whole[recordKey{name, t.key}] {
			continue // saved whole
		}
		rec := reflect.Indirect(tables[name].MapIndex(reflect.ValueOf(t.key)))
		field := ""
		if rec.Kind() == reflect.Struct {
			for _, f := range reflect.VisibleFields(rec.Type()) {
				if v := rec.FieldByIndex(f.Index); f.IsExported() && v.Kind() == reflect.Map && v.Pointer() == reflect.ValueOf(t.inner).Pointer() {
					field = f.Name
					break
				}
			}
		}
		if field == "" {
			return nil, fmt.Errorf("cloudsim bug: %s touched an entry of a map that is not a field of %s[%s]", c.action, name, t.key)
		}
		k := entryKey{name, t.key, field, t.innerKey}
		if done[k] {
			continue
		}
		done[k] = true
		e := entryChange{Table: name, Key: t.key, Field: field, EntryKey: t.innerKey}
		if v := reflect.ValueOf(t.inner).MapIndex(reflect.ValueOf(t.innerKey)); v.IsValid() {
			raw, err := json.Marshal(v.Interface())
			if err != nil {
				return nil, err
			}
			e.Value = raw
		}
		line.Entries = append(line.Entries, e)
	}
	return line, nil
}

// apply replays a line onto st.
func (st *state) apply(line *journalLine) error {
	tables := st.tables()
	for name, records := range line.Set {
		m, ok := tables[name]
		if !ok {
			return fmt.Errorf("journal line %d: no table %q", line.Seq, name)
		}
		for k, raw := range records {
			v := reflect.New(m.Type().Elem())
			if err := json.Unmarshal(raw, v.Interface()); err != nil {
				return fmt.Errorf("journal line %d: %s[%s]: %w", line.Seq, name, k, err)
			}
			m.SetMapIndex(reflect.ValueOf(k), v.Elem())
		}
	}
	for name, keys := range line.Del {
		m, ok := tables[name]
		if !ok {
			return fmt.Errorf("journal line %d: no table %q", line.Seq, name)
		}
		for _, k := range keys {
			m.SetMapIndex(reflect.ValueOf(k), reflect.Value{})
		}
	}
	for _, e := range line.Entries {
		m, ok := tables[e.Table]
		if !ok {
			return fmt.Errorf("journal line %d: no table %q", line.Seq, e.Table)
		}
		rec := m.MapIndex(reflect.ValueOf(e.Key))
		if !rec.IsValid() || rec.Kind() != reflect.Pointer || rec.Elem().Kind() != reflect.Struct {
			return fmt.Errorf("journal line %d: no record %s[%s]", line.Seq, e.Table, e.Key)
		}
		f := rec.Elem().FieldByName(e.Field)
		if f.Kind() != reflect.Map {
			return fmt.Errorf("journal line %d: %s[%s] has no map %s", line.Seq, e.Table, e.Key, e.Field)
		}
		if f.IsNil() {
			f.Set(reflect.MakeMap(f.Type()))
		}
		if e.Value == nil {
			f.SetMapIndex(reflect.ValueOf(e.EntryKey), reflect.Value{})
			continue
		}
		v := reflect.New(f.Type().Elem())
		if err := json.Unmarshal(e.Value, v.Interface()); err != nil {
			return fmt.Errorf("journal line %d: %s[%s].%s[%s]: %w", line.Seq, e.Table, e.Key, e.Field, e.EntryKey, err)
		}
		f.SetMapIndex(reflect.ValueOf(e.EntryKey), v.Elem())
	}
	st.Events = append(st.Events, line.Events...)
	st.LedgerSeq, st.LastLedger, st.JournalSeq = line.LedgerSeq, line.LastLedger, line.Seq
	return nil
}

// store keeps the snapshot and the journal on disk (none without a data
// directory) and in memory: a failed mutation is undone by reloading them,
// which is rare, so the hot path keeps no undo information.
type store struct {
	dir        string
	file       *os.File // the journal, open for appending
	snapshot   []byte
	journal    []byte // the lines since the snapshot
	minCompact int    // minCompactSize; tests lower it
}

// openStore loads the state from dir: the snapshot, then the journal lines
// it does not include. found is false when there is no state yet. A torn
// last line (a crash mid-append) is cut off: its call was not answered.
func openStore(dir string) (s *store, st *state, found bool, err error) {
	s = &store{dir: dir, minCompact: minCompactSize}
	if dir == "" {
		return s, newState(), false, nil
	}
	if s.snapshot, err = os.ReadFile(filepath.Join(dir, stateFile)); errors.Is(err, fs.ErrNotExist) {
		st = newState()
	} else if err != nil {
		return nil, nil, false, err
	} else if st, err = decodeState(s.snapshot); err != nil {
		return nil, nil, false, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	} else {
		found = true
	}
	path := filepath.Join(dir, journalFile)
	data, err := readIfExists(path)
	if err != nil {
		return nil, nil, false, err
	}
	good, err := eachLine(data, func(b []byte) error {
		var line journalLine
		if err := json.Unmarshal(b, &line); err != nil {
			return fmt.Errorf("%s: corrupt line after %d: %w", path, st.JournalSeq, err)
		}
		if line.Seq <= st.JournalSeq {
			return nil // the snapshot holds it already
		}
		if err := st.apply(&line); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, false, err
	}
	s.journal = data[:good]
	if s.file, err = openAppend(path, good); err != nil {
		return nil, nil, false, err
	}
	return s, st, found, nil
}

// compact makes st the snapshot and empties the journal. The snapshot is
// replaced first: a crash before the journal is emptied leaves lines it
// already includes (JournalSeq), which loading skips.
func (s *store) compact(st *state) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if s.file != nil {
		if err := writeFileAtomic(filepath.Join(s.dir, stateFile), data); err != nil {
			return err
		}
		if err := s.file.Truncate(0); err != nil {
			return err
		}
	}
	s.snapshot, s.journal = data, nil
	return nil
}

// append writes one line (one write, not fsynced: see writeFileAtomic).
func (s *store) append(line *journalLine) error {
	data, err := json.Marshal(line)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if s.file != nil {
		if _, err := s.file.Write(data); err != nil {
			// Do not leave a partial line for the next one to follow.
			_ = s.file.Truncate(int64(len(s.journal)))
			return err
		}
	}
	s.journal = append(s.journal, data...)
	return nil
}

// needsCompaction: the journal has outgrown the snapshot, so replaying it
// costs more than rewriting the snapshot would.
func (s *store) needsCompaction() bool {
	return len(s.journal) > max(len(s.snapshot), s.minCompact)
}

// load decodes the state the store holds: the snapshot and the journal.
func (s *store) load() (*state, error) {
	st, err := decodeState(s.snapshot)
	if err != nil {
		return nil, err
	}
	_, err = eachLine(s.journal, func(b []byte) error {
		var line journalLine
		if err := json.Unmarshal(b, &line); err != nil {
			return err
		}
		return st.apply(&line)
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

func (s *store) close() error { return closeOnce(&s.file) }

// verify compares st with shadow (the state loaded from the store) plus
// line, and says what differs.
func verify(shadow, st *state, line *journalLine, action string) error {
	if err := shadow.apply(line); err != nil {
		return err
	}
	want, err := json.Marshal(st)
	if err != nil {
		return err
	}
	got, err := json.Marshal(shadow)
	if err != nil {
		return err
	}
	if bytes.Equal(got, want) {
		return nil
	}
	diff := "a field outside the state's maps"
	stTables := st.tables()
	for name, m := range shadow.tables() {
		a, _ := json.Marshal(m.Interface())
		b, _ := json.Marshal(stTables[name].Interface())
		if !bytes.Equal(a, b) {
			diff = "table " + name
			for _, k := range stTables[name].MapKeys() {
				old := m.MapIndex(k)
				if !old.IsValid() {
					diff += fmt.Sprintf(", key %q", k)
					break
				}
				a, _ := json.Marshal(old.Interface())
				b, _ := json.Marshal(stTables[name].MapIndex(k).Interface())
				if !bytes.Equal(a, b) {
					diff += fmt.Sprintf(", key %q", k)
					break
				}
			}
			break
		}
	}
	return fmt.Errorf("cloudsim bug: %s changed %s without call.touch", action, diff)
}
