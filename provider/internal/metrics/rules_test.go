package metrics_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/eslink/eslink/test/controlplane"
)

func rulesFile(t *testing.T, name string) []byte {
	t.Helper()
	root, err := controlplane.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "examples", "monitoring", "rules", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ruleSeries is a series of the promtool tests: its name and sorted label
// names.
type ruleSeries struct {
	name   string
	labels []string
}

var (
	seriesSyntax = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}$`)
	labelSyntax  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="[^"]*"`)
)

// ruleTestSeries reads the input series of the alert rules' promtool tests.
func ruleTestSeries(t *testing.T) []ruleSeries {
	t.Helper()
	var doc struct {
		Tests []struct {
			InputSeries []struct {
				Series string `json:"series"`
			} `json:"input_series"`
		} `json:"tests"`
	}
	if err := yaml.Unmarshal(rulesFile(t, "eslink-rules.test.yaml"), &doc); err != nil {
		t.Fatal(err)
	}
	var out []ruleSeries
	for _, tc := range doc.Tests {
		for _, s := range tc.InputSeries {
			m := seriesSyntax.FindStringSubmatch(s.Series)
			if m == nil {
				t.Fatalf("cannot read series %q of the promtool tests: write it as name{label=\"value\",...}", s.Series)
			}
			rs := ruleSeries{name: m[1]}
			for _, l := range labelSyntax.FindAllStringSubmatch(m[2], -1) {
				rs.labels = append(rs.labels, l[1])
			}
			sort.Strings(rs.labels)
			out = append(out, rs)
		}
	}
	return out
}

// TestPrometheusRuleHoldsTheRules: the PrometheusRule example holds the
// groups of the plain rules file, which promtool tests.
func TestPrometheusRuleHoldsTheRules(t *testing.T) {
	var plain, crd struct {
		Groups any `json:"groups"`
		Spec   struct {
			Groups any `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(rulesFile(t, "eslink-rules.yaml"), &plain); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(rulesFile(t, "prometheusrule.yaml"), &crd); err != nil {
		t.Fatal(err)
	}
	if plain.Groups == nil || !reflect.DeepEqual(plain.Groups, crd.Spec.Groups) {
		t.Errorf("prometheusrule.yaml's spec.groups differ from eslink-rules.yaml's groups: copy them over")
	}
}

// TestRuleSeriesAreReadable: every input series of the promtool tests
// parses, so that the integration test compares them all.
func TestRuleSeriesAreReadable(t *testing.T) {
	for _, s := range ruleTestSeries(t) {
		if len(s.labels) == 0 {
			t.Errorf("series %s of the promtool tests has no labels", s.name)
		}
	}
}
