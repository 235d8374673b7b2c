// Package alertscheck holds only tests: they check the monitoring the Helm chart ships with
// Prometheus' own code. charts/rampart/rules/rampart-alerts.yaml is read by Prometheus' rule
// parser (model/rulefmt) and every alert is run by the PromQL engine over recorded series,
// written in the series notation of Prometheus' test scripts, where it must fire and where it
// must stay quiet, its `for:` included. charts/rampart/dashboards/rampart.json must be valid
// JSON whose every query parses as PromQL and names only metrics rampart exports.
//
// The engine runs over a small in-memory storage (series_test.go) instead of promqltest's
// TSDB-backed one: the TSDB pulls the cloud SDKs of Prometheus' remote-write auth into the
// build, more than doubling what CI compiles, and the test needs none of it.
package alertscheck
