package prometheus

import "github.com/dockman/dockman/metrics"

// Agent returns the agent's own families (dockman_*), from the metrics
// package's table, the source of truth.
func Agent() Families {
	f := Families{}
	for _, fam := range metrics.Families {
		f[fam.Name] = fam.Type
	}
	return f
}

// Handler is what the agent's /metrics handler adds about itself:
// promhttp counts the scrapes it failed to gather or encode.
var Handler = Families{
	"promhttp_metric_handler_errors_total": "counter",
}

// Exported returns every family a query against a scraped agent may use:
// the agent's own, the standard collectors', the handler's, and
// Prometheus's up and scrape_* series.
func Exported() Families {
	return Merge(Agent(), Standard, Handler, Scrape)
}
