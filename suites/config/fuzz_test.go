package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cipconform/cipconform/suites/config"
)

// FuzzLoad feeds the configuration any file and any value of a variable: Load returns a valid
// configuration or an error, never a panic.
func FuzzLoad(f *testing.F) {
	f.Add("target: https://x.example/api\ntoken_admin: abcdefgh12\n", "CIP_REQUEST_TIMEOUT", "10s")
	f.Add("machine_ids: [a, b]\nmax_rps: 2.5\n", "CIP_MACHINE_IDS", ",,,")
	f.Add("{{{", "CIP_MAX_RPS", "NaN")
	f.Add("insecure: maybe\n", "CIP_INSECURE", "yes")
	f.Add("request_timeout: -1s\n", "CIP_CLOCK_SKEW", "-5m")
	f.Add("- a\n- b\n", "CIP_TARGET", "http://[::1]:namedport")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, file, name, value string) {
		path := filepath.Join(dir, "cip.yaml")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Skip()
		}
		vars := map[string]string{"CIP_CONFIG": path, name: value}
		cfg, err := config.Load(nil, func(k string) string { return vars[k] })
		if err == nil {
			if verr := cfg.Validate(); verr != nil {
				t.Errorf("Load returned a configuration that does not validate: %v", verr)
			}
		}
	})
}
