package prometheus

import "fmt"

// overRange are the functions that take a counter's range: the only
// right way to read a counter, or a histogram's _bucket, _sum and _count.
var overRange = map[string]bool{"rate": true, "irate": true, "increase": true, "resets": true}

// CheckUsage reports what expr does wrong with the metrics it selects,
// given their families: a name that is no family of fams, a counter (or
// a histogram's or summary's _bucket, _sum or _count) read other than
// through rate, irate, increase or resets, a gauge read through one of
// them, and a histogram's _bucket outside histogram_quantile. None for a
// correct expression.
func CheckUsage(expr string, fams Families) []string {
	sels, err := Selectors(expr)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(sels) == 0 {
		add("selects no metric")
	}
	for _, s := range sels {
		fam, ok := fams.Family(s.Name)
		if !ok {
			add("%s: not an exported metric", s.Name)
			continue
		}
		inner := ""
		if len(s.Funcs) > 0 {
			inner = s.Funcs[len(s.Funcs)-1]
		}
		cumulative := fams[fam] == "counter" || (fam != s.Name && (fams[fam] == "histogram" || fams[fam] == "summary"))
		switch {
		case cumulative && !overRange[inner]:
			add("%s: a %s's cumulative series read without rate/increase (in %v)", s.Name, fams[fam], s.Funcs)
		case !cumulative && overRange[inner]:
			add("%s: a %s read through %s", s.Name, fams[fam], inner)
		}
		if fams[fam] == "histogram" && fam != s.Name && s.Name == fam+"_bucket" {
			quantile := false
			for _, f := range s.Funcs {
				quantile = quantile || f == "histogram_quantile"
			}
			if !quantile {
				add("%s: buckets outside histogram_quantile", s.Name)
			}
		}
	}
	return problems
}
