package cloud

import "net/http"

// SetTransport sends the client's requests through rt, e.g. one that traces
// and measures them (internal/telemetry). Call it before the client is used.
func (c *Client) SetTransport(rt http.RoundTripper) { c.http.Transport = rt }
