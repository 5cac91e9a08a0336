package main

import "github.com/spf13/cobra"

// The demo and the simulated cloud's demo setups moved to devstack: the
// starter is a client of any Temporal cluster and cloud, and links no
// simulator code. These hidden commands only say where they went; they are
// deprecated and will be removed after one minor release.

func demoCommand(*app) *cobra.Command {
	return movedCommand("demo", "go tool task demo (bin/devstack demo)")
}

func blueGreenDemoSetupCommand(*app) *cobra.Command {
	return movedCommand("demo-setup", "bin/devstack setup-bluegreen-demo CLUSTER SERVICE")
}

// movedCommand is a hidden command that fails with where it went (exit
// code 2: nothing was done).
func movedCommand(name, instead string) *cobra.Command {
	return &cobra.Command{
		Use:                name,
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(*cobra.Command, []string) error {
			return invalid("%s moved out of the starter: run %s", name, instead)
		},
	}
}
