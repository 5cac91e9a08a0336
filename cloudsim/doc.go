// Package cloudsim is the simulated cloud imagefleet runs against: an HTTP/JSON
// server speaking the wire protocol of package cloud (POST /api/{Action}, the
// calling account in the X-Imagefleet-Account header) with the behaviour of a
// real provider that matters to long-running workflows:
//
//   - asynchronous operations: an image copy returns at once and becomes
//     Available later. Progress is derived from stored timestamps when read, so
//     it continues in wall time while the process is down and a restart needs
//     no timers.
//   - idempotency: a mutating call with a ClientToken is answered from its
//     stored response when repeated (same resource, no new side effect); the
//     same token with a different request is refused.
//   - durability: before a mutating call is acknowledged, the records it
//     touched are appended to DataDir/journal.jsonl (one line per call), so a
//     kill -9 loses nothing acknowledged and a call costs what it changed,
//     not the size of the state. DataDir/state.json is a snapshot, replaced
//     atomically when the journal has outgrown it (journal.go).
//   - a side-effect ledger (DataDir/ledger.jsonl): one entry per state change,
//     for tests and operators to check that retries and replays did not
//     repeat a side effect.
//   - fault injection (throttling, transient errors, latency, region outages,
//     quota, failing copies), set in Config.Faults or at runtime through the
//     admin API (/admin/faults). Fault rules live in memory only: they are not
//     persisted, a restart starts with Config.Faults again.
//
// # Adding a service
//
// Each service lives in its own file (ecs_images.go, computenest.go):
//
//  1. add a map for its resources to state (state.go) and create it in
//     state.init (ensure), so older state files load too; a record that
//     belongs to an account in a region gets a scope method and a resource
//     name, so that findOwned and listOwned (lookup.go) find and list it,
//     and newID, pageOf and pageItems give it IDs and pages;
//  2. write handlers func(c *call, req *cloud.XRequest) (*cloud.XResponse, error)
//     that validate first and change c.st last, call c.touch(c.st.Xs, key)
//     for every record they add, change or delete (c.touchEntry for one
//     entry of a large map inside a record; only touched records are saved,
//     and with Config.VerifyJournal, on in cloudsimtest, a change without a
//     touch fails the call), and call
//     c.record for every side effect (the ledger);
//  3. register them in a registerX method called from New, with
//     registerQuery (read-only, runs under a read lock) or registerMutation
//     (runs under the write lock, idempotent through ClientToken, persisted).
//
// The pipeline (server.go) does the rest: request ID, account check, request
// decoding, faults, idempotency, locking, persistence, ledger, error bodies.
// A failed mutating handler has its state changes rolled back.
package cloudsim
