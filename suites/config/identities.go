package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// secretFile is a secret and the file setting that may hold it.
type secretFile struct {
	value *Secret
	file  *string
	env   string // the secret's variable: CIP_TOKEN_ADMIN
}

// secretFiles pairs each secret with the file setting that may hold it: the roles' tokens,
// then their client secrets.
func (c *Config) secretFiles() []secretFile {
	var out []secretFile
	for _, r := range Roles {
		s := r.In(c)
		out = append(out, secretFile{s.Token, s.TokenFile, r.TokenEnv()})
	}
	for _, r := range Roles {
		if s := r.In(c); s.ClientID != nil {
			out = append(out, secretFile{s.ClientSecret, s.ClientSecretFile, r.ClientSecretEnv()})
		}
	}
	return out
}

// readSecretFiles reads the secrets given as files; a secret given both ways is an error.
func (c *Config) readSecretFiles(given names) error {
	for _, s := range c.secretFiles() {
		if *s.file == "" {
			continue
		}
		if *s.value != "" {
			return fmt.Errorf("%s and %s are both set: give one", given.of(s.env), given.of(s.env+"_FILE"))
		}
		data, err := os.ReadFile(*s.file)
		if err != nil {
			return fmt.Errorf("%s: %w", given.of(s.env+"_FILE"), err)
		}
		value := strings.TrimSpace(string(data))
		if value == "" {
			return fmt.Errorf("%s %s is empty", given.of(s.env+"_FILE"), *s.file)
		}
		*s.value = Secret(value)
		given[s.env] = "the content of " + given.of(s.env+"_FILE")
		// The value now travels as the secret itself: a child process gets it through its
		// environment, never the path and the value both.
		*s.file = ""
	}
	return nil
}

// ClientCredentials are an application's credentials for one identity.
type ClientCredentials struct {
	ClientID     string
	ClientSecret string
	TokenURL     string
	Resource     string // v1 endpoint
	Scopes       []string
}

// Credentials returns the client credentials of an identity (a role's name: "admin",
// "global-admin", "reader"), if it has them instead of a static token.
func (c Config) Credentials(role string) (ClientCredentials, bool) {
	r, ok := LookupRole(role)
	if !ok || !r.HasClientCredentials() {
		return ClientCredentials{}, false
	}
	settings := r.In(&c)
	id, secret := *settings.ClientID, *settings.ClientSecret
	if id == "" {
		return ClientCredentials{}, false
	}
	cc := ClientCredentials{ClientID: id, ClientSecret: string(secret), TokenURL: c.TokenURL}
	if c.Scope != "" {
		cc.Scopes = strings.Fields(c.Scope)
		if cc.TokenURL == "" {
			cc.TokenURL = "https://login.microsoftonline.com/" + url.PathEscape(c.TenantID) + "/oauth2/v2.0/token"
		}
	} else {
		cc.Resource = c.Resource
		if cc.Resource == "" {
			cc.Resource = "https://api.securitycenter.microsoft.com"
		}
		if cc.TokenURL == "" {
			cc.TokenURL = "https://login.microsoftonline.com/" + url.PathEscape(c.TenantID) + "/oauth2/token"
		}
	}
	return cc, true
}

func (c Config) validateIdentities(given names) error {
	usesCredentials := false
	for _, r := range Roles {
		s := r.In(&c)
		if s.ClientID == nil {
			continue
		}
		token, id, secret := *s.Token, *s.ClientID, *s.ClientSecret
		switch {
		case token != "" && id != "":
			return fmt.Errorf("the %s has both %s and %s: give a token or client credentials, not both", r.Name, given.of(r.TokenEnv()), given.of(r.ClientIDEnv()))
		case id != "" && secret == "":
			return fmt.Errorf("%s needs %s (or %s_FILE)", given.of(r.ClientIDEnv()), r.ClientSecretEnv(), r.ClientSecretEnv())
		case id == "" && secret != "":
			return fmt.Errorf("%s is set without %s", given.of(r.ClientSecretEnv()), r.ClientIDEnv())
		}
		usesCredentials = usesCredentials || id != ""
	}
	if !usesCredentials {
		return nil
	}
	if c.TokenURL == "" && c.TenantID == "" {
		return fmt.Errorf("client credentials need %sTENANT_ID (or the token endpoint in %sTOKEN_URL)", EnvPrefix, EnvPrefix)
	}
	if c.Resource != "" && c.Scope != "" {
		return fmt.Errorf("give %s (v1 token endpoint) or %s (v2), not both", given.of(EnvPrefix+"RESOURCE"), given.of(EnvPrefix+"SCOPE"))
	}
	if c.TokenURL != "" {
		if u, err := url.Parse(c.TokenURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%s %q: want an absolute https:// URL", given.of(EnvPrefix+"TOKEN_URL"), c.TokenURL)
		}
	}
	return nil
}

// productionHosts are Microsoft's production API hosts, and the suffixes of their regional
// variants: a target there never gets a collection started unless actions are allowed.
var productionHosts = []string{
	"api.securitycenter.microsoft.com", ".securitycenter.microsoft.com", "api.security.microsoft.com", ".api.security.microsoft.com",
	"graph.microsoft.com", "securitycenter.windows.com", ".securitycenter.windows.com",
	"api-gcc.securitycenter.microsoft.us", ".securitycenter.microsoft.us", "api-gov.security.microsoft.us", ".security.microsoft.us",
	"graph.microsoft.us", "dod-graph.microsoft.us",
}

// Production reports whether the target is production, and why: CIP_TARGET_ENV says so, or
// its host is one of Microsoft's production hosts (whatever CIP_TARGET_ENV says).
func (c Config) Production() (bool, string) {
	if u, err := url.Parse(c.Target); err == nil && u.Hostname() != "" {
		host := strings.ToLower(u.Hostname())
		for _, p := range productionHosts {
			if host == p || (strings.HasPrefix(p, ".") && strings.HasSuffix(host, p)) {
				return true, fmt.Sprintf("%s is a Microsoft production host", host)
			}
		}
	}
	if strings.EqualFold(c.TargetEnv, "production") {
		return true, EnvPrefix + "TARGET_ENV is production"
	}
	return false, ""
}
