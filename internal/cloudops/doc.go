// Package cloudops holds the steps on the cloud that both the starter and
// the activities take: the checks a spec must pass before a run starts (the
// starter refuses bad input at the door; the workflow checks again as an
// activity, since any client may start it), and the staging of a package's
// content before its draft is created.
//
// The functions take the cloud's service interfaces and return cloud wire
// types or plain errors; they know nothing of Temporal. The activities wrap
// them, mapping errors to retryable or non-retryable application errors and
// wire types to what the workflows see. The starter calls them directly, so
// it needs neither the activities nor the simulated cloud.
package cloudops
