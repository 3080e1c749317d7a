package config_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/fixtures/identity"
	"github.com/cipconform/cipconform/suites/config"
)

// envOf names the Config field that p points at, by its variable.
func envOf(t *testing.T, cfg *config.Config, p any) string {
	t.Helper()
	v := reflect.ValueOf(cfg).Elem()
	for i, f := range config.Fields() {
		if v.Field(i).Addr().Pointer() == reflect.ValueOf(p).Pointer() {
			return f.Env
		}
	}
	t.Fatalf("%T points at no field of the Config", p)
	return ""
}

// Each row points at the settings its suffix names, and every identity setting of the Config
// belongs to a row: a role added to one but not the other fails here.
func TestTheRoleTableMatchesTheSettings(t *testing.T) {
	var cfg config.Config
	covered := map[string]bool{}
	names := map[string]bool{}
	for _, r := range config.Roles {
		if names[r.Name] || r.Name == "" || r.Suffix == "" || r.Description == "" {
			t.Errorf("row %+v: a unique name, a suffix and a description, please", r)
		}
		names[r.Name] = true
		if got, ok := config.LookupRole(r.Name); !ok || got.Name != r.Name {
			t.Errorf("LookupRole(%q) = %v, %v", r.Name, got, ok)
		}
		s := r.In(&cfg)
		want := map[string]any{r.TokenEnv(): s.Token, r.TokenEnv() + "_FILE": s.TokenFile}
		if r.HasClientCredentials() {
			if s.ClientSecret == nil || s.ClientSecretFile == nil {
				t.Fatalf("%s: a client id without a secret setting", r)
			}
			want[r.ClientIDEnv()], want[r.ClientSecretEnv()], want[r.ClientSecretEnv()+"_FILE"] = s.ClientID, s.ClientSecret, s.ClientSecretFile
		}
		for env, p := range want {
			if got := envOf(t, &cfg, p); got != env {
				t.Errorf("%s: points at %s for %s", r, got, env)
			}
			covered[env] = true
		}
	}
	for _, f := range config.Fields() {
		role := strings.HasPrefix(f.Env, "CIP_TOKEN_") && f.Env != "CIP_TOKEN_URL" || strings.Contains(f.Env, "_CLIENT_")
		if role != covered[f.Env] {
			t.Errorf("%s: in the role table %v, an identity setting %v", f.Env, covered[f.Env], role)
		}
	}
	if _, ok := config.LookupRole("nobody"); ok {
		t.Error("LookupRole found a role that is not in the table")
	}
}

func TestEachRoleHasItsMintedToken(t *testing.T) {
	tokens := identity.Tokens{Admin: "a", GlobalAdmin: "g", Reader: "r", Expired: "e"}
	var got []string
	for _, r := range config.Roles {
		got = append(got, r.Minted(tokens))
	}
	if !slices.Equal(got, []string{"a", "g", "r", "e"}) {
		t.Errorf("minted tokens by role: %q", got)
	}
}

func TestRoleMessagesNameTheirSettings(t *testing.T) {
	cases := []struct {
		role config.Role
		want string
	}{
		{config.Admin, "CIP_TOKEN_ADMIN or CIP_ADMIN_CLIENT_ID and its secret"},
		{config.GlobalAdmin, "CIP_TOKEN_GLOBAL_ADMIN or CIP_GLOBAL_ADMIN_CLIENT_ID and its secret"},
		{config.Reader, "CIP_TOKEN_READER or CIP_READER_CLIENT_ID and its secret"},
		{config.Expired, "CIP_TOKEN_EXPIRED"},
	}
	for _, c := range cases {
		if got := c.role.Hint(); got != c.want {
			t.Errorf("%s: %q, want %q", c.role, got, c.want)
		}
	}
	errors := map[string]struct {
		vars map[string]string
		want string
	}{
		"no admin":       {map[string]string{"CIP_TARGET": "https://x.example"}, "CIP_TOKEN_ADMIN (or CIP_TOKEN_ADMIN_FILE, or CIP_ADMIN_CLIENT_ID and its secret) is required with CIP_TARGET: a Security Administrator of the target"},
		"both":           {map[string]string{"CIP_TOKEN_READER": "token-12345678", "CIP_READER_CLIENT_ID": "r", "CIP_READER_CLIENT_SECRET": "secret-123456"}, "the reader has both CIP_TOKEN_READER and CIP_READER_CLIENT_ID: give a token or client credentials, not both"},
		"no secret":      {map[string]string{"CIP_GLOBAL_ADMIN_CLIENT_ID": "g"}, "CIP_GLOBAL_ADMIN_CLIENT_ID needs CIP_GLOBAL_ADMIN_CLIENT_SECRET (or CIP_GLOBAL_ADMIN_CLIENT_SECRET_FILE)"},
		"no client":      {map[string]string{"CIP_ADMIN_CLIENT_SECRET": "secret-123456"}, "CIP_ADMIN_CLIENT_SECRET is set without CIP_ADMIN_CLIENT_ID"},
		"value and file": {map[string]string{"CIP_TOKEN_EXPIRED": "token-12345678", "CIP_TOKEN_EXPIRED_FILE": "/nonexistent"}, "CIP_TOKEN_EXPIRED and CIP_TOKEN_EXPIRED_FILE are both set: give one"},
		"no file":        {map[string]string{"CIP_READER_CLIENT_SECRET_FILE": "/nonexistent"}, "CIP_READER_CLIENT_SECRET_FILE: open /nonexistent"},
	}
	for name, tc := range errors {
		if _, err := config.Load(nil, env(tc.vars)); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

func TestSecretsAreEveryRolesTokenAndClientSecret(t *testing.T) {
	cfg := config.Config{TokenAdmin: "t-admin", TokenExpired: "t-expired", ReaderClientSecret: "s-reader", GlobalAdminClientID: "not-a-secret"}
	if got := cfg.Secrets(); !slices.Equal(got, []string{"t-admin", "t-expired", "s-reader"}) {
		t.Errorf("%q", got)
	}
}
