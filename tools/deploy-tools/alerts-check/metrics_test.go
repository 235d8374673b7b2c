package alertscheck

// The metric families rampart's registry exports (src/telemetry/metrics.rs, prefix rampart),
// by type. tests/install/monitoring.rs checks this list against the real registry, and the
// names the rules file and the dashboard use against the registry's text exposition.
var families = map[string]string{
	"rampart_backup_healthy":                        "gauge",
	"rampart_backup_health_reason":                  "gauge",
	"rampart_backup_last_success_timestamp_seconds": "gauge",
	"rampart_backup_seconds_since_success":          "gauge",
	"rampart_backup_last_result":                    "gauge",
	"rampart_backups_held":                          "gauge",
	"rampart_objects":                               "gauge",
	"rampart_objects_ready":                         "gauge",
	"rampart_reconciles":                            "counter",
	"rampart_reconcile_duration_seconds":            "histogram",
	"rampart_vendor_requests":                       "counter",
	"rampart_vendor_request_duration_seconds":       "histogram",
	"rampart_drift_found":                           "counter",
}

// Series names Prometheus itself makes for every target.
var prometheusSeries = map[string]bool{"up": true}

// sampleNames maps each series name a query may use to its family: a counter's samples are
// `<name>_total`, a histogram's `_bucket`, `_sum` and `_count`.
func sampleNames() map[string]string {
	out := map[string]string{}
	for name, kind := range families {
		switch kind {
		case "counter":
			out[name+"_total"] = name
		case "histogram":
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				out[name+s] = name
			}
		default:
			out[name] = name
		}
	}
	return out
}

// knownSeries says whether a query may name this series.
func knownSeries(name string) bool {
	if prometheusSeries[name] {
		return true
	}
	_, ok := sampleNames()[name]
	return ok
}
