package prometheus

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dockman/dockman/metrics"
)

// monitoringDoc is docs/monitoring.md, which documents the metrics, the
// scrape configuration and the alerts.
const monitoringDoc = "../../docs/monitoring.md"

func readDoc(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(monitoringDoc)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestDocListsEveryFamily checks the doc's table of metrics against
// metrics.Families: a row for each family, with its type and its labels.
func TestDocListsEveryFamily(t *testing.T) {
	doc := readDoc(t)
	rows := map[string][]string{}
	for line := range strings.Lines(doc) {
		cells := strings.Split(strings.TrimSpace(line), "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`dockman_") {
			continue
		}
		rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = cells[1:]
	}
	for _, f := range metrics.Families {
		row, ok := rows[f.Name]
		if !ok {
			t.Errorf("%s has no row in %s", f.Name, monitoringDoc)
			continue
		}
		if typ := strings.TrimSpace(row[1]); typ != f.Type {
			t.Errorf("%s: the doc says %s, metrics.Families %s", f.Name, typ, f.Type)
		}
		var labels []string
		for _, l := range strings.Split(row[2], ",") {
			if l = strings.Trim(strings.TrimSpace(l), "`"); l != "" && l != "—" {
				labels = append(labels, l)
			}
		}
		if strings.Join(labels, ",") != strings.Join(f.Labels, ",") {
			t.Errorf("%s: the doc's labels %q, metrics.Families %q", f.Name, labels, f.Labels)
		}
		delete(rows, f.Name)
	}
	for name := range rows {
		t.Errorf("%s documents %s, which metrics.Families does not have", monitoringDoc, name)
	}
}

// TestDocNamesEveryAlert checks that each alert of alerts.yaml is in the
// doc's table, and no other.
func TestDocNamesEveryAlert(t *testing.T) {
	doc := readDoc(t)
	rules, err := ReadRules(Alerts)
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(Dockman\\w+)` \\|").FindAllStringSubmatch(doc, -1) {
		documented[m[1]] = true
	}
	for _, r := range rules {
		if !documented[r.Name] {
			t.Errorf("alert %s is not in %s's table", r.Name, monitoringDoc)
		}
		delete(documented, r.Name)
	}
	for name := range documented {
		t.Errorf("%s documents alert %s, which alerts.yaml does not have", monitoringDoc, name)
	}
}

var (
	yamlBlockRE  = regexp.MustCompile("(?s)```yaml\n(.*?)```")
	credsFileRE  = regexp.MustCompile(`credentials_file: \S+`)
	alertsPathRE = regexp.MustCompile(`\S*dockman-alerts\.yaml`)
)

// TestDocScrapeConfigs has promtool check every Prometheus configuration
// of the doc (each yaml block with scrape_configs): the token file each
// names is made in a temporary directory, and the rules file it loads is
// alerts.yaml. Skipped without promtool (failed on CI).
func TestDocScrapeConfigs(t *testing.T) {
	promtool := LookTool(t, "promtool")
	doc := readDoc(t)
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	alerts, err := filepath.Abs("alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range yamlBlockRE.FindAllStringSubmatch(doc, -1) {
		block := m[1]
		if !strings.Contains(block, "scrape_configs:") {
			continue
		}
		n++
		if !strings.Contains(block, "credentials_file:") {
			t.Errorf("config %d scrapes without the token:\n%s", n, block)
		}
		block = credsFileRE.ReplaceAllString(block, "credentials_file: "+token)
		block = alertsPathRE.ReplaceAllString(block, alerts)
		out, err := checkConfig(t, promtool, dir, block)
		if err != nil && strings.Contains(string(out), "field kubernetes_sd_configs not found") {
			// Debian builds Prometheus without Kubernetes discovery: check
			// the rest, with static targets in its place.
			t.Logf("config %d: this promtool has no Kubernetes discovery; checked with static targets instead", n)
			block = replaceBlock(block, "kubernetes_sd_configs:", "static_configs:\n  - targets: ['10.0.0.1:8080']")
			out, err = checkConfig(t, promtool, dir, block)
		}
		if err != nil {
			t.Errorf("config %d of %s: promtool check config: %v\n%s\n%s", n, monitoringDoc, err, out, block)
		}
	}
	if n < 2 {
		t.Errorf("%s has %d Prometheus configurations, want the static one and the Kubernetes one", monitoringDoc, n)
	}
}

// checkConfig runs promtool check config on config, written in dir.
func checkConfig(t *testing.T, promtool, dir, config string) ([]byte, error) {
	t.Helper()
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return exec.Command(promtool, "check", "config", path).CombinedOutput()
}

// replaceBlock replaces the YAML key line starting with key, and the
// lines below it indented deeper, by with (indented as key was, line by
// line).
func replaceBlock(doc, key, with string) string {
	lines := strings.Split(doc, "\n")
	for i, l := range lines {
		trimmed := strings.TrimLeft(l, " ")
		if !strings.HasPrefix(trimmed, key) {
			continue
		}
		indent := l[:len(l)-len(trimmed)]
		j := i + 1
		for j < len(lines) && (strings.TrimSpace(lines[j]) == "" || len(lines[j])-len(strings.TrimLeft(lines[j], " ")) > len(indent)) {
			j++
		}
		var repl []string
		for _, w := range strings.Split(with, "\n") {
			repl = append(repl, indent+w)
		}
		return strings.Join(append(append(lines[:i:i], repl...), lines[j:]...), "\n")
	}
	return doc
}

func TestReplaceBlock(t *testing.T) {
	doc := "a:\n  - job: x\n    sd:\n      - role: pod\n        ns: [d]\n\n    relabel: []\nb: 1"
	want := "a:\n  - job: x\n    static:\n    - t: [1]\n    relabel: []\nb: 1"
	if got := replaceBlock(doc, "sd:", "static:\n- t: [1]"); got != want {
		t.Errorf("replaceBlock = %q, want %q", got, want)
	}
	if got := replaceBlock(doc, "none:", "x"); got != doc {
		t.Errorf("replaceBlock without the key changed the text: %q", got)
	}
}
