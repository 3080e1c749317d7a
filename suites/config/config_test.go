package config_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cipconform/cipconform/suites/config"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cip.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNamesAreDerivedFromTheStruct(t *testing.T) {
	for _, f := range config.Fields() {
		if f.Env != "CIP_"+strings.ToUpper(f.Name) || f.Flag != strings.ReplaceAll(f.Name, "_", "-") || f.Help == "" {
			t.Errorf("%+v", f)
		}
	}
	var names []string
	for _, f := range config.Fields() {
		names = append(names, f.Env)
	}
	for _, want := range []string{"CIP_TARGET", "CIP_MACHINE_IDS", "CIP_UNKNOWN_MACHINE_ID", "CIP_TOKEN_ADMIN", "CIP_TOKEN_GLOBAL_ADMIN", "CIP_TOKEN_READER", "CIP_TOKEN_EXPIRED", "CIP_REQUEST_TIMEOUT", "CIP_MAX_RESPONSE_BYTES", "CIP_CA_FILE", "CIP_INSECURE", "CIP_CLOCK_SKEW"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s", want)
		}
	}
}

func TestPrecedenceIsFlagThenEnvThenFile(t *testing.T) {
	file := writeFile(t, "target: https://file.example/api\ntoken_admin: file-token\nrequest_timeout: 3s\nmachine_ids: [a, b]\n")
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fl := config.BindFlags(fs)
	if err := fs.Parse([]string{"--config", file, "--request-timeout", "7s"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(fl, env(map[string]string{"CIP_REQUEST_TIMEOUT": "5s", "CIP_TOKEN_ADMIN": "env-token", "CIP_MACHINE_IDS": " x, y ,z"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Target != "https://file.example/api" || cfg.TokenAdmin != "env-token" || cfg.RequestTimeout != 7*time.Second || !slices.Equal(cfg.MachineIDs, []string{"x", "y", "z"}) {
		t.Errorf("%+v", cfg)
	}
	if cfg.ClockSkew != 5*time.Minute || cfg.MaxResponseBytes != 1<<20 {
		t.Errorf("defaults lost: %+v", cfg)
	}
}

func TestBadConfigurationSaysWhatToDo(t *testing.T) {
	cases := map[string]struct {
		vars map[string]string
		file string
		want string
	}{
		"relative target":                {vars: map[string]string{"CIP_TARGET": "staging.example.com", "CIP_TOKEN_ADMIN": "t"}, want: "absolute http:// or https://"},
		"no admin token":                 {vars: map[string]string{"CIP_TARGET": "https://x.example"}, want: "is required with CIP_TARGET"},
		"bad duration":                   {vars: map[string]string{"CIP_REQUEST_TIMEOUT": "ten"}, want: "CIP_REQUEST_TIMEOUT"},
		"zero timeout":                   {vars: map[string]string{"CIP_REQUEST_TIMEOUT": "0s"}, want: "positive duration"},
		"bad bool":                       {vars: map[string]string{"CIP_INSECURE": "maybe"}, want: "CIP_INSECURE"},
		"bad size":                       {vars: map[string]string{"CIP_MAX_RESPONSE_BYTES": "1MB"}, want: "whole number"},
		"duplicate machine":              {vars: map[string]string{"CIP_MACHINE_IDS": "a,a"}, want: "twice"},
		"missing CA file":                {vars: map[string]string{"CIP_CA_FILE": "/nonexistent/ca.pem"}, want: "CIP_CA_FILE"},
		"unknown file key":               {file: "targte: https://x.example\n", want: "targte"},
		"malformed file":                 {file: "target: [unclosed\n", want: "config file"},
		"missing file":                   {vars: map[string]string{"CIP_CONFIG": "/nonexistent/cip.yaml"}, want: "config file"},
		"credentials in URL":             {vars: map[string]string{"CIP_TARGET": "https://user:pa55w0rd@x.example/api", "CIP_TOKEN_ADMIN": "t"}, want: "give a token instead"},
		"malformed URL with credentials": {vars: map[string]string{"CIP_TARGET": "https://user:pa55w0rd@x.example:port/api", "CIP_TOKEN_ADMIN": "t"}, want: "give a token instead"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			vars := tc.vars
			if tc.file != "" {
				vars = map[string]string{"CIP_CONFIG": writeFile(t, tc.file)}
			}
			_, err := config.Load(nil, env(vars))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to mention %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "pa55w0rd") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestSecretsNeverRender(t *testing.T) {
	cfg := config.Defaults()
	cfg.TokenAdmin = "super-secret-token"
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "super-secret") || !strings.Contains(string(data), config.Redacted) {
		t.Errorf("%s", data)
	}
	if s := cfg.TokenAdmin.String(); s != config.Redacted {
		t.Errorf("String() = %q", s)
	}
}

func TestEnvironRoundTrips(t *testing.T) {
	want := config.Defaults()
	want.Target, want.TokenAdmin, want.MachineIDs, want.Insecure, want.RequestTimeout = "https://x.example/api", "tok-12345678", []string{"a", "b"}, true, 1500*time.Millisecond
	vars := map[string]string{}
	for _, kv := range want.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	got, err := config.Load(nil, env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if got.Target != want.Target || got.TokenAdmin != want.TokenAdmin || !slices.Equal(got.MachineIDs, want.MachineIDs) || !got.Insecure || got.RequestTimeout != want.RequestTimeout {
		t.Errorf("got %+v from %v", got, vars)
	}
}

func TestProductionHosts(t *testing.T) {
	cases := map[string]bool{
		"https://api.securitycenter.microsoft.com/api":          true,
		"https://api-eu.securitycenter.microsoft.com/api":       true,
		"https://api.security.microsoft.com/api":                true,
		"https://eu.api.security.microsoft.com/api":             true,
		"https://graph.microsoft.com/testwdatppreview":          true,
		"https://API.SecurityCenter.Microsoft.com/api":          true,
		"https://api-gcc.securitycenter.microsoft.us/api":       true,
		"https://staging.example.com/api":                       false,
		"https://securitycenter.microsoft.com.evil.example/api": false,
		"http://127.0.0.1:8080/testwdatppreview":                false,
	}
	for target, want := range cases {
		if got, _ := (config.Config{Target: target}).Production(); got != want {
			t.Errorf("%s: production %v, want %v", target, got, want)
		}
	}
	if got, _ := (config.Config{Target: "https://staging.example.com", TargetEnv: "production"}).Production(); !got {
		t.Error("CIP_TARGET_ENV=production must count")
	}
	if got, _ := (config.Config{Target: "https://api.securitycenter.microsoft.com", TargetEnv: "staging"}).Production(); !got {
		t.Error("a production host stays production whatever CIP_TARGET_ENV says")
	}
}

func TestIdentitySettings(t *testing.T) {
	tokenFile := writeFile(t, "  file-token\n")
	cfg, err := config.Load(nil, env(map[string]string{"CIP_TOKEN_ADMIN_FILE": tokenFile}))
	if err != nil || cfg.TokenAdmin != "file-token" {
		t.Errorf("token file: %v %q", err, cfg.TokenAdmin)
	}
	bad := map[string]map[string]string{
		"token and file":        {"CIP_TOKEN_ADMIN": "token-12345678", "CIP_TOKEN_ADMIN_FILE": tokenFile},
		"token and client":      {"CIP_TOKEN_ADMIN": "token-12345678", "CIP_ADMIN_CLIENT_ID": "a", "CIP_ADMIN_CLIENT_SECRET": "secret-123456", "CIP_TENANT_ID": "t"},
		"client without secret": {"CIP_ADMIN_CLIENT_ID": "a", "CIP_TENANT_ID": "t"},
		"secret without client": {"CIP_READER_CLIENT_SECRET": "secret-123456"},
		"client without tenant": {"CIP_ADMIN_CLIENT_ID": "a", "CIP_ADMIN_CLIENT_SECRET": "secret-123456"},
		"resource and scope":    {"CIP_ADMIN_CLIENT_ID": "a", "CIP_ADMIN_CLIENT_SECRET": "secret-123456", "CIP_TENANT_ID": "t", "CIP_RESOURCE": "r", "CIP_SCOPE": "s"},
		"missing secret file":   {"CIP_ADMIN_CLIENT_ID": "a", "CIP_ADMIN_CLIENT_SECRET_FILE": "/nonexistent", "CIP_TENANT_ID": "t"},
		"negative rate":         {"CIP_MAX_RPS": "-1"},
	}
	for name, vars := range bad {
		if _, err := config.Load(nil, env(vars)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	cfg = config.Config{TenantID: "contoso", AdminClientID: "a", AdminClientSecret: "s"}
	if cc, ok := cfg.Credentials("admin"); !ok || cc.TokenURL != "https://login.microsoftonline.com/contoso/oauth2/token" || cc.Resource != "https://api.securitycenter.microsoft.com" {
		t.Errorf("v1 defaults: %+v", cc)
	}
	cfg.Scope = "https://api.securitycenter.microsoft.com/.default"
	if cc, _ := cfg.Credentials("admin"); cc.TokenURL != "https://login.microsoftonline.com/contoso/oauth2/v2.0/token" || cc.Resource != "" || len(cc.Scopes) != 1 {
		t.Errorf("v2: %+v", cc)
	}
}

// An error names the setting as it was given: the flag, the variable or the key of the file.
func TestErrorsNameTheSettingAsGiven(t *testing.T) {
	file := writeFile(t, "concurrency: 0\nmax_rps: -1\n")
	cases := []struct {
		name  string
		flags []string
		env   map[string]string
		want  string
		not   string
	}{
		{"flag", []string{"--target", "not a url"}, nil, `--target "not a url"`, "CIP_TARGET"},
		{"flag over env", []string{"--target", "ftp://x"}, map[string]string{"CIP_TARGET": "https://ok.example"}, `--target "ftp://x"`, "CIP_TARGET"},
		{"env", nil, map[string]string{"CIP_TARGET": "not a url"}, `CIP_TARGET "not a url"`, "--target"},
		{"flag duration", []string{"--request-timeout", "0s"}, nil, "--request-timeout 0s", "CIP_"},
		{"file", []string{"--config", file}, nil, "concurrency (in " + file + ") 0", "CIP_"},
		{"env over file", []string{"--config", file}, map[string]string{"CIP_CONCURRENCY": "2"}, "max_rps (in " + file + ") -1", "CIP_"},
		{"flag unparsable", []string{"--clock-skew", "soon"}, nil, "--clock-skew", "CIP_"},
		{"env unparsable", nil, map[string]string{"CIP_CLOCK_SKEW": "soon"}, "CIP_CLOCK_SKEW", "--"},
		{"flag secret", []string{"--token-admin", "short"}, nil, "--token-admin is 5 characters long", "CIP_TOKEN_ADMIN "},
		{"flag and file of a secret", []string{"--token-admin", "long-enough-token"}, map[string]string{"CIP_TOKEN_ADMIN_FILE": file}, "--token-admin and CIP_TOKEN_ADMIN_FILE are both set", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fl := config.BindFlags(fs)
			if err := fs.Parse(tc.flags); err != nil {
				t.Fatal(err)
			}
			_, err := config.Load(fl, env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.not != "" && strings.Contains(err.Error(), tc.not)) {
				t.Errorf("error %v: want %q in it and not %q", err, tc.want, tc.not)
			}
		})
	}
}

// Machine ids go into URL paths: entries that cannot be one are a configuration error naming
// the entry, never silently dropped.
func TestMachineIDsAreValidated(t *testing.T) {
	for value, want := range map[string]string{
		"a,,b":    "entry 2",
		"a,b c":   "whitespace",
		"a/b":     "contains / or %",
		"a%2Fb":   "contains / or %",
		"a,\x01b": "control",
		"a,a":     "twice",
		"a, b, c": "",
		"a,b,":    "",
		"m1":      "",
	} {
		_, err := config.Load(nil, func(k string) string {
			if k == "CIP_MACHINE_IDS" {
				return value
			}
			return ""
		})
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", value, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: %v, want an error saying %q", value, err, want)
		}
	}
}

// A CA file that holds no PEM certificate is a configuration error, named as it was given.
func TestCAFileMustHoldACertificate(t *testing.T) {
	notPEM := writeFile(t, "this is not a certificate\n")
	if _, err := config.Load(nil, env(map[string]string{"CIP_CA_FILE": notPEM})); err == nil || !strings.Contains(err.Error(), "CIP_CA_FILE") || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("CIP_CA_FILE without a certificate: %v", err)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fl := config.BindFlags(fs)
	if err := fs.Parse([]string{"--ca-file", notPEM}); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(fl, env(nil)); err == nil || !strings.Contains(err.Error(), "--ca-file") {
		t.Errorf("--ca-file without a certificate: %v", err)
	}
}

// A secret given as a flag is in the process list: Warnings says so, naming the variable and
// the file setting to use instead. Secrets from the environment warn of nothing.
func TestSecretFlagsWarn(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fl := config.BindFlags(fs)
	if err := fs.Parse([]string{"--token-admin", "flag-token-12345678", "--admin-client-secret", "flag-secret-12345678", "--machine-ids", "a"}); err != nil {
		t.Fatal(err)
	}
	w := fl.Warnings()
	if len(w) != 2 || !strings.Contains(w[0], "--token-admin") || !strings.Contains(w[0], "CIP_TOKEN_ADMIN or --token-admin-file") || !strings.Contains(w[1], "--admin-client-secret") {
		t.Errorf("warnings %q", w)
	}
	for _, line := range w {
		if strings.Contains(line, "flag-token") || strings.Contains(line, "flag-secret") {
			t.Errorf("a warning shows the secret: %s", line)
		}
	}
	fs = flag.NewFlagSet("t", flag.ContinueOnError)
	fl = config.BindFlags(fs)
	if err := fs.Parse([]string{"--machine-ids", "a"}); err != nil {
		t.Fatal(err)
	}
	if w := fl.Warnings(); len(w) != 0 {
		t.Errorf("warnings without secret flags: %q", w)
	}
}
