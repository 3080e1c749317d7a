package harness

import (
	"context"
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
	// The token endpoint is another host than the target: the default transport (with
	// HTTPS_PROXY) and a timeout, not the target's TLS settings.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Timeout: cfg.RequestTimeout})
	for _, row := range config.Roles {
		role := Role(row.Name)
		if token := *row.In(&cfg).Token; token != "" {
			sources[role] = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: string(token)})
		}
		cc, ok := cfg.Credentials(row.Name)
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

// row is the role's row of the role table (a zero Role for a name not in it).
func (r Role) row() config.Role {
	row, _ := config.LookupRole(string(r))
	return row
}

// roleSettings names the settings of a role, for messages that say what to check.
func roleSettings(role Role) string { return role.row().Hint() }
