package harness

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/redact"
)

// tokenSources gives each configured identity a source of tokens: a static token, or client
// credentials whose token is fetched when first needed and fetched again when it expires
// during the run. Every token obtained is added to the redactor.
func tokenSources(cfg config.Config, redactor *redact.Redactor) map[Role]oauth2.TokenSource {
	sources := map[Role]oauth2.TokenSource{}
	static := map[Role]config.Secret{Admin: cfg.TokenAdmin, GlobalAdmin: cfg.TokenGlobalAdmin, Reader: cfg.TokenReader, Expired: cfg.TokenExpired}
	for role, token := range static {
		if token != "" {
			sources[role] = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: string(token)})
		}
	}
	// The token endpoint is another host than the target: the default transport (with
	// HTTPS_PROXY) and a timeout, not the target's TLS settings.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Timeout: cfg.RequestTimeout})
	for _, role := range []Role{Admin, GlobalAdmin, Reader} {
		cc, ok := cfg.Credentials(string(role))
		if !ok {
			continue
		}
		conf := clientcredentials.Config{
			ClientID:     cc.ClientID,
			ClientSecret: cc.ClientSecret,
			TokenURL:     cc.TokenURL,
			Scopes:       cc.Scopes,
			AuthStyle:    oauth2.AuthStyleInParams, // as Microsoft Entra ID documents it
		}
		if cc.Resource != "" {
			conf.EndpointParams = url.Values{"resource": {cc.Resource}}
		}
		sources[role] = conf.TokenSource(ctx)
	}
	for role, src := range sources {
		sources[role] = redactingSource{src: src, redactor: redactor}
	}
	return sources
}

type redactingSource struct {
	src      oauth2.TokenSource
	redactor *redact.Redactor
}

func (r redactingSource) Token() (*oauth2.Token, error) {
	t, err := r.src.Token()
	if err != nil {
		return nil, err
	}
	r.redactor.Add(t.AccessToken)
	return t, nil
}

// roleSettings names the settings of a role, for messages that say what to check.
func roleSettings(role Role) string {
	switch role {
	case Expired:
		return roleEnv(role)
	default:
		prefix := config.EnvPrefix + map[Role]string{Admin: "ADMIN", GlobalAdmin: "GLOBAL_ADMIN", Reader: "READER"}[role]
		return fmt.Sprintf("%s or %s_CLIENT_ID and its secret", roleEnv(role), prefix)
	}
}
