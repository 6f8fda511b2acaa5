package prometheus

// contract is the agent's own families as issue 9's contract lists them.
// It stands in for the metrics package's table until that lands.
var contract = Families{
	"dockman_build_info":                     "gauge",
	"dockman_engine_up":                      "gauge",
	"dockman_engine_reconnects_total":        "counter",
	"dockman_containers":                     "gauge",
	"dockman_snapshot_containers":            "gauge",
	"dockman_enforce_enabled":                "gauge",
	"dockman_enforce_actions_total":          "counter",
	"dockman_enforce_action_latency_seconds": "histogram",
	"dockman_enforce_backoff_containers":     "gauge",
	"dockman_enforce_failing_containers":     "gauge",
	"dockman_logs_lines_total":               "counter",
	"dockman_logs_bytes_total":               "counter",
	"dockman_logs_errors_total":              "counter",
	"dockman_logs_followers":                 "gauge",
	"dockman_logs_lag_seconds":               "histogram",
	"dockman_api_requests_total":             "counter",
	"dockman_api_request_duration_seconds":   "histogram",
}

// Agent returns the agent's own families (dockman_*).
func Agent() Families {
	return Merge(contract)
}

// Exported returns every family a query against a scraped agent may use:
// the agent's own, the standard collectors', and Prometheus's up and
// scrape_* series.
func Exported() Families {
	return Merge(Agent(), Standard, Scrape)
}
