package cloudsim

// SetVerifyJournal turns the per-call journal check (on in tests) on or off,
// for benchmarks that measure the cost of persisting; it returns the
// previous setting.
func SetVerifyJournal(on bool) bool { return verifyJournal.Swap(on) }
