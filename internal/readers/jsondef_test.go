package readers

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const jsonSource = `{
  "description": "Waves as JSON",
  "das2Stream": 1,
  "techContact": "T <t@x>",
  "exampleRange": ["2024-01-01 to 2024-01-02 | first", "2024-02-01 to 2024-02-02"],
  "readAccess": "GROUP:lab",
  "cacheLevel": ["60 s | daily"],
  "commands": [
    {"order": 1, "label": "reader", "template": "PROG 'fixed arg' --start=#[read.time.min] #[read.time.max] #[read.opts # --opt @ # --none] #[read.time.interval # -i @ #]"},
    {"order": 3, "template": "das2_bin_avgsec #[bin.time.max]"}
  ]
}`

func TestJSONSourceTemplate(t *testing.T) {
	d, tmpl, err := ParseJSONSource("w.json", strings.NewReader(jsonSource))
	if err != nil {
		t.Fatal(err)
	}
	def, err := Define("w", d)
	if err != nil {
		t.Fatal(err)
	}
	def.template = tmpl
	if len(def.Examples) != 2 || def.Examples[0].Label != "first" || len(def.ReadAccess) != 1 || len(def.CacheLevels) != 1 {
		t.Fatalf("definition %+v", def)
	}
	for _, c := range []struct {
		req  Request
		want []string
	}{
		{Request{Start: "2024-01-01 00:00", End: "x; rm -rf /"}, []string{"PROG", "fixed arg", "--start=2024-01-01 00:00", "x; rm -rf /", "--none"}},
		{Request{Start: "a", End: "b", Params: "p1 p2"}, []string{"PROG", "fixed arg", "--start=a", "b", "--opt", "p1", "p2"}},
		{Request{Start: "a", End: "b", Interval: "60"}, []string{"PROG", "fixed arg", "--start=a", "b", "--none", "-i", "60"}},
	} {
		got, err := Argv(def, c.req)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "\x00") != strings.Join(c.want, "\x00") {
			t.Errorf("Argv(%+v) = %q, want %q", c.req, got, c.want)
		}
	}
	var ae *ArgumentError
	if _, err := Argv(def, Request{End: "b"}); !errors.As(err, &ae) || ae.Name != "read.time.min" {
		t.Errorf("missing start: %v", err)
	}
	if _, err := Argv(def, Request{Start: "a\n", End: "b"}); !errors.As(err, &ae) {
		t.Errorf("control character: %v", err)
	}
}

func TestBadJSONSourcesNameLineAndKey(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"{\n\"description\": \"x\",\n}", "j.json:3: not a JSON object"},
		{`{"description": "x"}`, "j.json: commands: required key is missing"},
		{"{\n\"commands\": [{\"order\": 2, \"template\": \"x\"}]}", "j.json:2: commands: no command of order 1"},
		{"{\n\"commands\": [{\"order\": 1, \"template\": \"x #[bogus.key]\"}]}", `j.json:2: commands.template: marker #[bogus.key]: unknown key "bogus.key"`},
		{"{\n\"commands\": [{\"order\": 1, \"template\": \"#[read.time.min] x\"}]}", "j.json:2: commands.template: the template must start with the program"},
		{"{\"commands\": [{\"order\": 1, \"template\": \"x\"}],\n\"description\": {\"a\": 1}}", "j.json:2: description: want a string"},
	} {
		_, _, err := ParseJSONSource("j.json", strings.NewReader(c.text))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant %s...", c.text, err, c.want)
		}
	}
}

// A JSON source in a directory runs the example reader through its template.
func TestJSONSourceRuns(t *testing.T) {
	dir := t.TempDir()
	src := strings.Replace(jsonSource, "PROG 'fixed arg' --start=#[read.time.min]", "env READERS_TEST_READER=1 "+os.Args[0]+" gen "+filepath.Join(dir, "runs.log")+" waveform #[read.time.min]", 1)
	src = strings.Replace(src, "#[read.opts # --opt @ # --none]", "#[read.opts#@#]", 1)
	write(t, dir, "sub/waves.json", src)
	s, err := Load(dir)
	if err != nil || len(s.Errors()) > 0 {
		t.Fatal(err, s.Errors())
	}
	def, ok := s.Get("sub/waves")
	if !ok {
		t.Fatal("not loaded")
	}
	r, _ := newRunner(t)
	var buf bytes.Buffer
	res, err := Stream(context.Background(), r, def, Request{Start: "2024-01-01T00:00:00", End: "2024-01-01T00:01:00", Params: "--scale=2"}, csvSink(t, &buf))
	if err != nil || res.Records != 60 {
		t.Fatalf("%+v %v", res, err)
	}
}
