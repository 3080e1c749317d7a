package config

import (
	"fmt"

	"github.com/cipconform/cipconform/fixtures/identity"
)

// Role is one identity a run can have: a row of the role table (Roles), which every place that
// deals with identities reads. Adding a role is a row in the table plus its settings in Config
// (CIP_TOKEN_<Suffix> and CIP_TOKEN_<Suffix>_FILE; with client credentials, also
// CIP_<Suffix>_CLIENT_ID, _CLIENT_SECRET and _CLIENT_SECRET_FILE).
type Role struct {
	Name        string // how checks and messages name it: "admin"
	Suffix      string // of its variables: CIP_TOKEN_ADMIN, CIP_ADMIN_CLIENT_ID
	Description string // who it is: "a Security Administrator"
	// settings points at the role's settings in a Config.
	settings func(c *Config) RoleSettings
	// minted is the role's token among those an embedded target mints.
	minted func(t identity.Tokens) string
}

// RoleSettings point at one role's settings in a Config.
type RoleSettings struct {
	Token     *Secret
	TokenFile *string
	// The client credentials; all nil for a role that has none (the expired one).
	ClientID         *string
	ClientSecret     *Secret
	ClientSecretFile *string
}

// The roles, each a row of Roles.
var (
	Admin = Role{Name: "admin", Suffix: "ADMIN", Description: "a Security Administrator",
		settings: func(c *Config) RoleSettings {
			return RoleSettings{&c.TokenAdmin, &c.TokenAdminFile, &c.AdminClientID, &c.AdminClientSecret, &c.AdminClientSecretFile}
		},
		minted: func(t identity.Tokens) string { return t.Admin }}
	GlobalAdmin = Role{Name: "global-admin", Suffix: "GLOBAL_ADMIN", Description: "a Global Administrator",
		settings: func(c *Config) RoleSettings {
			return RoleSettings{&c.TokenGlobalAdmin, &c.TokenGlobalAdminFile, &c.GlobalAdminClientID, &c.GlobalAdminClientSecret, &c.GlobalAdminClientSecretFile}
		},
		minted: func(t identity.Tokens) string { return t.GlobalAdmin }}
	Reader = Role{Name: "reader", Suffix: "READER", Description: "a valid identity without permission, e.g. a Security Reader",
		settings: func(c *Config) RoleSettings {
			return RoleSettings{&c.TokenReader, &c.TokenReaderFile, &c.ReaderClientID, &c.ReaderClientSecret, &c.ReaderClientSecretFile}
		},
		minted: func(t identity.Tokens) string { return t.Reader }}
	Expired = Role{Name: "expired", Suffix: "EXPIRED", Description: "an expired token of the target's issuer",
		settings: func(c *Config) RoleSettings {
			return RoleSettings{Token: &c.TokenExpired, TokenFile: &c.TokenExpiredFile}
		},
		minted: func(t identity.Tokens) string { return t.Expired }}
)

// Roles is the role table, in the order settings, messages and exported variables list them.
var Roles = []Role{Admin, GlobalAdmin, Reader, Expired}

// LookupRole returns the role with this name.
func LookupRole(name string) (Role, bool) {
	for _, r := range Roles {
		if r.Name == name {
			return r, true
		}
	}
	return Role{}, false
}

func (r Role) String() string { return r.Name }

// In points at the role's settings in c.
func (r Role) In(c *Config) RoleSettings {
	if r.settings == nil {
		return RoleSettings{Token: new(Secret), TokenFile: new(string)}
	}
	return r.settings(c)
}

// HasClientCredentials reports whether the role can be given client credentials instead of a token.
func (r Role) HasClientCredentials() bool { return r.In(&Config{}).ClientID != nil }

// Configured reports whether c gives the role an identity: a token or client credentials.
func (r Role) Configured(c Config) bool {
	s := r.In(&c)
	return *s.Token != "" || (s.ClientID != nil && *s.ClientID != "")
}

// Minted is the role's token among those an embedded target minted ("" if it mints none).
func (r Role) Minted(t identity.Tokens) string {
	if r.minted == nil {
		return ""
	}
	return r.minted(t)
}

// TokenEnv is the variable of the role's token: CIP_TOKEN_ADMIN.
func (r Role) TokenEnv() string { return EnvPrefix + "TOKEN_" + r.Suffix }

// ClientIDEnv is the variable of the role's client id: CIP_ADMIN_CLIENT_ID.
func (r Role) ClientIDEnv() string { return EnvPrefix + r.Suffix + "_CLIENT_ID" }

// ClientSecretEnv is the variable of the role's client secret: CIP_ADMIN_CLIENT_SECRET.
func (r Role) ClientSecretEnv() string { return EnvPrefix + r.Suffix + "_CLIENT_SECRET" }

// Hint names the settings that give the role an identity, for messages that say what to set
// or check.
func (r Role) Hint() string {
	if !r.HasClientCredentials() {
		return r.TokenEnv()
	}
	return fmt.Sprintf("%s or %s and its secret", r.TokenEnv(), r.ClientIDEnv())
}
