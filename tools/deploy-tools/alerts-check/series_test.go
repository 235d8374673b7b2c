package alertscheck

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// step is the interval of the recorded samples and of rule evaluation (a 1m scrape and
// evaluation interval).
const step = time.Minute

var promqlParser = parser.NewParser(parser.Options{})

// load reads series in the notation of Prometheus' test scripts (`load 1m` blocks), one per
// line: `metric{label="v"} 0 1 _ 3+1x10` (`_` is a missing sample), the first value at time
// 0 and one every step.
func load(t *testing.T, text string) *memStorage {
	t.Helper()
	s := &memStorage{}
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		lset, values, err := promqlParser.ParseSeriesDesc(line)
		if err != nil {
			t.Fatalf("series %q: %v", line, err)
		}
		if name := lset.Get("__name__"); !knownSeries(name) {
			t.Fatalf("series %q: %s is no metric rampart exports (a typo would make a quiet case pass for nothing)", line, name)
		}
		var points []chunks.Sample
		for i, v := range values {
			if !v.Omitted {
				points = append(points, point{t: int64(i) * step.Milliseconds(), f: v.Value})
			}
		}
		s.series = append(s.series, storage.NewListSeries(lset, points))
	}
	return s
}

type point struct {
	t int64
	f float64
}

func (p point) T() int64                    { return p.t }
func (point) ST() int64                     { return 0 }
func (p point) F() float64                  { return p.f }
func (point) H() *histogram.Histogram       { return nil }
func (point) FH() *histogram.FloatHistogram { return nil }
func (point) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (p point) Copy() chunks.Sample         { return p }
func (p point) String() string              { return fmt.Sprintf("%g@%d", p.f, p.t) }

// memStorage is a storage.Queryable over a fixed set of series.
type memStorage struct{ series []storage.Series }

func (s *memStorage) Querier(_, _ int64) (storage.Querier, error) { return s, nil }

func (s *memStorage) Select(_ context.Context, _ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	var out []storage.Series
	for _, series := range s.series {
		if matchesAll(series.Labels(), ms) {
			out = append(out, series)
		}
	}
	slices.SortFunc(out, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	return &seriesSet{series: out, i: -1}
}

func matchesAll(lset labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

func (s *memStorage) LabelValues(context.Context, string, *storage.LabelHints, ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return nil, nil, nil
}

func (s *memStorage) LabelNames(context.Context, *storage.LabelHints, ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return nil, nil, nil
}

func (s *memStorage) Close() error { return nil }

type seriesSet struct {
	series []storage.Series
	i      int
}

func (s *seriesSet) Next() bool                      { s.i++; return s.i < len(s.series) }
func (s *seriesSet) At() storage.Series              { return s.series[s.i] }
func (*seriesSet) Err() error                        { return nil }
func (*seriesSet) Warnings() annotations.Annotations { return nil }
