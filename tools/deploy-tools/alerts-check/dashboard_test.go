package alertscheck

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

// The dashboard the chart ships (templates/grafana-dashboard.yaml embeds it).
const dashboardFile = "../../../charts/rampart/dashboards/rampart.json"

type panel struct {
	ID         int                      `json:"id"`
	Type       string                   `json:"type"`
	Title      string                   `json:"title"`
	Datasource json.RawMessage          `json:"datasource"`
	GridPos    struct{ X, Y, W, H int } `json:"gridPos"`
	Targets    []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a row's panels
}

type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []templateVariable `json:"list"`
	} `json:"templating"`
}

type templateVariable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s is not a dashboard in JSON: %v", dashboardFile, err)
	}
	return d
}

func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// Grafana's variables, put in before parsing: intervals become a duration, anything else (all
// of them in label matchers) a regular expression that matches everything.
var variable = regexp.MustCompile(`\$\{?(\w+)\}?`)

func substitute(expr string) string {
	return variable.ReplaceAllStringFunc(expr, func(v string) string {
		switch strings.Trim(v, "${}") {
		case "__rate_interval", "__interval", "__range":
			return "5m"
		default:
			return ".*"
		}
	})
}

// The names of the series a PromQL expression reads.
func seriesNames(t *testing.T, where, expr string) []string {
	t.Helper()
	e, err := promqlParser.ParseExpr(substitute(expr))
	if err != nil {
		t.Errorf("%s: %q does not parse: %v", where, expr, err)
		return nil
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			if vs.Name == "" {
				t.Errorf("%s: %s selects no metric by name", where, vs)
			}
			names = append(names, vs.Name)
		}
		return nil
	})
	return names
}

var labelValues = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

func TestDashboardQueriesParseAndUseOnlyRampartsMetrics(t *testing.T) {
	d := loadDashboard(t)
	used := map[string]bool{}
	check := func(where string, names []string) {
		for _, n := range names {
			used[n] = true
			if !knownSeries(n) {
				t.Errorf("%s: %s is no metric rampart exports", where, n)
			}
		}
	}
	queries := 0
	for _, p := range allPanels(d.Panels) {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			queries++
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q, query %s: no expr", p.Title, tg.RefID)
				continue
			}
			check("panel "+p.Title, seriesNames(t, "panel "+p.Title, tg.Expr))
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Errorf("variable %s: %q is not label_values(selector, label)", v.Name, v.Definition)
			continue
		}
		check("variable "+v.Name, seriesNames(t, "variable "+v.Name, m[1]))
	}
	if queries == 0 {
		t.Fatal("the dashboard has no queries")
	}
	// What the dashboard is for: each of these must be shown.
	for _, name := range []string{
		"rampart_backup_healthy", "rampart_backup_seconds_since_success", "rampart_backups_held",
		"rampart_backup_last_result", "rampart_objects", "rampart_objects_ready",
		"rampart_vendor_requests_total", "rampart_reconciles_total",
	} {
		if !used[name] {
			t.Errorf("the dashboard shows no %s", name)
		}
	}
}

// The dashboard's frame: a Prometheus data source variable every panel uses, unique panel ids,
// panels within Grafana's 24 columns.
func TestDashboardShape(t *testing.T) {
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 36 {
		t.Errorf("uid %q, title %q, schemaVersion %d", d.UID, d.Title, d.SchemaVersion)
	}
	i := slices.IndexFunc(d.Templating.List, func(v templateVariable) bool { return v.Name == "datasource" })
	if i < 0 || d.Templating.List[i].Type != "datasource" || string(d.Templating.List[i].Query) != `"prometheus"` {
		t.Fatal("no datasource variable of Prometheus data sources")
	}
	ids := map[int]bool{}
	for _, p := range allPanels(d.Panels) {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		var ds struct{ Type, UID string }
		if err := json.Unmarshal(p.Datasource, &ds); err != nil || ds.Type != "prometheus" || ds.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %s, want the ${datasource} variable", p.Title, p.Datasource)
		}
	}
}
