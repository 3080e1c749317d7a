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
	for _, want := range []string{"CIP_TARGET", "CIP_MACHINE_IDS", "CIP_UNKNOWN_MACHINE_ID", "CIP_TOKEN_ADMIN", "CIP_TOKEN_GLOBAL_ADMIN", "CIP_TOKEN_READER", "CIP_TOKEN_EXPIRED", "CIP_TIMEOUT", "CIP_MAX_RESPONSE_BYTES", "CIP_CA_FILE", "CIP_INSECURE", "CIP_CLOCK_SKEW"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s", want)
		}
	}
}

func TestPrecedenceIsFlagThenEnvThenFile(t *testing.T) {
	file := writeFile(t, "target: https://file.example/api\ntoken_admin: file-token\ntimeout: 3s\nmachine_ids: [a, b]\n")
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fl := config.BindFlags(fs)
	if err := fs.Parse([]string{"--config", file, "--timeout", "7s"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(fl, env(map[string]string{"CIP_TIMEOUT": "5s", "CIP_TOKEN_ADMIN": "env-token", "CIP_MACHINE_IDS": " x, y ,,z"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Target != "https://file.example/api" || cfg.TokenAdmin != "env-token" || cfg.Timeout != 7*time.Second || !slices.Equal(cfg.MachineIDs, []string{"x", "y", "z"}) {
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
		"relative target":   {vars: map[string]string{"CIP_TARGET": "staging.example.com", "CIP_TOKEN_ADMIN": "t"}, want: "absolute http:// or https://"},
		"no admin token":    {vars: map[string]string{"CIP_TARGET": "https://x.example"}, want: "CIP_TOKEN_ADMIN is required"},
		"bad duration":      {vars: map[string]string{"CIP_TIMEOUT": "ten"}, want: "CIP_TIMEOUT"},
		"zero timeout":      {vars: map[string]string{"CIP_TIMEOUT": "0s"}, want: "positive duration"},
		"bad bool":          {vars: map[string]string{"CIP_INSECURE": "maybe"}, want: "CIP_INSECURE"},
		"bad size":          {vars: map[string]string{"CIP_MAX_RESPONSE_BYTES": "1MB"}, want: "whole number"},
		"duplicate machine": {vars: map[string]string{"CIP_MACHINE_IDS": "a,a"}, want: "twice"},
		"missing CA file":   {vars: map[string]string{"CIP_CA_FILE": "/nonexistent/ca.pem"}, want: "CIP_CA_FILE"},
		"unknown file key":  {file: "targte: https://x.example\n", want: "targte"},
		"malformed file":    {file: "target: [unclosed\n", want: "config file"},
		"missing file":      {vars: map[string]string{"CIP_CONFIG": "/nonexistent/cip.yaml"}, want: "config file"},
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
	want.Target, want.TokenAdmin, want.MachineIDs, want.Insecure, want.Timeout = "https://x.example/api", "tok", []string{"a", "b"}, true, 1500*time.Millisecond
	vars := map[string]string{}
	for _, kv := range want.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	got, err := config.Load(nil, env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if got.Target != want.Target || got.TokenAdmin != want.TokenAdmin || !slices.Equal(got.MachineIDs, want.MachineIDs) || !got.Insecure || got.Timeout != want.Timeout {
		t.Errorf("got %+v from %v", got, vars)
	}
}
