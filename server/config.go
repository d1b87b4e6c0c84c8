package server

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
	yamlv3 "go.yaml.in/yaml/v3"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/notify"
)

// Config is every setting of the server. docs/sample-config.yaml lists them all.
type Config struct {
	Listen             string                `koanf:"listen"`
	DatabaseURL        string                `koanf:"database_url"`
	DataDir            string                `koanf:"data_dir"`
	BaseURL            string                `koanf:"base_url"`
	Production         bool                  `koanf:"production"`
	LogLevel           string                `koanf:"log_level"`
	LogFormat          string                `koanf:"log_format"`
	CORSOrigins        []string              `koanf:"cors_origins"`
	TrustedProxies     []string              `koanf:"trusted_proxies"`
	SecureCookies      bool                  `koanf:"secure_cookies"`
	SessionIdleTimeout time.Duration         `koanf:"session_idle_timeout"`
	SessionLifetime    time.Duration         `koanf:"session_lifetime"`
	Playground         bool                  `koanf:"playground"`
	Introspection      bool                  `koanf:"introspection"`
	MaxBodyBytes       int64                 `koanf:"max_body_bytes"`
	MaxUploadBytes     int64                 `koanf:"max_upload_bytes"`
	QueryComplexity    int                   `koanf:"query_complexity"`
	QueryDepth         int                   `koanf:"query_depth"`
	ShutdownTimeout    time.Duration         `koanf:"shutdown_timeout"`
	RequestTimeout     time.Duration         `koanf:"request_timeout"`
	BodyIdleTimeout    time.Duration         `koanf:"body_idle_timeout"`
	HeaderTimeout      time.Duration         `koanf:"header_timeout"`
	BusURL             string                `koanf:"bus_url"`
	SubscriberBuffer   int                   `koanf:"subscriber_buffer"`
	MessageRetention   time.Duration         `koanf:"message_retention"`
	MaxMessageBytes    int64                 `koanf:"max_message_bytes"`
	SMTP               notify.SMTPConfig     `koanf:"smtp"`
	Text               notify.TextConfig     `koanf:"text"`
	Notify             notify.Limits         `koanf:"notify"`
	ControllerOnline   time.Duration         `koanf:"controller_online_ttl"`
	WatchdogInterval   time.Duration         `koanf:"watchdog_interval"`
	BulkThreshold      int64                 `koanf:"bulk_threshold"`
	BlobURL            string                `koanf:"blob_url"`
	TrimInterval       time.Duration         `koanf:"trim_interval"`
	DemoLiveInterval   time.Duration         `koanf:"demo_live_interval"`
	DasPrefix          string                `koanf:"das_prefix"`
	SourcesDir         string                `koanf:"sources_dir"`
	CacheDir           string                `koanf:"cache_dir"`
	ReaderTimeout      time.Duration         `koanf:"reader_timeout"`
	MaxReaders         int                   `koanf:"max_readers"`
	ReaderQueueWait    time.Duration         `koanf:"reader_queue_wait"`
	SelfcheckInterval  time.Duration         `koanf:"selfcheck_interval"`
	SiteName           string                `koanf:"site_name"`
	MQTTListen         string                `koanf:"mqtt_listen"` // MQTT over TCP (the rhizo face); "" = off
	Password           access.PasswordParams `koanf:"password"`
}

// BlobLocation is where bulk storage lives: blob_url, or data_dir/blobs.
func (c Config) BlobLocation() string {
	if c.BlobURL != "" {
		return c.BlobURL
	}
	return filepath.Join(c.DataDir, "blobs")
}

// ReaderCacheDir is where reader sources' cache blocks live: cache_dir, or data_dir/cache.
func (c Config) ReaderCacheDir() string {
	if c.CacheDir != "" {
		return c.CacheDir
	}
	return filepath.Join(c.DataDir, "cache")
}

// defaults are the settings used when nothing else says otherwise. playground and
// introspection default to "on unless production" and are filled in after loading.
func defaults() map[string]any {
	return map[string]any{
		"listen":                   ":8080",
		"database_url":             "sqlite:data/rhizoflex.db",
		"data_dir":                 "data",
		"base_url":                 "",
		"production":               false,
		"log_level":                "info",
		"log_format":               "text",
		"cors_origins":             []string{},
		"trusted_proxies":          []string{},
		"secure_cookies":           false,
		"session_idle_timeout":     "24h",
		"session_lifetime":         "168h",
		"max_body_bytes":           1 << 20,
		"max_upload_bytes":         256 << 20,
		"query_complexity":         100000,
		"query_depth":              15,
		"shutdown_timeout":         "30s",
		"request_timeout":          "30s",
		"body_idle_timeout":        "30s",
		"header_timeout":           "10s",
		"bus_url":                  "",
		"subscriber_buffer":        256,
		"message_retention":        "24h",
		"max_message_bytes":        64 << 10,
		"smtp.host":                "",
		"smtp.port":                0,
		"smtp.username":            "",
		"smtp.password":            "",
		"smtp.from":                "",
		"smtp.tls":                 "starttls",
		"smtp.timeout":             "15s",
		"smtp.ca_file":             "",
		"text.url":                 "",
		"text.username":            "",
		"text.password":            "",
		"text.from":                "",
		"text.timeout":             "15s",
		"notify.throttle":          notify.DefaultLimits.Throttle,
		"notify.throttle_window":   "1h",
		"notify.max_recipients":    notify.DefaultLimits.MaxRecipients,
		"notify.max_subject_bytes": notify.DefaultLimits.MaxSubjectBytes,
		"notify.max_body_bytes":    notify.DefaultLimits.MaxBodyBytes,
		"notify.max_text_chars":    notify.DefaultLimits.MaxTextChars,
		"controller_online_ttl":    "60s",
		"watchdog_interval":        "1m",
		"bulk_threshold":           64 << 10,
		"blob_url":                 "",
		"trim_interval":            "1m",
		"demo_live_interval":       "0s",
		"das_prefix":               "/das",
		"sources_dir":              "",
		"cache_dir":                "",
		"reader_timeout":           "10m",
		"max_readers":              8,
		"reader_queue_wait":        "30s",
		"selfcheck_interval":       "1h",
		"site_name":                "rhizoflex",
		"mqtt_listen":              "",
		"password.memory_kib":      access.DefaultPasswordParams.MemoryKiB,
		"password.iterations":      access.DefaultPasswordParams.Iterations,
		"password.parallelism":     access.DefaultPasswordParams.Parallelism,
	}
}

// envPrefix starts every environment variable that sets a setting.
const envPrefix = "RHIZOFLEX_"

// configError is a bad configuration: the CLI prints it as one line and exits 2.
type configError struct{ err error }

func (e configError) Error() string { return "config: " + e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// loadConfig merges defaults < file < environment < flags. path "" means ./rhizoflex.yaml
// if it exists. Flags are read only when they were set on the command line; a flag named
// "database-url" sets the setting "database_url".
func loadConfig(path string, environ []string, flags *pflag.FlagSet) (Config, error) {
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(defaults(), "."), nil); err != nil {
		return Config{}, configError{err}
	}
	known := k.Keys()
	known = append(known, "playground", "introspection")
	if path == "" {
		if _, err := os.Stat("rhizoflex.yaml"); err == nil {
			path = "rhizoflex.yaml"
		}
	}
	if path != "" {
		fileK := koanf.New(".")
		if err := fileK.Load(file.Provider(path), yaml.Parser()); err != nil {
			return Config{}, configError{fmt.Errorf("read %s: %w", path, err)}
		}
		for _, key := range fileK.Keys() {
			if !slices.Contains(known, key) {
				return Config{}, configError{fmt.Errorf("%s: unknown setting %q", path, key)}
			}
		}
		if err := k.Merge(fileK); err != nil {
			return Config{}, configError{err}
		}
	}
	envK := koanf.New(".")
	if err := envK.Load(env.Provider(".", env.Opt{
		Prefix:        envPrefix,
		EnvironFunc:   func() []string { return environ },
		TransformFunc: envTransform(known),
	}), nil); err != nil {
		return Config{}, configError{err}
	}
	if err := k.Merge(envK); err != nil {
		return Config{}, configError{err}
	}
	if flags != nil {
		flagValues := map[string]any{}
		flags.Visit(func(f *pflag.Flag) {
			key := strings.ReplaceAll(f.Name, "-", "_")
			if f.Name == "config" || !slices.Contains(known, key) {
				return
			}
			flagValues[key] = flagValue(f)
		})
		if err := k.Load(confmap.Provider(flagValues, "."), nil); err != nil {
			return Config{}, configError{err}
		}
	}
	var cfg Config
	dec := koanf.UnmarshalConf{Tag: "koanf", DecoderConfig: &mapstructure.DecoderConfig{
		DecodeHook:       mapstructure.ComposeDecodeHookFunc(mapstructure.StringToTimeDurationHookFunc(), mapstructure.StringToSliceHookFunc(",")),
		WeaklyTypedInput: false,
		ErrorUnused:      true,
		Result:           &cfg,
		TagName:          "koanf",
	}}
	if err := k.UnmarshalWithConf("", &cfg, dec); err != nil {
		return Config{}, configError{cleanDecodeError(err)}
	}
	if !k.Exists("playground") {
		cfg.Playground = !cfg.Production
	}
	if !k.Exists("introspection") {
		cfg.Introspection = !cfg.Production
	}
	if err := cfg.validate(); err != nil {
		return Config{}, configError{err}
	}
	return cfg, nil
}

// envTransform maps RHIZOFLEX_DATABASE_URL to database_url (RHIZOFLEX_PASSWORD__MEMORY_KIB
// to password.memory_kib) and parses the value as YAML, so lists, booleans and quoted
// strings work. Variables that name no setting are ignored (RHIZOFLEX_TEST_POSTGRES is the
// test suite's, for example).
func envTransform(known []string) func(string, string) (string, any) {
	return func(k, v string) (string, any) {
		key := strings.ToLower(strings.TrimPrefix(k, envPrefix))
		key = strings.ReplaceAll(key, "__", ".")
		if !slices.Contains(known, key) {
			return "", nil
		}
		var parsed any
		if err := yamlv3.Unmarshal([]byte(v), &parsed); err != nil || parsed == nil {
			return key, v
		}
		if _, isMap := parsed.(map[string]any); isMap {
			return key, v
		}
		return key, parsed
	}
}

func flagValue(f *pflag.Flag) any {
	switch f.Value.Type() {
	case "bool":
		return f.Value.String() == "true"
	case "stringSlice":
		s := strings.Trim(f.Value.String(), "[]")
		if s == "" {
			return []string{}
		}
		return strings.Split(s, ",")
	default:
		return f.Value.String()
	}
}

// cleanDecodeError turns mapstructure's multi-line report into one line.
func cleanDecodeError(err error) error {
	lines := strings.Fields(strings.ReplaceAll(err.Error(), "\n", " "))
	return errors.New(strings.Join(lines, " "))
}

func (c Config) validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if c.Listen == "" {
		add("listen is empty")
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		add("database_url %q must start with sqlite: or postgres://", c.DatabaseURL)
	}
	if c.DataDir == "" {
		add("data_dir is empty")
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		add("log_level %q is not one of debug, info, warn, error", c.LogLevel)
	}
	if !slices.Contains([]string{"text", "json"}, c.LogFormat) {
		add("log_format %q is not one of text, json", c.LogFormat)
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			add("trusted_proxies entry %q is not a CIDR prefix such as 10.0.0.0/8 or 127.0.0.1/32", p)
		}
	}
	for _, o := range c.CORSOrigins {
		if o == "*" {
			add("cors_origins may not contain * (credentials are allowed): list the origins")
		}
	}
	for name, d := range map[string]time.Duration{"session_idle_timeout": c.SessionIdleTimeout, "session_lifetime": c.SessionLifetime, "shutdown_timeout": c.ShutdownTimeout, "trim_interval": c.TrimInterval, "request_timeout": c.RequestTimeout, "body_idle_timeout": c.BodyIdleTimeout, "header_timeout": c.HeaderTimeout, "message_retention": c.MessageRetention, "controller_online_ttl": c.ControllerOnline, "watchdog_interval": c.WatchdogInterval, "reader_timeout": c.ReaderTimeout, "reader_queue_wait": c.ReaderQueueWait} {
		if d <= 0 {
			add("%s must be positive (got %s)", name, d)
		}
	}
	if c.SelfcheckInterval < 0 {
		add("selfcheck_interval must be 0 (off) or positive (got %s)", c.SelfcheckInterval)
	}
	if c.MaxReaders < 1 {
		add("max_readers must be at least 1 (got %d)", c.MaxReaders)
	}
	if c.SiteName == "" || strings.ContainsAny(c.SiteName, "\"\r\n") {
		add("site_name must be set and hold no double quote or line break (got %q)", c.SiteName)
	}
	if p := c.DasPrefix; !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.ContainsAny(p, " ?#{}") {
		add("das_prefix must start with / and not end with / (got %q)", p)
	}
	if c.BusURL != "" && c.BusURL != "local" && !strings.HasPrefix(c.BusURL, "nats://") && !strings.HasPrefix(c.BusURL, "tls://") {
		add("bus_url must be empty, \"local\" or a nats:// or tls:// URL")
	}
	if c.SMTP.Configured() {
		if err := c.SMTP.Validate(); err != nil {
			add("%s", err.Error())
		}
	}
	if c.Text.Configured() {
		if err := c.Text.Validate(); err != nil {
			add("%s", err.Error())
		}
	}
	if c.DemoLiveInterval < 0 {
		add("demo_live_interval must not be negative")
	}
	for name, n := range map[string]int64{"max_body_bytes": c.MaxBodyBytes, "max_upload_bytes": c.MaxUploadBytes, "query_complexity": int64(c.QueryComplexity), "query_depth": int64(c.QueryDepth), "bulk_threshold": c.BulkThreshold, "subscriber_buffer": int64(c.SubscriberBuffer), "max_message_bytes": c.MaxMessageBytes} {
		if n <= 0 {
			add("%s must be positive (got %d)", name, n)
		}
	}
	if c.Password.MemoryKiB < 8*1024 || c.Password.Iterations < 1 || c.Password.Parallelism < 1 {
		add("password: memory_kib >= 8192, iterations >= 1 and parallelism >= 1 are required")
	}
	if c.Production && !c.SecureCookies {
		add("production needs secure_cookies: true (serve over HTTPS)")
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}
