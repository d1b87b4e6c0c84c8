package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rhizoflex.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigDefaults(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, err := loadConfig("", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != ":8080" || cfg.DatabaseURL != "sqlite:data/rhizoflex.db" || !cfg.Playground || !cfg.Introspection || cfg.BulkThreshold != 64<<10 {
		t.Fatalf("defaults: %+v", cfg)
	}
	if cfg.SessionIdleTimeout != 24*time.Hour {
		t.Fatalf("session idle timeout %s", cfg.SessionIdleTimeout)
	}
}

func TestConfigPrecedenceFlagsOverEnvOverFileOverDefaults(t *testing.T) {
	file := writeFile(t, "listen: ':7000'\nlog_level: warn\ncors_origins: [https://a.example]\nshutdown_timeout: 5s\npassword:\n  iterations: 3\n")
	env := []string{
		"RHIZOFLEX_LOG_LEVEL=debug",
		"RHIZOFLEX_CORS_ORIGINS=[https://b.example, 'https://c.example']",
		"RHIZOFLEX_SECURE_COOKIES=true",
		"RHIZOFLEX_PASSWORD__PARALLELISM=2",
		"RHIZOFLEX_TEST_POSTGRES=postgres://ignored",
		"OTHER=1",
	}
	flags := pflag.NewFlagSet("t", pflag.ContinueOnError)
	flags.String("listen", "", "")
	flags.String("log-level", "", "")
	if err := flags.Parse([]string{"--listen", "127.0.0.1:9000"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(file, env, flags)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9000" {
		t.Errorf("flag should win: listen = %q", cfg.Listen)
	}
	if cfg.LogLevel != "debug" {
		t.Errorf("env should beat file: log_level = %q", cfg.LogLevel)
	}
	if strings.Join(cfg.CORSOrigins, ",") != "https://b.example,https://c.example" {
		t.Errorf("env YAML list: %v", cfg.CORSOrigins)
	}
	if !cfg.SecureCookies || cfg.ShutdownTimeout != 5*time.Second {
		t.Errorf("env bool / file duration: %+v", cfg)
	}
	if cfg.Password.Iterations != 3 || cfg.Password.Parallelism != 2 || cfg.Password.MemoryKiB == 0 {
		t.Errorf("nested settings: %+v", cfg.Password)
	}
}

func TestConfigProductionDefaults(t *testing.T) {
	cfg, err := loadConfig(writeFile(t, "production: true\nsecure_cookies: true\n"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Playground || cfg.Introspection {
		t.Fatalf("production should turn playground and introspection off: %+v", cfg)
	}
	cfg, err = loadConfig(writeFile(t, "production: true\nsecure_cookies: true\nplayground: true\n"), nil, nil)
	if err != nil || !cfg.Playground {
		t.Fatalf("explicit playground in production: %v %+v", err, cfg)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, file string
		env        []string
		want       string
	}{
		{"unknown key", "lisen: ':1'\n", nil, `unknown setting "lisen"`},
		{"bad level", "log_level: loud\n", nil, `log_level "loud"`},
		{"bad duration", "shutdown_timeout: soon\n", nil, "shutdown_timeout"},
		{"negative size", "max_body_bytes: -1\n", nil, "max_body_bytes must be positive"},
		{"wrong type", "listen: [1, 2]\n", nil, "listen"},
		{"star origin", "cors_origins: ['*']\n", nil, "may not contain *"},
		{"production needs secure cookies", "production: true\n", nil, "secure_cookies"},
		{"bad env", "", []string{"RHIZOFLEX_QUERY_DEPTH=deep"}, "query_depth"},
		{"bad database url", "database_url: mysql://x\n", nil, "database_url"},
		{"broken yaml", "listen: [\n", nil, "read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(writeFile(t, tc.file), tc.env, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("config errors are one line: %q", err.Error())
			}
		})
	}
}

// docs/sample-config.yaml loads cleanly and lists every setting, so it stays true.
func TestSampleConfigListsEverySetting(t *testing.T) {
	const sample = "../docs/sample-config.yaml"
	if _, err := loadConfig(sample, nil, nil); err != nil {
		t.Fatalf("sample config does not load: %v", err)
	}
	body, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"playground", "introspection"}
	for k := range defaults() {
		keys = append(keys, k)
	}
	for _, k := range keys {
		leaf := k[strings.LastIndex(k, ".")+1:]
		if !strings.Contains(string(body), "\n"+leaf+":") && !strings.Contains(string(body), "  "+leaf+":") {
			t.Errorf("docs/sample-config.yaml does not list %s", k)
		}
	}
}
