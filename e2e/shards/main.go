// Command shards runs the end-to-end tests (package e2e) in several `go
// test` processes at once. Each process's TestMain starts a dev server of its
// own on free ports, so the shards do not share a task queue; most of an
// end-to-end test's time is spent waiting on timers and polls, so two shards
// take about half the wall time of one even on two cores.
//
//	go run ./e2e/shards --shards 2 -- -race -count=1 -timeout 40m
//
// Tests are dealt to the shards in name order, round robin; every line a
// shard prints is prefixed with its number, and the command fails when any
// shard fails.
package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var (
		shards int
		dir    string
	)
	cmd := &cobra.Command{
		Use:   "shards [--shards N] [-- go test flags]",
		Short: "Run the end-to-end tests in N go test processes at once",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, testFlags []string) error {
			if shards < 1 {
				return usageError{fmt.Errorf("--shards must be at least 1, not %d", shards)}
			}
			tests, err := testNames(dir)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runShards(ctx, dir, deal(tests, shards), testFlags, stdout)
		},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.Flags().IntVar(&shards, "shards", 2, "how many go test processes run at once")
	cmd.Flags().StringVar(&dir, "dir", "./e2e", "the package of the end-to-end tests")
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(stderr, "shards:", err)
		if _, ok := err.(usageError); ok || strings.Contains(err.Error(), "flag") {
			return 2
		}
		return 1
	}
	return 0
}

type usageError struct{ error }

var testFunc = regexp.MustCompile(`(?m)^func (Test[A-Za-z0-9_]*)\(t \*testing\.T\)`)

// testNames lists the package's top-level tests from its sources (the test
// binary cannot list them without its TestMain starting a dev server).
func testNames(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, m := range testFunc.FindAllSubmatch(src, -1) {
			names = append(names, string(m[1]))
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no tests in %s", dir)
	}
	slices.Sort(names)
	return names, nil
}

// deal gives test i to shard i mod n, leaving out empty shards.
func deal(tests []string, n int) [][]string {
	out := make([][]string, min(n, len(tests)))
	for i, t := range tests {
		out[i%len(out)] = append(out[i%len(out)], t)
	}
	return out
}

func runShards(ctx context.Context, dir string, shards [][]string, testFlags []string, stdout io.Writer) error {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex // one line at a time on stdout
		failed []string
	)
	for i, tests := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prefix := fmt.Sprintf("[e2e %d/%d] ", i+1, len(shards))
			args := append([]string{"test"}, testFlags...)
			args = append(args, "-run", "^("+strings.Join(tests, "|")+")$", dir)
			c := exec.CommandContext(ctx, "go", args...)
			c.Stdin = nil
			out, err := c.StdoutPipe()
			if err == nil {
				c.Stderr = c.Stdout
				err = c.Start()
			}
			if err == nil {
				sc := bufio.NewScanner(out)
				sc.Buffer(make([]byte, 1<<20), 1<<20)
				for sc.Scan() {
					mu.Lock()
					fmt.Fprintln(stdout, prefix+sc.Text())
					mu.Unlock()
				}
				err = c.Wait()
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, fmt.Sprintf("shard %d (%s): %v", i+1, cmp.Or(strings.Join(tests, ","), "-"), err))
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		slices.Sort(failed)
		return fmt.Errorf("%d of %d shards failed:\n  %s", len(failed), len(shards), strings.Join(failed, "\n  "))
	}
	return nil
}
