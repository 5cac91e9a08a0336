package cloudsim

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
)

// The journal and the ledger are files of JSON lines appended to as calls
// commit. A process killed mid-append leaves a torn last line without its
// newline: that call was not answered, so the line is dropped on open and
// the next append starts a line of its own.

// readIfExists reads path; a missing file reads as empty.
func readIfExists(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// eachLine calls each for every complete line of data and returns the
// length of the complete prefix (a torn last line is not passed).
func eachLine(data []byte, each func(line []byte) error) (int, error) {
	good := 0
	for good < len(data) {
		end := bytes.IndexByte(data[good:], '\n')
		if end < 0 {
			break // torn line
		}
		if err := each(data[good : good+end]); err != nil {
			return 0, err
		}
		good += end + 1
	}
	return good, nil
}

// openAppend opens path for appending after its first good bytes, cutting
// off a torn tail.
func openAppend(path string, good int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(int64(good)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// closeOnce closes *f unless it is nil or closed already.
func closeOnce(f **os.File) error {
	if *f == nil {
		return nil
	}
	err := (*f).Close()
	*f = nil
	return err
}
