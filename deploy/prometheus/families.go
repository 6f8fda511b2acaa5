package prometheus

import "strings"

// Families maps metric family names to their type as the text exposition
// format spells it: counter, gauge, histogram, summary or untyped. A
// counter is named as client_golang exposes it, with its _total.
type Families map[string]string

// Family returns the family the series name belongs to: the name itself,
// a histogram's or a summary's whose _bucket (histograms only), _sum or
// _count series it is, or a counter named without its _total
// (OpenMetrics' family name).
func (f Families) Family(series string) (string, bool) {
	if _, ok := f[series]; ok {
		return series, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(series, suffix)
		if !ok {
			continue
		}
		switch f[base] {
		case "histogram":
			return base, true
		case "summary":
			if suffix != "_bucket" {
				return base, true
			}
		}
	}
	if _, ok := f[series+"_total"]; ok && f[series+"_total"] == "counter" {
		return series + "_total", true
	}
	return "", false
}

// Merge returns one set holding every family of fs.
func Merge(fs ...Families) Families {
	all := Families{}
	for _, f := range fs {
		for name, typ := range f {
			all[name] = typ
		}
	}
	return all
}

// Standard is what the standard collectors of client_golang v1.25 export
// on Linux with their default options, exactly: collectors.NewGoCollector()
// (the runtime.MemStats families and a few runtime/metrics ones) and
// collectors.NewProcessCollector. A dashboard or a rule may use these
// besides the agent's own dockman_* families.
var Standard = Families{
	"go_gc_duration_seconds":               "summary",
	"go_gc_gogc_percent":                   "gauge",
	"go_gc_gomemlimit_bytes":               "gauge",
	"go_goroutines":                        "gauge",
	"go_info":                              "gauge",
	"go_memstats_alloc_bytes":              "gauge",
	"go_memstats_alloc_bytes_total":        "counter",
	"go_memstats_buck_hash_sys_bytes":      "gauge",
	"go_memstats_frees_total":              "counter",
	"go_memstats_gc_sys_bytes":             "gauge",
	"go_memstats_heap_alloc_bytes":         "gauge",
	"go_memstats_heap_idle_bytes":          "gauge",
	"go_memstats_heap_inuse_bytes":         "gauge",
	"go_memstats_heap_objects":             "gauge",
	"go_memstats_heap_released_bytes":      "gauge",
	"go_memstats_heap_sys_bytes":           "gauge",
	"go_memstats_last_gc_time_seconds":     "gauge",
	"go_memstats_mallocs_total":            "counter",
	"go_memstats_mcache_inuse_bytes":       "gauge",
	"go_memstats_mcache_sys_bytes":         "gauge",
	"go_memstats_mspan_inuse_bytes":        "gauge",
	"go_memstats_mspan_sys_bytes":          "gauge",
	"go_memstats_next_gc_bytes":            "gauge",
	"go_memstats_other_sys_bytes":          "gauge",
	"go_memstats_stack_inuse_bytes":        "gauge",
	"go_memstats_stack_sys_bytes":          "gauge",
	"go_memstats_sys_bytes":                "gauge",
	"go_sched_gomaxprocs_threads":          "gauge",
	"go_threads":                           "gauge",
	"process_cpu_seconds_total":            "counter",
	"process_max_fds":                      "gauge",
	"process_network_receive_bytes_total":  "counter",
	"process_network_transmit_bytes_total": "counter",
	"process_open_fds":                     "gauge",
	"process_resident_memory_bytes":        "gauge",
	"process_start_time_seconds":           "gauge",
	"process_virtual_memory_bytes":         "gauge",
	"process_virtual_memory_max_bytes":     "gauge",
}

// Scrape is what Prometheus adds to every target it scrapes: a rule or a
// dashboard may use up to see the agent itself.
var Scrape = Families{
	"up":                                    "gauge",
	"scrape_duration_seconds":               "gauge",
	"scrape_samples_scraped":                "gauge",
	"scrape_samples_post_metric_relabeling": "gauge",
	"scrape_series_added":                   "gauge",
}
