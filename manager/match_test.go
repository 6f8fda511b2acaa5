package manager

import (
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
)

func TestMatch(t *testing.T) {
	id := func(prefix string) string { return prefix + strings.Repeat("0", 64-len(prefix)) }
	list := []container.Summary{
		{ID: id("abc1"), Names: []string{"/web"}},
		{ID: id("abd2"), Names: []string{"/web/db", "/db"}}, // a legacy link alias first
		{ID: id("cafe"), Names: []string{"/" + id("abc1")[:10]}},
		{ID: id("e1"), Names: []string{"/" + id("f9")}},
		{ID: id("f9"), Names: []string{"/full"}},
		{ID: id("9a"), Names: []string{"/abc"}},
	}
	tests := []struct {
		name    string
		ref     string
		wantID  string
		wantErr string
	}{
		{name: "full ID", ref: id("abc1"), wantID: id("abc1")},
		{name: "exact name", ref: "web", wantID: id("abc1")},
		{name: "slash name", ref: "/web", wantID: id("abc1")},
		{name: "surrounding blanks", ref: "  web\t", wantID: id("abc1")},
		{name: "name behind a link alias", ref: "db", wantID: id("abd2")},
		{name: "unique prefix", ref: "abd", wantID: id("abd2")},
		{name: "short ID", ref: id("abd2")[:12], wantID: id("abd2")},
		{name: "name beats prefix", ref: "abc", wantID: id("9a")},
		{name: "name that is a prefix of another ID", ref: id("abc1")[:10], wantID: id("cafe")},
		{name: "full ID beats name", ref: id("f9"), wantID: id("f9")},
		{
			name:    "ambiguous prefix",
			ref:     "ab",
			wantErr: `ambiguous container "ab" matches 2 containers: db (abd200000000), web (abc100000000)`,
		},
		{name: "unknown", ref: "nosuch", wantErr: "no such container: nosuch"},
		{name: "legacy link alias is not a name", ref: "web/db", wantErr: "no such container: web/db"},
		{name: "empty", ref: "", wantErr: "empty container name"},
		{name: "blank", ref: " \t", wantErr: "empty container name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Match(list, tt.ref)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Match(%q) = %s, %v; want error %q", tt.ref, ShortID(got.ID), err, tt.wantErr)
				}
				oneLine(t, err)
				return
			}
			if err != nil {
				t.Fatalf("Match(%q): %v", tt.ref, err)
			}
			if got.ID != tt.wantID {
				t.Errorf("Match(%q) = %s, want %s", tt.ref, ShortID(got.ID), ShortID(tt.wantID))
			}
		})
	}
	t.Run("empty list", func(t *testing.T) {
		if _, err := Match(nil, "web"); err == nil || err.Error() != "no such container: web" {
			t.Errorf("Match(nil, web) error = %v", err)
		}
	})
	t.Run("candidates sorted by name", func(t *testing.T) {
		many := []container.Summary{
			{ID: id("77c"), Names: []string{"/zeta"}},
			{ID: id("77a"), Names: []string{"/alpha"}},
			{ID: id("77b"), Names: []string{"/mid"}},
		}
		_, err := Match(many, "77")
		want := `ambiguous container "77" matches 3 containers: alpha (77a000000000), mid (77b000000000), zeta (77c000000000)`
		if err == nil || err.Error() != want {
			t.Errorf("error = %v, want %q", err, want)
		}
	})
}

func TestShortID(t *testing.T) {
	full := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct{ name, in, want string }{
		{"full ID", full, "0123456789ab"},
		{"image digest", "sha256:" + full, "0123456789ab"},
		{"twelve", "0123456789ab", "0123456789ab"},
		{"shorter", "abc", "abc"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ShortID(tt.in); got != tt.want {
				t.Errorf("ShortID(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  string
	}{
		{"plain", []string{"/web"}, "web"},
		{"no slash", []string{"web"}, "web"},
		{"link alias first", []string{"/web/db", "/db"}, "db"},
		{"link alias last", []string{"/db", "/web/db"}, "db"},
		{"only link aliases", []string{"/web/db"}, ""},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Name(container.Summary{Names: tt.names}); got != tt.want {
				t.Errorf("Name(%q) = %q, want %q", tt.names, got, tt.want)
			}
		})
	}
}

func TestFormatNano(t *testing.T) {
	tests := []struct {
		name string
		ns   int64
		want string
	}{
		{"zero", 0, "0.000000000"},
		{"one nanosecond", 1, "0.000000001"},
		{"one second", 1e9, "1.000000000"},
		{"leading zeros in the fraction", 1_700_000_000_000_000_042, "1700000000.000000042"},
		{"full precision", 1_763_832_001_760_312_325, "1763832001.760312325"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatNano(tt.ns); got != tt.want {
				t.Errorf("formatNano(%d) = %q, want %q", tt.ns, got, tt.want)
			}
		})
	}
}
