// Package grafana holds dockman's Grafana dashboard, dockman.json
// (import it as docs/monitoring.md says), and reads the PromQL out of it,
// so that the tests can check every metric it charts is one the agent
// exports. Nothing here runs in the agent.
package grafana

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// Dashboard is dockman.json.
//
//go:embed dockman.json
var Dashboard []byte

// Board is the part of a dashboard's JSON model the tests read.
type Board struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []Panel `json:"panels"`
	Templating    struct {
		List []Variable `json:"list"`
	} `json:"templating"`
}

// Panel is one panel; a row's Panels are those it holds while collapsed.
type Panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *Datasource `json:"datasource"`
	GridPos    *GridPos    `json:"gridPos"`
	Targets    []Target    `json:"targets"`
	Panels     []Panel     `json:"panels"`
}

// Datasource names a data source by type and uid; the uid is
// "${datasource}" where the dashboard's variable picks it.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// GridPos is a panel's place on the dashboard's 24-column grid.
type GridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

// Target is one query of a panel.
type Target struct {
	RefID        string      `json:"refId"`
	Expr         string      `json:"expr"`
	LegendFormat string      `json:"legendFormat"`
	Datasource   *Datasource `json:"datasource"`
}

// Variable is a template variable. A query variable's Query is a string
// or an object holding it in "query", by Grafana version.
type Variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Datasource *Datasource     `json:"datasource"`
	IncludeAll bool            `json:"includeAll"`
	Multi      bool            `json:"multi"`
}

// QueryText returns the variable's query: for a query variable its
// PromQL (label_values(...) and the like), for a data source variable the
// plugin type it offers.
func (v Variable) QueryText() (string, error) {
	if len(v.Query) == 0 {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v.Query, &s); err == nil {
		return s, nil
	}
	var obj struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(v.Query, &obj); err != nil {
		return "", fmt.Errorf("variable %s: query is neither a string nor an object: %w", v.Name, err)
	}
	return obj.Query, nil
}

// Parse reads a dashboard's JSON model.
func Parse(data []byte) (*Board, error) {
	var b Board
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	return &b, nil
}

// AllPanels returns every panel, those inside collapsed rows included, in
// order.
func (b *Board) AllPanels() []Panel {
	var all []Panel
	var walk func([]Panel)
	walk = func(ps []Panel) {
		for _, p := range ps {
			all = append(all, p)
			walk(p.Panels)
		}
	}
	walk(b.Panels)
	return all
}

// Query is one PromQL expression of the dashboard and where it is.
type Query struct {
	Where string // "panel 7 (Action latency) A", "variable instance"
	Expr  string
	// Variable says the query is a template variable's (label_values and
	// the like), not a panel's.
	Variable bool
}

// Queries returns every PromQL expression of the dashboard: each panel
// target's and each query variable's.
func (b *Board) Queries() ([]Query, error) {
	var qs []Query
	for _, p := range b.AllPanels() {
		for _, t := range p.Targets {
			qs = append(qs, Query{Where: fmt.Sprintf("panel %d (%s) %s", p.ID, p.Title, t.RefID), Expr: t.Expr})
		}
	}
	for _, v := range b.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, err := v.QueryText()
		if err != nil {
			return nil, err
		}
		qs = append(qs, Query{Where: "variable " + v.Name, Expr: q, Variable: true})
	}
	return qs, nil
}
