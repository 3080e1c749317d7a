// Package config is the one configuration of a conformance run. Each field's yaml tag is its
// name everywhere: the key in a config file, the flag (--machine-ids for machine_ids) and the
// environment variable (CIP_MACHINE_IDS), so the three never drift. Precedence: flag > env > file.
package config

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v4"

	"github.com/cipconform/cipconform/suites/redact"
)

// EnvPrefix starts every environment variable of the harness.
const EnvPrefix = "CIP_"

// Secret is a value that never appears in a report, a log line or a reproduction command.
type Secret string

// Redacted is what a set secret looks like wherever it is shown.
const Redacted = redact.Redacted

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// MarshalText keeps secrets out of JSON and YAML renderings of a Config.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Config is everything a run needs to know. The help tag is the flag's and the docs' text.
//
// Each identity is a static token (the value, or a file that holds it, so that secrets stay out
// of shell history) or, except the expired one, OAuth2 client credentials of Microsoft Entra ID.
// The role table (Roles) points at each identity's settings: a new identity is a row there.
type Config struct {
	Target           string   `yaml:"target" help:"base URL that replaces the spec's server, e.g. https://staging.example.com/api; empty: the embedded reference implementation"`
	MachineIDs       []string `yaml:"machine_ids" help:"comma-separated ids of machines that exist on the target (in a YAML file: a list); the first serves the read-only checks; checks that create actions get the others, or reuse one where the harness can cancel (today's API)"`
	UnknownMachineID string   `yaml:"unknown_machine_id" help:"a machine id that does not exist on the target (default: a random id)"`
	Profile          string   `yaml:"profile" help:"the contract to judge the target against: preview-2017 (the seed's 2017 API) or mde (today's Defender for Endpoint API); default: told by the target's base path (/testwdatppreview or /api) or host; without a target, run checks both"`
	Spec             string   `yaml:"spec" help:"your own OpenAPI document for the same operation (found by operationId); the schema-derived checks follow it; needs a profile (given or told by the target) for the facts a schema cannot say"`

	TokenAdmin           Secret `yaml:"token_admin" help:"bearer token of a Security Administrator"`
	TokenAdminFile       string `yaml:"token_admin_file" help:"file holding the Security Administrator's token"`
	TokenGlobalAdmin     Secret `yaml:"token_global_admin" help:"bearer token of a Global Administrator (checks that need it are skipped without it)"`
	TokenGlobalAdminFile string `yaml:"token_global_admin_file" help:"file holding the Global Administrator's token"`
	TokenReader          Secret `yaml:"token_reader" help:"bearer token of a valid identity without permission, e.g. a Security Reader"`
	TokenReaderFile      string `yaml:"token_reader_file" help:"file holding the reader's token"`
	TokenExpired         Secret `yaml:"token_expired" help:"an expired bearer token of the target's issuer"`
	TokenExpiredFile     string `yaml:"token_expired_file" help:"file holding the expired token"`

	TenantID                    string `yaml:"tenant_id" help:"Microsoft Entra tenant of the client credentials"`
	TokenURL                    string `yaml:"token_url" help:"token endpoint of the client credentials (default: login.microsoftonline.com for the tenant, v1 with resource, v2 with scope)"`
	Resource                    string `yaml:"resource" help:"resource of v1 client-credentials tokens (default: https://api.securitycenter.microsoft.com)"`
	Scope                       string `yaml:"scope" help:"scope of v2 client-credentials tokens, e.g. https://api.securitycenter.microsoft.com/.default"`
	AdminClientID               string `yaml:"admin_client_id" help:"client id of the application used as the administrator (instead of a token)"`
	AdminClientSecret           Secret `yaml:"admin_client_secret" help:"its client secret"`
	AdminClientSecretFile       string `yaml:"admin_client_secret_file" help:"file holding its client secret"`
	GlobalAdminClientID         string `yaml:"global_admin_client_id" help:"client id of the application used as the Global Administrator"`
	GlobalAdminClientSecret     Secret `yaml:"global_admin_client_secret" help:"its client secret"`
	GlobalAdminClientSecretFile string `yaml:"global_admin_client_secret_file" help:"file holding its client secret"`
	ReaderClientID              string `yaml:"reader_client_id" help:"client id of an application without the permission to collect"`
	ReaderClientSecret          Secret `yaml:"reader_client_secret" help:"its client secret"`
	ReaderClientSecretFile      string `yaml:"reader_client_secret_file" help:"file holding its client secret"`

	TargetEnv    string  `yaml:"target_env" help:"production refuses the checks that create actions (set by itself for Microsoft's production hosts); anything else, e.g. staging, allows them"`
	AllowActions bool    `yaml:"allow_actions" help:"run the checks that create actions (collections on real machines) even against production"`
	MaxRPS       float64 `yaml:"max_rps" help:"at most this many requests per second (per process; 0: no cap); a 429 is waited out as its Retry-After says and retried once"`
	Concurrency  int     `yaml:"concurrency" help:"how many checks cipconform run keeps in flight at once (checks that share a machine always run in order; --max-rps still caps the rate)"`

	NoCleanup     bool          `yaml:"no_cleanup" help:"leave the actions the run starts as they are; by default each is cancelled where the contract allows it (today's API), so that one machine serves every check"`
	SettleTimeout time.Duration `yaml:"settle_timeout" help:"how long to wait for a cancelled action to read ended before its machine is given up"`
	BusyWait      time.Duration `yaml:"busy_wait" help:"how long a check waits for a machine that is busy when it starts (a collection of an earlier run) before it ends as an error; 0: not at all"`

	RequestTimeout   time.Duration `yaml:"request_timeout" help:"timeout of each request"`
	MaxResponseBytes int64         `yaml:"max_response_bytes" help:"largest response body read; a longer one fails the check"`
	CAFile           string        `yaml:"ca_file" help:"PEM file of CA certificates to trust besides the system's"`
	Insecure         bool          `yaml:"insecure" help:"skip TLS certificate verification (loudly warned; never for production)"`
	ClockSkew        time.Duration `yaml:"clock_skew" help:"how far the target's timestamps may be from the harness's clock"`
}

// Defaults are the values of fields nobody set.
func Defaults() Config {
	return Config{RequestTimeout: 10 * time.Second, MaxResponseBytes: 1 << 20, ClockSkew: 5 * time.Minute, Concurrency: 4,
		SettleTimeout: 2 * time.Minute, BusyWait: 30 * time.Second}
}

// Field describes one setting, for flags, help and docs.
type Field struct {
	Name string // the yaml key
	Env  string
	Flag string
	Help string
	Kind string // string, list, secret, duration, bool, int
}

// Fields lists the settings in declaration order.
func Fields() []Field {
	t := reflect.TypeFor[Config]()
	fields := make([]Field, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("yaml")
		fields = append(fields, Field{
			Name: name,
			Env:  EnvPrefix + strings.ToUpper(name),
			Flag: strings.ReplaceAll(name, "_", "-"),
			Help: f.Tag.Get("help"),
			Kind: kindOf(f.Type),
		})
	}
	return fields
}

func kindOf(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[Secret]():
		return "secret"
	case t == reflect.TypeFor[time.Duration]():
		return "duration"
	case t.Kind() == reflect.Slice:
		return "list"
	case t.Kind() == reflect.Bool:
		return "bool"
	case t.Kind() == reflect.Int64 || t.Kind() == reflect.Int:
		return "int"
	case t.Kind() == reflect.Float64:
		return "float"
	default:
		return "string"
	}
}

// Flags holds the values given on a command line. Bind it to a FlagSet, parse, then Load.
type Flags struct {
	file   string
	values map[string]*string // by yaml name; nil until set
}

// BindFlags registers one flag per setting, plus --config FILE, on fs.
func BindFlags(fs *flag.FlagSet) *Flags {
	fl := &Flags{values: map[string]*string{}}
	fs.Func("config", "YAML `FILE` with settings (keys as below; flags and "+EnvPrefix+" variables override it; env "+EnvPrefix+"CONFIG)", func(v string) error {
		fl.file = v
		return nil
	})
	defaults := map[string]string{}
	for _, kv := range Defaults().Environ() {
		k, v, _ := strings.Cut(kv, "=")
		defaults[k] = v
	}
	for _, f := range Fields() {
		usage := fmt.Sprintf("%s (env %s)", f.Help, f.Env)
		if d := defaults[f.Env]; d != "" && d != "0" && d != "false" {
			usage = fmt.Sprintf("%s (env %s; default %s)", f.Help, f.Env, d)
		}
		if f.Kind == "bool" {
			fs.BoolFunc(f.Flag, usage, func(v string) error {
				if _, err := strconv.ParseBool(v); err != nil {
					return err
				}
				fl.values[f.Name] = &v
				return nil
			})
			continue
		}
		fs.Func(f.Flag, usage, func(v string) error {
			fl.values[f.Name] = &v
			return nil
		})
	}
	return fl
}

// Warnings says what in the flags given is risky, a line each: a secret given as a flag is
// visible to every user of the machine in the process list. They are for stderr, never for
// reports.
func (fl *Flags) Warnings() []string {
	if fl == nil {
		return nil
	}
	var w []string
	for _, f := range Fields() {
		if f.Kind == "secret" && fl.values[f.Name] != nil {
			w = append(w, fmt.Sprintf("WARNING: --%s puts a secret in the process list, where other users of this machine can read it: use %s or --%s-file instead", f.Flag, f.Env, f.Flag))
		}
	}
	return w
}

// Load builds the configuration: defaults, then the file (from --config or CIP_CONFIG), then
// CIP_ variables from getenv, then flags (fl may be nil). The result is validated; an error
// names a setting as it was given: --flag, CIP_ variable or key of the file.
func Load(fl *Flags, getenv func(string) string) (Config, error) {
	cfg := Defaults()
	given := names{}
	file := getenv(EnvPrefix + "CONFIG")
	if fl != nil && fl.file != "" {
		file = fl.file
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return Config{}, fmt.Errorf("config file: %w", err)
		}
		if err := decodeFile(data, &cfg); err != nil {
			return Config{}, fmt.Errorf("config file %s: %w", file, err)
		}
		var keys map[string]any
		_ = yaml.Unmarshal(data, &keys) // decodeFile has read it
		for key := range keys {
			given[EnvPrefix+strings.ToUpper(key)] = fmt.Sprintf("%s (in %s)", key, file)
		}
	}
	for _, f := range Fields() {
		if v := getenv(f.Env); v != "" {
			if err := set(&cfg, f.Name, v); err != nil {
				return Config{}, fmt.Errorf("%s: %w", f.Env, err)
			}
			delete(given, f.Env)
		}
	}
	if fl != nil {
		for _, f := range Fields() {
			if v := fl.values[f.Name]; v != nil {
				if err := set(&cfg, f.Name, *v); err != nil {
					return Config{}, fmt.Errorf("--%s: %w", f.Flag, err)
				}
				given[f.Env] = "--" + f.Flag
			}
		}
	}
	if err := cfg.readSecretFiles(given); err != nil {
		return Config{}, err
	}
	if err := cfg.validate(given); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// names says how each setting was given, by its variable: "--target" for a flag, "target (in
// cip.yaml)" for a key of the config file. A setting given as its variable, or by nobody, is
// named by its variable.
type names map[string]string

func (n names) of(env string) string {
	if name, ok := n[env]; ok {
		return name
	}
	return env
}

func decodeFile(data []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var file struct {
		Config `yaml:",inline"`
	}
	file.Config = *cfg
	if err := dec.Decode(&file); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	*cfg = file.Config
	return nil
}

// set assigns a textual value to the field with this yaml name.
func set(cfg *Config, name, value string) error {
	v := reflect.ValueOf(cfg).Elem()
	t := v.Type()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("yaml") != name {
			continue
		}
		field := v.Field(i)
		switch kindOf(t.Field(i).Type) {
		case "duration":
			d, err := time.ParseDuration(value)
			if err != nil {
				return fmt.Errorf("%q is not a duration (like 10s or 2m)", value)
			}
			field.SetInt(int64(d))
		case "bool":
			b, err := strconv.ParseBool(value)
			if err != nil {
				return fmt.Errorf("%q is not true or false", value)
			}
			field.SetBool(b)
		case "int":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not a whole number", value)
			}
			field.SetInt(n)
		case "float":
			f, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return fmt.Errorf("%q is not a number", value)
			}
			field.SetFloat(f)
		case "list":
			// Empty entries are kept ("a,,b"): validation names them instead of guessing.
			var items []string
			for item := range strings.SplitSeq(strings.TrimSuffix(strings.TrimSpace(value), ","), ",") {
				items = append(items, strings.TrimSpace(item))
			}
			if strings.TrimSpace(value) == "" {
				items = nil
			}
			field.Set(reflect.ValueOf(items))
		default:
			field.SetString(value)
		}
		return nil
	}
	return fmt.Errorf("no setting %q", name)
}

// Validate reports the first setting that cannot work, saying what to do.
func (c Config) Validate() error { return c.validate(nil) }

// validate is Validate, naming each setting as given says.
func (c Config) validate(given names) error {
	if c.Target != "" {
		u, err := url.Parse(c.Target)
		if (err == nil && u.User != nil) || (err != nil && strings.Contains(c.Target, "@")) {
			// Never print the URL: it holds the credentials.
			return fmt.Errorf("%sTARGET: the URL holds credentials (user:password@): they would be sent and shown in clear; remove them and give a token instead (%s)", EnvPrefix, Admin.TokenEnv())
		}
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s %q: want an absolute http:// or https:// base URL, like https://staging.example.com/api", given.of(EnvPrefix+"TARGET"), c.Target)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("%s %q: a base URL has no query or fragment", given.of(EnvPrefix+"TARGET"), c.Target)
		}
		if !Admin.Configured(c) {
			return fmt.Errorf("%s (or %s_FILE, or %s and its secret) is required with %s: %s of the target", Admin.TokenEnv(), Admin.TokenEnv(), Admin.ClientIDEnv(), given.of(EnvPrefix+"TARGET"), Admin.Description)
		}
	}
	if _, err := c.Profiles(); err != nil {
		return err
	}
	if err := c.validateSecrets(given); err != nil {
		return err
	}
	if c.RequestTimeout <= 0 {
		return fmt.Errorf("%s %s: want a positive duration", given.of(EnvPrefix+"REQUEST_TIMEOUT"), c.RequestTimeout)
	}
	if c.Concurrency < 1 {
		return fmt.Errorf("%s %d: want at least 1 (1 runs the checks one after another)", given.of(EnvPrefix+"CONCURRENCY"), c.Concurrency)
	}
	if c.MaxRPS < 0 {
		return fmt.Errorf("%s %g: want zero (no cap) or more", given.of(EnvPrefix+"MAX_RPS"), c.MaxRPS)
	}
	if err := c.validateIdentities(given); err != nil {
		return err
	}
	if c.MaxResponseBytes <= 0 {
		return fmt.Errorf("%s %d: want a positive size", given.of(EnvPrefix+"MAX_RESPONSE_BYTES"), c.MaxResponseBytes)
	}
	if c.ClockSkew < 0 {
		return fmt.Errorf("%s %s: want zero or more", given.of(EnvPrefix+"CLOCK_SKEW"), c.ClockSkew)
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return fmt.Errorf("%s: %w", given.of(EnvPrefix+"CA_FILE"), err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s %s: no PEM certificate in it (want CA certificates, each between BEGIN CERTIFICATE and END CERTIFICATE)", given.of(EnvPrefix+"CA_FILE"), c.CAFile)
		}
	}
	seen := map[string]bool{}
	for i, id := range c.MachineIDs {
		if problem := machineIDProblem(id); problem != "" {
			return fmt.Errorf("%s entry %d (%q): %s", given.of(EnvPrefix+"MACHINE_IDS"), i+1, id, problem)
		}
		if seen[id] {
			return fmt.Errorf("%s lists %q twice: each machine may serve one check", given.of(EnvPrefix+"MACHINE_IDS"), id)
		}
		seen[id] = true
		if id == c.UnknownMachineID {
			return fmt.Errorf("%s %q is also in %s", given.of(EnvPrefix+"UNKNOWN_MACHINE_ID"), id, given.of(EnvPrefix+"MACHINE_IDS"))
		}
	}
	return nil
}

// machineIDProblem says why a machine id cannot be one, or "". An id goes into a URL path: a
// slash or a percent sign would name another resource, and whitespace or control characters are
// a copy-and-paste accident.
func machineIDProblem(id string) string {
	switch {
	case id == "":
		return "empty (two commas in a row?)"
	case strings.ContainsAny(id, "/%"):
		return "contains / or %, which would change the URL's path"
	case strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return "contains whitespace or a control character"
	}
	return ""
}

// MinSecretLength is the shortest token or client secret accepted: every occurrence of a
// secret is redacted from reports, so a short one would mangle them (and no real one is short).
const MinSecretLength = 8

func (c Config) validateSecrets(given names) error {
	v := reflect.ValueOf(c)
	for i, f := range Fields() {
		if f.Kind != "secret" {
			continue
		}
		if n := len(v.Field(i).String()); n > 0 && n < MinSecretLength {
			return fmt.Errorf("%s is %d characters long: a real token or secret is longer; check its value", given.of(f.Env), n)
		}
	}
	return nil
}

// Secrets returns the secret values that are set (every role's token and client secret), for
// redaction.
func (c Config) Secrets() []string {
	v := reflect.ValueOf(c)
	var out []string
	for i, f := range Fields() {
		if s := v.Field(i).String(); f.Kind == "secret" && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Environ renders the settings that differ from the zero value as CIP_ variables ("NAME=value"),
// secrets included: it is how a run hands its configuration to a child process without putting
// tokens on a command line.
func (c Config) Environ() []string {
	v := reflect.ValueOf(c)
	var out []string
	for i, f := range Fields() {
		field := v.Field(i)
		if field.IsZero() {
			continue
		}
		var value string
		switch f.Kind {
		case "list":
			value = strings.Join(field.Interface().([]string), ",")
		case "duration":
			value = time.Duration(field.Int()).String()
		default:
			value = fmt.Sprint(field.Interface())
			if f.Kind == "secret" {
				value = field.String()
			}
		}
		out = append(out, f.Env+"="+value)
	}
	return out
}

// Redactor redacts the configuration's secrets.
func (c Config) Redactor() *redact.Redactor { return redact.New(c.Secrets()...) }

// MarshalJSON renders the settings that are set by their YAML keys, durations as text and
// secrets redacted: how reports show the configuration of a run.
func (c Config) MarshalJSON() ([]byte, error) {
	v := reflect.ValueOf(c)
	out := map[string]any{}
	for i, f := range Fields() {
		field := v.Field(i)
		if field.IsZero() {
			continue
		}
		switch f.Kind {
		case "secret":
			out[f.Name] = Redacted
		case "duration":
			out[f.Name] = time.Duration(field.Int()).String()
		default:
			out[f.Name] = field.Interface()
		}
	}
	return json.Marshal(out)
}
