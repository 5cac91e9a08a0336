package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/internal/telemetry"
)

// maxWorkers is how many consecutive metrics ports `devstack metrics` looks at.
const maxWorkers = 16

// printMetrics prints a snapshot of the metrics at urls (comma-separated)
// or, without urls, of the local stack's workers: those answering on
// firstPort, firstPort+1, … .
func printMetrics(ctx context.Context, firstPort int, urls string) error {
	var list []string
	if urls != "" {
		list = strings.Split(urls, ",")
	} else {
		if firstPort < 0 {
			return errors.New("the stack serves no metrics (--metrics-port -1)")
		}
		for port := firstPort; port < firstPort+maxWorkers; port++ {
			addr := "127.0.0.1:" + strconv.Itoa(port)
			if conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
				conn.Close()
				list = append(list, "http://"+addr+"/metrics")
			}
		}
		if len(list) == 0 {
			return fmt.Errorf("no worker serves metrics on 127.0.0.1:%d-%d: is the stack up (`go tool task up`)?", firstPort, firstPort+maxWorkers-1)
		}
	}
	snap, err := telemetry.Scrape(ctx, list)
	if err != nil {
		return err
	}
	if err := snap.Print(os.Stdout); err != nil {
		return err
	}
	if len(snap.Skipped) > 0 {
		// The figures above lack those workers' counts: say so where a
		// script looks (the exit code) as well as in the output.
		return fmt.Errorf("%d of %d metrics endpoints did not answer and are not counted: %s",
			len(snap.Skipped), len(list), strings.Join(snap.Skipped, "; "))
	}
	return nil
}
