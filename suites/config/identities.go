package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// secretFiles pairs each secret with the file setting that may hold it.
func (c *Config) secretFiles() []struct {
	value *Secret
	file  *string
	name  string
} {
	return []struct {
		value *Secret
		file  *string
		name  string
	}{
		{&c.TokenAdmin, &c.TokenAdminFile, "TOKEN_ADMIN"},
		{&c.TokenGlobalAdmin, &c.TokenGlobalAdminFile, "TOKEN_GLOBAL_ADMIN"},
		{&c.TokenReader, &c.TokenReaderFile, "TOKEN_READER"},
		{&c.TokenExpired, &c.TokenExpiredFile, "TOKEN_EXPIRED"},
		{&c.AdminClientSecret, &c.AdminClientSecretFile, "ADMIN_CLIENT_SECRET"},
		{&c.GlobalAdminClientSecret, &c.GlobalAdminClientSecretFile, "GLOBAL_ADMIN_CLIENT_SECRET"},
		{&c.ReaderClientSecret, &c.ReaderClientSecretFile, "READER_CLIENT_SECRET"},
	}
}

// readSecretFiles reads the secrets given as files; a secret given both ways is an error.
func (c *Config) readSecretFiles() error {
	for _, s := range c.secretFiles() {
		if *s.file == "" {
			continue
		}
		if *s.value != "" {
			return fmt.Errorf("%s%s and %s%s_FILE are both set: give one", EnvPrefix, s.name, EnvPrefix, s.name)
		}
		data, err := os.ReadFile(*s.file)
		if err != nil {
			return fmt.Errorf("%s%s_FILE: %w", EnvPrefix, s.name, err)
		}
		value := strings.TrimSpace(string(data))
		if value == "" {
			return fmt.Errorf("%s%s_FILE %s is empty", EnvPrefix, s.name, *s.file)
		}
		*s.value = Secret(value)
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

// Credentials returns the client credentials of an identity ("admin", "global-admin",
// "reader"), if it has them instead of a static token.
func (c Config) Credentials(role string) (ClientCredentials, bool) {
	var id string
	var secret Secret
	switch role {
	case "admin":
		id, secret = c.AdminClientID, c.AdminClientSecret
	case "global-admin":
		id, secret = c.GlobalAdminClientID, c.GlobalAdminClientSecret
	case "reader":
		id, secret = c.ReaderClientID, c.ReaderClientSecret
	}
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

func (c Config) validateIdentities() error {
	roles := []struct {
		name, prefix string
		token        Secret
		id           string
		secret       Secret
	}{
		{"admin", "ADMIN", c.TokenAdmin, c.AdminClientID, c.AdminClientSecret},
		{"global-admin", "GLOBAL_ADMIN", c.TokenGlobalAdmin, c.GlobalAdminClientID, c.GlobalAdminClientSecret},
		{"reader", "READER", c.TokenReader, c.ReaderClientID, c.ReaderClientSecret},
	}
	usesCredentials := false
	for _, r := range roles {
		switch {
		case r.token != "" && r.id != "":
			return fmt.Errorf("the %s has both %sTOKEN_%s and %s%s_CLIENT_ID: give a token or client credentials, not both", r.name, EnvPrefix, r.prefix, EnvPrefix, r.prefix)
		case r.id != "" && r.secret == "":
			return fmt.Errorf("%s%s_CLIENT_ID needs %s%s_CLIENT_SECRET (or %s%s_CLIENT_SECRET_FILE)", EnvPrefix, r.prefix, EnvPrefix, r.prefix, EnvPrefix, r.prefix)
		case r.id == "" && r.secret != "":
			return fmt.Errorf("%s%s_CLIENT_SECRET is set without %s%s_CLIENT_ID", EnvPrefix, r.prefix, EnvPrefix, r.prefix)
		}
		usesCredentials = usesCredentials || r.id != ""
	}
	if !usesCredentials {
		return nil
	}
	if c.TokenURL == "" && c.TenantID == "" {
		return fmt.Errorf("client credentials need %sTENANT_ID (or the token endpoint in %sTOKEN_URL)", EnvPrefix, EnvPrefix)
	}
	if c.Resource != "" && c.Scope != "" {
		return fmt.Errorf("give %sRESOURCE (v1 token endpoint) or %sSCOPE (v2), not both", EnvPrefix, EnvPrefix)
	}
	if c.TokenURL != "" {
		if u, err := url.Parse(c.TokenURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%sTOKEN_URL %q: want an absolute https:// URL", EnvPrefix, c.TokenURL)
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
