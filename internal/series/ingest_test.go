package series_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 2, 2))
	img.Set(1, 1, color.White)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestUpdateManyValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		num := newSeq(t, c, "num", tree.Numeric, map[string]any{"min": -10, "max": 100})
		text := newSeq(t, c, "text", tree.Text, nil)
		js := newSeq(t, c, "json", tree.JSON, nil)
		img := newSeq(t, c, "img", tree.Image, nil)
		if _, err := tree.Create(t.Context(), c, tree.CreateParams{Path: "/lab/folder", Type: tree.Folder}); err != nil {
			t.Fatal(err)
		}
		pic := pngBytes(t)
		cases := []struct {
			name string
			item series.Item
			code fault.Code // "" = accepted
		}{
			{"number", series.Item{Resource: num, Value: 42.5}, ""},
			{"integer", series.Item{Resource: num, Value: 7}, ""},
			{"numeric string", series.Item{Resource: num, Value: " 1.5e1 "}, ""},
			{"json number", series.Item{Resource: num, Value: json.Number("3")}, ""},
			{"by path", series.Item{Path: "/lab/num/", Value: 1.0}, ""},
			{"at min", series.Item{Resource: num, Value: -10}, ""},
			{"below min", series.Item{Resource: num, Value: -10.001}, fault.BadInput},
			{"above max", series.Item{Resource: num, Value: 100.5}, fault.BadInput},
			{"word for number", series.Item{Resource: num, Value: "warm"}, fault.BadInput},
			{"NaN", series.Item{Resource: num, Value: "NaN"}, fault.BadInput},
			{"infinity", series.Item{Resource: num, Value: math.Inf(1)}, fault.BadInput},
			{"bool for number", series.Item{Resource: num, Value: true}, fault.BadInput},
			{"year 10000", series.Item{Resource: num, Value: 1, Time: new(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))}, fault.BadInput},
			{"text", series.Item{Resource: text, Value: "hello wörld"}, ""},
			{"number for text", series.Item{Resource: text, Value: 3.0}, fault.BadInput},
			{"bad utf-8", series.Item{Resource: text, Value: "a\xffb"}, fault.BadInput},
			{"NUL in text", series.Item{Resource: text, Value: "a\x00b"}, fault.BadInput},
			{"json object", series.Item{Resource: js, Value: `{"a":[1,2]}`}, ""},
			{"json go value", series.Item{Resource: js, Value: map[string]int{"a": 1}}, ""},
			{"broken json", series.Item{Resource: js, Value: `{"a":`}, fault.BadInput},
			{"png", series.Item{Resource: img, Value: pic}, ""},
			{"png base64", series.Item{Resource: img, Value: base64.StdEncoding.EncodeToString(pic)}, ""},
			{"not an image", series.Item{Resource: img, Value: []byte("GIF89a....")}, fault.BadInput},
			{"unknown path", series.Item{Path: "/lab/nothing", Value: 1}, fault.NotFound},
			{"bad path", series.Item{Path: "lab/num", Value: 1}, fault.BadInput},
			{"folder", series.Item{Path: "/lab/folder", Value: 1}, fault.BadInput},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rid := 0
				if tc.item.Resource != nil {
					rid = tc.item.Resource.ID
				}
				before := 0
				if rid != 0 {
					before = len(revisions(t, c, rid))
				}
				errs, err := series.UpdateMany(t.Context(), c, []series.Item{tc.item})
				if tc.code == "" {
					if err != nil || errs != nil {
						t.Fatalf("refused: %v %v", errs, err)
					}
					if rid != 0 && len(revisions(t, c, rid)) != before+1 {
						t.Fatalf("value not stored")
					}
					return
				}
				if !fault.Is(err, fault.BadInput) || len(errs) != 1 || errs[0].Index != 0 || errs[0].Code != tc.code || errs[0].Message == "" {
					t.Fatalf("got %v %v, want one item error %s", errs, err, tc.code)
				}
				if rid != 0 && len(revisions(t, c, rid)) != before {
					t.Fatalf("refused value stored")
				}
			})
		}
	})
}

func TestUpdateManyAllOrNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		a := newSeq(t, c, "a", tree.Numeric, map[string]any{"max": 10})
		b := newSeq(t, c, "b", tree.Text, nil)
		items := []series.Item{
			{Resource: a, Value: 1, Time: new(base)},
			{Resource: b, Value: "ok", Time: new(base)},
			{Resource: a, Value: 11, Time: new(base)},           // above max
			{Path: "/lab/b", Value: 2.0, Time: new(base)},       // number for text
			{Path: "/lab/missing", Value: 1.0, Time: new(base)}, // not found
			{Resource: a, Value: 2, Time: new(base.Add(time.Second))},
		}
		errs, err := series.UpdateMany(t.Context(), c, items)
		if !fault.Is(err, fault.BadInput) {
			t.Fatalf("err = %v, want BAD_USER_INPUT", err)
		}
		want := []series.ItemError{{Index: 2, Code: fault.BadInput}, {Index: 3, Code: fault.BadInput}, {Index: 4, Code: fault.NotFound}}
		if len(errs) != len(want) {
			t.Fatalf("errors %v, want %v", errs, want)
		}
		for i, w := range want {
			if errs[i].Index != w.Index || errs[i].Code != w.Code {
				t.Errorf("error %d = %+v, want %+v", i, errs[i], w)
			}
		}
		if n := len(revisions(t, c, a.ID)) + len(revisions(t, c, b.ID)); n != 0 {
			t.Fatalf("%d values stored from a refused batch", n)
		}
		if n, err := c.Rollup.Query().Count(t.Context()); err != nil || n != 0 {
			t.Fatalf("%d rollups stored from a refused batch (%v)", n, err)
		}
	})
}

func TestUpdateManyStores(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		num := newSeq(t, c, "num", tree.Numeric, nil)
		text := newSeq(t, c, "text", tree.Text, nil)
		js := newSeq(t, c, "json", tree.JSON, nil)
		img := newSeq(t, c, "img", tree.Image, nil)
		pic := pngBytes(t)
		times := []time.Time{
			time.Date(1969, 7, 20, 20, 17, 40, 123456000, time.UTC),
			time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC),
			time.Date(2150, 12, 31, 23, 59, 59, 999999000, time.UTC),
			base,
		}
		var items []series.Item
		for i, tm := range times {
			items = append(items, series.Item{Resource: num, Value: float64(i) + 0.25, Time: new(tm)})
		}
		items = append(items,
			series.Item{Resource: text, Value: "line 'one'; DROP TABLE revisions; --", Time: new(base)},
			series.Item{Resource: js, Value: json.RawMessage(`{"k": "v"}`), Time: new(base)},
			series.Item{Resource: img, Value: pic, Time: new(base)},
		)
		before := time.Now().Add(-time.Second)
		items = append(items, series.Item{Resource: num, Value: 9.0}) // server time
		mustUpdate(t, c, items)

		got := revisions(t, c, num.ID)
		if len(got) != len(times)+1 {
			t.Fatalf("%d numeric values, want %d", len(got), len(times)+1)
		}
		wantTs := make([]int64, 0, len(times))
		for _, tm := range times {
			wantTs = append(wantTs, series.Micros(tm))
		}
		wantTs = sortedCopy(wantTs)
		var server *ent.Revision
		i := 0
		for _, r := range got {
			if r.Num != nil && *r.Num == 9 {
				server = r
				continue
			}
			if i >= len(wantTs) || r.Timestamp != wantTs[i] || r.Num == nil || r.Text != nil {
				t.Errorf("value %d: ts %d num %v text %v, want ts %v as a number", i, r.Timestamp, r.Num, r.Text, wantTs)
			}
			i++
		}
		if server == nil {
			t.Fatal("server-time value missing")
		}
		if now := series.TimeOf(server.Timestamp); now.Before(before) || now.After(time.Now()) {
			t.Errorf("server-time value at %v", now)
		}
		tv := revisions(t, c, text.ID)
		if len(tv) != 1 || tv[0].Text == nil || *tv[0].Text != "line 'one'; DROP TABLE revisions; --" || tv[0].Num != nil {
			t.Errorf("text value: %+v", tv)
		}
		jv := revisions(t, c, js.ID)
		if len(jv) != 1 || jv[0].Text == nil || *jv[0].Text != `{"k": "v"}` {
			t.Errorf("json value: %+v", jv)
		}
		iv := revisions(t, c, img.ID)
		if len(iv) != 1 || !bytes.Equal(iv[0].Data, pic) || iv[0].ContentType == nil || *iv[0].ContentType != "image/png" || iv[0].Size != int64(len(pic)) {
			t.Errorf("image value: %+v", iv)
		}
		// last_revision_at is the newest value's time and never moves back.
		checkLast := func(want time.Time) {
			t.Helper()
			r, err := c.Resource.Get(t.Context(), num.ID)
			if err != nil {
				t.Fatal(err)
			}
			if r.LastRevisionAt == nil || !r.LastRevisionAt.Equal(want) {
				t.Errorf("last_revision_at = %v, want %v", r.LastRevisionAt, want)
			}
		}
		checkLast(times[2])
		mustUpdate(t, c, []series.Item{{Resource: num, Value: 1.0, Time: new(times[0].Add(time.Hour))}})
		checkLast(times[2])
		later := times[2].Add(time.Microsecond)
		mustUpdate(t, c, []series.Item{{Resource: num, Value: 1.0, Time: new(later)}})
		checkLast(later)
		checkRollups(t, c, num.ID)
	})
}

func TestAppendAndUpdate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		num := newSeq(t, c, "num", tree.Numeric, map[string]any{"max": 5})
		v := 3.0
		if err := series.Append(t.Context(), c, num, []series.Value{{Time: base, Num: &v}}); err != nil {
			t.Fatal(err)
		}
		if err := series.Update(t.Context(), c, num, 4.0, new(base.Add(time.Second))); err != nil {
			t.Fatal(err)
		}
		if err := series.Update(t.Context(), c, num, 6.0, new(base.Add(2*time.Second))); !fault.Is(err, fault.BadInput) {
			t.Fatalf("Update above max: %v, want BAD_USER_INPUT", err)
		}
		folder, err := tree.ByPath(t.Context(), c, "/lab")
		if err != nil {
			t.Fatal(err)
		}
		if err := series.Update(t.Context(), c, folder, 1.0, new(base)); !fault.Is(err, fault.BadInput) {
			t.Fatalf("Update of a folder: %v, want BAD_USER_INPUT", err)
		}
		last, err := series.LastValue(t.Context(), c, num)
		if err != nil || last == nil || *last.Num != 4 || !last.Time.Equal(base.Add(time.Second)) {
			t.Fatalf("LastValue = %+v, %v", last, err)
		}
	})
}

func TestMinStorageInterval(t *testing.T) {
	s := time.Second
	cases := []struct {
		name     string
		interval float64
		before   []time.Duration // stored first, offsets from base
		batch    []time.Duration
		want     []time.Duration // all stored offsets afterwards
	}{
		{"off stores all", 0, nil, []time.Duration{0, time.Microsecond, 2 * time.Microsecond}, []time.Duration{0, time.Microsecond, 2 * time.Microsecond}},
		{"first value kept", 10, nil, []time.Duration{0}, []time.Duration{0}},
		{"within batch", 10, nil, []time.Duration{0, 5 * s, 10 * s, 12 * s, 25 * s}, []time.Duration{0, 10 * s, 25 * s}},
		{"against stored", 10, []time.Duration{0}, []time.Duration{9 * s, 10 * s}, []time.Duration{0, 10 * s}},
		{"back fill kept", 10, []time.Duration{100 * s}, []time.Duration{50 * s, 105 * s}, []time.Duration{50 * s, 100 * s}},
		{"fractional seconds", 0.5, nil, []time.Duration{0, 400 * time.Millisecond, 500 * time.Millisecond}, []time.Duration{0, 500 * time.Millisecond}},
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				seq := newSeq(t, c, "s"+string(rune('a'+i)), tree.Numeric, map[string]any{"min_storage_interval": tc.interval})
				items := func(offs []time.Duration) []series.Item {
					var out []series.Item
					for _, o := range offs {
						out = append(out, series.Item{Resource: seq, Value: 1.0, Time: new(base.Add(o))})
					}
					return out
				}
				if len(tc.before) > 0 {
					mustUpdate(t, c, items(tc.before))
				}
				mustUpdate(t, c, items(tc.batch))
				var got []int64
				for _, r := range revisions(t, c, seq.ID) {
					got = append(got, r.Timestamp)
				}
				var want []int64
				for _, o := range tc.want {
					want = append(want, series.Micros(base.Add(o)))
				}
				if !equalInts(got, want) {
					t.Fatalf("stored %v, want %v", got, want)
				}
				checkRollups(t, c, seq.ID)
			})
		}
	})
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// resourceOf reloads a resource (tests compare stored attributes).
func resourceOf(t *testing.T, c *ent.Client, id int) *ent.Resource {
	t.Helper()
	r, err := c.Resource.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
