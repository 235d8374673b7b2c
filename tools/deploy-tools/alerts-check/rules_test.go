package alertscheck

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/template"
)

// The rules file the chart ships (templates/prometheusrule.yaml embeds it).
const rulesFile = "../../../charts/rampart/rules/rampart-alerts.yaml"

// The job the rules file names; the chart puts the release's own job in its place.
const job = `job="rampart-metrics"`

// loadRules parses the rules file with Prometheus' own parser and checks what every alert
// carries.
func loadRules(t *testing.T) []rulefmt.Rule {
	t.Helper()
	groups, errs := rulefmt.ParseFile(rulesFile, false, model.UTF8Validation, promqlParser, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("%s: %v", rulesFile, errs)
	}
	var rules []rulefmt.Rule
	for _, g := range groups.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s holds no rules", rulesFile)
	}
	return rules
}

// ruleKey names a rule: its alert and, as one alert may have several rules, its place among
// the rules of that alert.
type ruleKey struct {
	alert string
	index int
}

func (k ruleKey) String() string { return fmt.Sprintf("%s#%d", k.alert, k.index) }

func keyed(rules []rulefmt.Rule) map[ruleKey]rulefmt.Rule {
	out := map[ruleKey]rulefmt.Rule{}
	seen := map[string]int{}
	for _, r := range rules {
		out[ruleKey{r.Alert, seen[r.Alert]}] = r
		seen[r.Alert]++
	}
	return out
}

func TestRulesAreAlertsWithSeveritySummaryAndDescription(t *testing.T) {
	for _, r := range loadRules(t) {
		if r.Alert == "" {
			t.Errorf("recording rule %q: the file holds alerts only", r.Record)
			continue
		}
		if s := r.Labels["severity"]; s != "critical" && s != "warning" {
			t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
		}
		for _, a := range []string{"summary", "description"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("%s: no %s annotation", r.Alert, a)
			}
		}
		if r.KeepFiringFor != 0 {
			t.Errorf("%s: keep_firing_for is not modelled by this test", r.Alert)
		}
	}
}

// Every series an alert reads belongs to rampart's job (so the chart's substitution scopes
// each release's alerts to its own operator) and is one rampart exports.
func TestRulesSelectOnlyRampartsJobAndMetrics(t *testing.T) {
	for _, r := range loadRules(t) {
		expr, err := promqlParser.ParseExpr(r.Expr)
		if err != nil {
			t.Fatalf("%s: %v", r.Alert, err)
		}
		parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
			vs, ok := node.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			if !knownSeries(vs.Name) {
				t.Errorf("%s: %s is no metric rampart exports", r.Alert, vs.Name)
			}
			if !slices.ContainsFunc(vs.LabelMatchers, func(m *labels.Matcher) bool {
				return m.String() == job
			}) {
				t.Errorf("%s: %s does not select %s", r.Alert, vs, job)
			}
			return nil
		})
	}
}

// obj is one object's sample stream of a backup metric, in the load notation: one value a
// minute from time 0 (`1x60` is 61 samples of 1, `_` a missing one).
func obj(metric, ns, name, values string) string {
	return fmt.Sprintf(`%s{%s, kind="Vault", namespace=%q, name=%q, vendor="HuaweiCbr"} %s`,
		metric, job, ns, name, values)
}

// reason is one object's series of rampart_backup_health_reason for `r`.
func reason(ns, name, r, values string) string {
	return fmt.Sprintf(`rampart_backup_health_reason{%s, kind="Vault", namespace=%q, name=%q, vendor="HuaweiCbr", reason=%q} %s`,
		job, ns, name, r, values)
}

// verdict is one object's reason series for the hour: `before` until minute `at`, then `after`
// (the current reason 1, every other reason rampart writes 0).
func verdict(ns, name, before, after string, at int) string {
	var out []string
	for _, r := range []string{"BackupSucceeded", "LastBackupFailed", "BackupMissed", "NoBackupsYet", "VendorUnreadable"} {
		value := func(current string) string {
			if current == r {
				return "1"
			}
			return "0"
		}
		switch {
		case at == 0:
			out = append(out, reason(ns, name, r, value(after)+"x60"))
		default:
			out = append(out, reason(ns, name, r, fmt.Sprintf("%sx%d %sx%d", value(before), at-1, value(after), 60-at)))
		}
	}
	return strings.Join(out, "\n")
}

// healthy is an object whose backups are fine for the whole hour.
func healthy(ns, name string) string {
	return strings.Join([]string{
		verdict(ns, name, "BackupSucceeded", "BackupSucceeded", 0),
		obj("rampart_backup_healthy", ns, name, "1x60"),
		obj("rampart_backup_last_result", ns, name, "1x60"),
		obj("rampart_backup_last_success_timestamp_seconds", ns, name, "1700000000x60"),
		obj("rampart_backup_seconds_since_success", ns, name, "600+60x60"),
		obj("rampart_backups_held", ns, name, "7x60"),
	}, "\n")
}

func lines(ls ...string) string { return strings.Join(ls, "\n") }

// at selects the firing alerts of one object.
func at(ns, name string) map[string]string { return map[string]string{"namespace": ns, "name": name} }

type alertCase struct {
	rule ruleKey
	name string
	// Series in the load notation, one a line.
	series string
	// The alerts firing at the end of the hour, each picked by some of its labels; none: the
	// rule must not fire at any evaluation of the hour.
	fires []map[string]string
	// When the condition starts (a multiple of step); for a case that fires, the alert must
	// fire exactly its rule's `for:` later. Zero: not checked.
	onset time.Duration
}

var (
	failed      = ruleKey{"RampartBackupFailed", 0}
	missed      = ruleKey{"RampartBackupMissed", 0}
	unreadable  = ruleKey{"RampartVendorUnreachable", 0}
	vendorCalls = ruleKey{"RampartVendorUnreachable", 1}
	notReady    = ruleKey{"RampartObjectsNotReady", 0}
	down        = ruleKey{"RampartOperatorDown", 0}
)

func calls(code, values string) string {
	return fmt.Sprintf(`rampart_vendor_requests_total{%s, namespace="rampart-system", vendor="HuaweiCbr", operation="list_backups", code=%q} %s`, job, code, values)
}

var cases = []alertCase{
	// RampartBackupFailed
	{rule: failed, name: "the newest run failed", onset: 20 * time.Minute,
		series: lines(healthy("ns1", "ok"), verdict("ns1", "broken", "BackupSucceeded", "LastBackupFailed", 20)),
		fires:  []map[string]string{at("ns1", "broken")}},
	{rule: failed, name: "every backup healthy", series: lines(healthy("ns1", "a"), healthy("ns2", "a"))},
	{rule: failed, name: "a failure fixed by the next poll (shorter than for)",
		series: lines(
			reason("ns1", "a", "LastBackupFailed", "0x19 1x2 0x39"),
			reason("ns1", "a", "BackupSucceeded", "1x19 0x2 1x39"))},
	{rule: failed, name: "missed, not failed",
		series: verdict("ns1", "a", "BackupSucceeded", "BackupMissed", 0)},
	{rule: failed, name: "unknown is not failed (the vendor alert's job)",
		series: verdict("ns1", "a", "VendorUnreadable", "VendorUnreadable", 0)},

	// RampartBackupMissed
	{rule: missed, name: "the schedule stopped: no success since the due run", onset: 10 * time.Minute,
		series: lines(healthy("ns1", "ok"), verdict("ns2", "stale", "BackupSucceeded", "BackupMissed", 10)),
		fires:  []map[string]string{at("ns2", "stale")}},
	{rule: missed, name: "a new object whose first run never came", onset: 30 * time.Minute,
		series: verdict("ns1", "new", "NoBackupsYet", "BackupMissed", 30),
		fires:  []map[string]string{at("ns1", "new")}},
	{rule: missed, name: "every backup healthy", series: healthy("ns1", "a")},
	{rule: missed, name: "NoBackupsYet: a new object, none due yet",
		series: verdict("ns1", "new", "NoBackupsYet", "NoBackupsYet", 0)},
	{rule: missed, name: "the newest run failed (the failure alert's job)",
		series: verdict("ns1", "a", "BackupSucceeded", "LastBackupFailed", 5)},
	{rule: missed, name: "missed for five minutes, shorter than for",
		series: lines(
			reason("ns1", "a", "BackupMissed", "0x19 1x5 0x35"),
			reason("ns1", "a", "BackupSucceeded", "1x19 0x5 1x35"))},
	{rule: missed, name: "unknown is not missed",
		series: verdict("ns1", "a", "BackupMissed", "VendorUnreadable", 0)},

	// RampartVendorUnreachable, per object
	{rule: unreadable, name: "backups unreadable for good", onset: 30 * time.Minute,
		series: lines(healthy("ns1", "ok"), obj("rampart_backup_healthy", "ns1", "far", "1x29 -1x31")),
		fires:  []map[string]string{at("ns1", "far")}},
	{rule: unreadable, name: "every backup healthy", series: healthy("ns1", "a")},
	{rule: unreadable, name: "unreadable for ten minutes, shorter than for",
		series: obj("rampart_backup_healthy", "ns1", "a", "1x19 -1x10 1x30")},
	{rule: unreadable, name: "failing is not unreadable", series: obj("rampart_backup_healthy", "ns1", "a", "0x60")},

	// RampartVendorUnreachable, from the calls
	{rule: vendorCalls, name: "no answer from minute 30 on",
		series: lines(calls("200", "0+2x30 60x30"), calls("transport", "0x30 2+2x30")),
		fires:  []map[string]string{{"vendor": "HuaweiCbr", "namespace": "rampart-system"}}},
	{rule: vendorCalls, name: "most calls answered 503",
		series: lines(calls("200", "0+1x60"), calls("503", "0+5x60")),
		fires:  []map[string]string{{"vendor": "HuaweiCbr"}}},
	{rule: vendorCalls, name: "a few 500s among many answers",
		series: lines(calls("200", "0+20x60"), calls("500", "0+1x60"), calls("transport", "0+1x60"))},
	{rule: vendorCalls, name: "4xx answers are no outage",
		series: lines(calls("200", "0+1x60"), calls("404", "0+10x60"), calls("409", "0+10x60"))},
	// With calls at an even pace, the ratio over 10m is above half from the middle of an outage
	// to the middle of its end, as long as the outage: eight minutes stay under for.
	{rule: vendorCalls, name: "no answer for eight minutes, shorter than for",
		series: lines(calls("200", "0+2x30 60x7 62+2x22"), calls("transport", "0x30 2+2x7 16x22"))},
	{rule: vendorCalls, name: "no calls at all", series: calls("200", "0x60")},

	// RampartObjectsNotReady
	{rule: notReady, name: "two Vaults never Ready",
		series: lines(
			fmt.Sprintf(`rampart_objects{%s, kind="Vault"} 5x60`, job),
			fmt.Sprintf(`rampart_objects_ready{%s, kind="Vault"} 3x60`, job),
			fmt.Sprintf(`rampart_objects{%s, kind="Policy"} 2x60`, job),
			fmt.Sprintf(`rampart_objects_ready{%s, kind="Policy"} 2x60`, job)),
		fires: []map[string]string{{"kind": "Vault"}}},
	{rule: notReady, name: "everything Ready",
		series: lines(
			fmt.Sprintf(`rampart_objects{%s, kind="Vault"} 5x60`, job),
			fmt.Sprintf(`rampart_objects_ready{%s, kind="Vault"} 5x60`, job))},
	{rule: notReady, name: "new objects Ready within ten minutes",
		series: lines(
			fmt.Sprintf(`rampart_objects{%s, kind="Vault"} 5x20 8x40`, job),
			fmt.Sprintf(`rampart_objects_ready{%s, kind="Vault"} 5x30 8x30`, job))},

	// RampartOperatorDown
	{rule: down, name: "the scrape fails", onset: 30 * time.Minute,
		series: fmt.Sprintf(`up{%s, namespace="rampart-system", pod="rampart-0"} 1x29 0x31`, job),
		fires:  []map[string]string{{"pod": "rampart-0"}}},
	{rule: down, name: "no target at all",
		series: `up{job="something-else"} 1x60`,
		fires:  []map[string]string{{"job": "rampart-metrics"}}},
	{rule: down, name: "up", series: fmt.Sprintf(`up{%s, pod="rampart-0"} 1x60`, job)},
	{rule: down, name: "a restart of two minutes, shorter than for",
		series: fmt.Sprintf(`up{%s, pod="rampart-0"} 1x20 0x2 1x38`, job)},
}

// Each rule has a case where it fires and one where it stays quiet; each case names a rule.
func TestEveryAlertHasFiringAndQuietCases(t *testing.T) {
	rules := keyed(loadRules(t))
	firing, quiet := map[ruleKey]int{}, map[ruleKey]int{}
	for _, c := range cases {
		if _, ok := rules[c.rule]; !ok {
			t.Errorf("case %q: no rule %s in %s", c.name, c.rule, rulesFile)
		}
		if len(c.fires) > 0 {
			firing[c.rule]++
		} else {
			quiet[c.rule]++
		}
	}
	for k := range rules {
		if firing[k] == 0 || quiet[k] == 0 {
			t.Errorf("%s: %d cases where it fires and %d where it is quiet; want at least one of each", k, firing[k], quiet[k])
		}
	}
}

func TestAlertsOnRecordedSeries(t *testing.T) {
	rules := keyed(loadRules(t))
	engine := promql.NewEngine(promql.EngineOpts{
		MaxSamples:    1_000_000,
		Timeout:       10 * time.Second,
		LookbackDelta: 5 * time.Minute,
		Parser:        promqlParser,
	})
	t.Cleanup(func() { _ = engine.Close() })
	for _, c := range cases {
		t.Run(c.rule.String()+"/"+c.name, func(t *testing.T) {
			r, ok := rules[c.rule]
			if !ok {
				t.Skipf("no rule %s", c.rule)
			}
			e := evaluate(t, engine, load(t, c.series), r, time.Hour)
			if len(c.fires) == 0 {
				if len(e.everFired) > 0 {
					t.Fatalf("fired, want quiet: %v", e.everFired)
				}
				return
			}
			if len(e.firing) != len(c.fires) {
				t.Fatalf("%d alerts firing at the end, want %d: %v", len(e.firing), len(c.fires), e.firing)
			}
			for _, want := range c.fires {
				i := slices.IndexFunc(e.firing, func(a *alert) bool { return hasLabels(a.labels, want) })
				if i < 0 {
					t.Fatalf("no alert with %v firing: %v", want, e.firing)
				}
				a := e.firing[i]
				checkAnnotations(t, a)
				if c.onset > 0 {
					if want := time.Unix(0, 0).Add(c.onset + time.Duration(r.For)); !a.firedAt.Equal(want) {
						t.Errorf("fired at %v, want %v (onset %v plus for %v)", since0(a.firedAt), since0(want), c.onset, r.For)
					}
				}
			}
		})
	}
}

func hasLabels(lset labels.Labels, want map[string]string) bool {
	for k, v := range want {
		if lset.Get(k) != v {
			return false
		}
	}
	return true
}

// The alert's text names what it is about: the object (namespace/name), else the vendor,
// else the kind, else the job. Templates must expand without error.
func checkAnnotations(t *testing.T, a *alert) {
	t.Helper()
	l := a.labels
	var subject string
	switch {
	case l.Get("name") != "":
		subject = l.Get("namespace") + "/" + l.Get("name")
	case l.Get("vendor") != "":
		subject = l.Get("vendor")
	case l.Get("kind") != "":
		subject = l.Get("kind")
	default:
		subject = l.Get("job")
	}
	for _, name := range []string{"summary", "description"} {
		text := a.annotations[name]
		if strings.Contains(text, "error expanding template") || strings.Contains(text, "<no value>") {
			t.Errorf("%s: %s", name, text)
		}
		if !strings.Contains(text, subject) {
			t.Errorf("%s does not name %s: %s", name, subject, text)
		}
	}
}

func since0(ts time.Time) time.Duration { return ts.Sub(time.Unix(0, 0)) }

// alert is one alert's state, as Prometheus' rule evaluation keeps it (rules/alerting.go).
type alert struct {
	labels      labels.Labels
	annotations map[string]string
	activeAt    time.Time
	firedAt     time.Time // zero while pending
}

func (a *alert) String() string {
	return fmt.Sprintf("%s (active at %v, fired at %v)", a.labels, since0(a.activeAt), since0(a.firedAt))
}

type evaluation struct {
	firing    []*alert // at the last evaluation
	everFired []*alert
}

// evaluate runs an alerting rule every step from time 0 to end the way Prometheus does: an
// alert becomes active (pending) when its series is in the result, fires once it has been
// active for the rule's `for:`, and is gone (resolved) as soon as it drops out of the result.
// The rules package does just this, but it pulls the notifier and, through it, Prometheus'
// configuration and every service discovery into the build.
func evaluate(t *testing.T, engine *promql.Engine, st *memStorage, r rulefmt.Rule, end time.Duration) evaluation {
	t.Helper()
	ctx := context.Background()
	query := func(ctx context.Context, q string, ts time.Time) (promql.Vector, error) {
		qry, err := engine.NewInstantQuery(ctx, st, nil, q, ts)
		if err != nil {
			return nil, err
		}
		defer qry.Close()
		res := qry.Exec(ctx)
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Vector()
	}
	active := map[uint64]*alert{}
	var ev evaluation
	fired := map[uint64]bool{}
	for ts := time.Unix(0, 0); !ts.After(time.Unix(0, 0).Add(end)); ts = ts.Add(step) {
		vec, err := query(ctx, r.Expr, ts)
		if err != nil {
			t.Fatalf("%s at %v: %v", r.Alert, since0(ts), err)
		}
		seen := map[uint64]bool{}
		for _, s := range vec {
			lb := labels.NewBuilder(s.Metric)
			lb.Del(labels.MetricName)
			for k, v := range r.Labels {
				lb.Set(k, v)
			}
			lb.Set(labels.AlertName, r.Alert)
			lset := lb.Labels()
			h := lset.Hash()
			if seen[h] {
				t.Fatalf("%s at %v: two alerts with labels %s", r.Alert, since0(ts), lset)
			}
			seen[h] = true
			a, ok := active[h]
			if !ok {
				a = &alert{labels: lset, activeAt: ts}
				active[h] = a
			}
			a.annotations = expand(t, ctx, r, s, ts, query)
			if a.firedAt.IsZero() && ts.Sub(a.activeAt) >= time.Duration(r.For) {
				a.firedAt = ts
				if !fired[h] {
					fired[h] = true
					ev.everFired = append(ev.everFired, a)
				}
			}
		}
		for h := range active {
			if !seen[h] {
				delete(active, h)
			}
		}
	}
	for _, a := range active {
		if !a.firedAt.IsZero() {
			ev.firing = append(ev.firing, a)
		}
	}
	return ev
}

// expand fills in an alert's annotations as Prometheus does, with the same template
// functions and convenience variables.
func expand(t *testing.T, ctx context.Context, r rulefmt.Rule, s promql.Sample, ts time.Time, query template.QueryFunc) map[string]string {
	t.Helper()
	data := template.AlertTemplateData(s.Metric.Map(), nil, "", s)
	defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	out := map[string]string{}
	for name, text := range r.Annotations {
		e := template.NewTemplateExpander(ctx, defs+text, "__alert_"+r.Alert, data, model.TimeFromUnixNano(ts.UnixNano()), query, nil, nil)
		v, err := e.Expand()
		if err != nil {
			v = fmt.Sprintf("<error expanding template: %s>", err)
		}
		out[name] = v
	}
	return out
}
