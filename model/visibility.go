package model

import (
	"slices"
)

// Visibility values of a package (the same strings as the cloud's).
const (
	VisibilityPrivate   = "Private"
	VisibilityPublic    = "Public"
	VisibilityWhitelist = "Whitelist"
)

// Permission is who may use a package's delivered images.
type Permission struct {
	Visibility string   `json:"visibility"`
	Accounts   []string `json:"accounts,omitempty"` // the whitelist
}

// AssociatedService is what visibility needs to know of a service.
type AssociatedService struct {
	ID        string
	Public    bool
	Whitelist []string
}

// PackagePermission derives a package's visibility from its associated
// services, as Compute Nest does: no service → private to the owner; at least
// one public service → public; services with whitelists → the same whitelist
// (the union, when several have one); all services private without one →
// private.
func PackagePermission(services []AssociatedService) Permission {
	var accounts []string
	for _, s := range services {
		if s.Public {
			return Permission{Visibility: VisibilityPublic}
		}
		accounts = append(accounts, s.Whitelist...)
	}
	if len(accounts) == 0 {
		return Permission{Visibility: VisibilityPrivate}
	}
	slices.Sort(accounts)
	return Permission{Visibility: VisibilityWhitelist, Accounts: slices.Compact(accounts)}
}
