package config

import (
	"fmt"
	"os"

	"github.com/cipconform/cipconform/spec"
)

// Profiles are the contracts this configuration judges its target against: the one named by
// Profile; else the one the target's base URL tells; else, for the embedded reference, every
// embedded profile. A Spec document replaces the profile's document (the facts stay).
func (c Config) Profiles() ([]spec.Profile, error) {
	var profiles []spec.Profile
	switch {
	case c.Profile != "":
		p, err := spec.LookupProfile(c.Profile)
		if err != nil {
			return nil, fmt.Errorf("%sPROFILE: %w", EnvPrefix, err)
		}
		profiles = []spec.Profile{p}
	case c.Target != "":
		p, err := spec.ProfileFor(c.Target)
		if err != nil {
			return nil, err
		}
		profiles = []spec.Profile{p}
	default:
		profiles = spec.Profiles()
	}
	if c.Spec == "" {
		return profiles, nil
	}
	if len(profiles) != 1 {
		return nil, fmt.Errorf("%sSPEC %s: say which contract it refines with %sPROFILE (%v) or a target", EnvPrefix, c.Spec, EnvPrefix, spec.ProfileNames())
	}
	data, err := os.ReadFile(c.Spec)
	if err != nil {
		return nil, fmt.Errorf("%sSPEC: %w", EnvPrefix, err)
	}
	p, err := profiles[0].WithDocument(c.Spec, data)
	if err != nil {
		return nil, err
	}
	return []spec.Profile{p}, nil
}

// OneProfile is the single profile of a configuration that judges one (a target, or a
// profile given); with the embedded reference and no profile, the first embedded one.
func (c Config) OneProfile() (spec.Profile, error) {
	profiles, err := c.Profiles()
	if err != nil {
		return spec.Profile{}, err
	}
	return profiles[0], nil
}
