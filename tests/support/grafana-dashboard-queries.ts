import { parser } from '@prometheus-io/lezer-promql';
import type { PrometheusMetrics } from './prometheus-text.js';

/** Labels Prometheus adds to every series it scrapes (the target's), never in a process's own text. */
const TARGET_LABELS = new Set(['job', 'instance']);

/** Grafana's variables, as a query would run: every model, a typical rate window. */
const withVariables = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$model', '.*');

interface Selector {
  metric: string;
  matchers: Array<{ label: string; op: string; value: string }>;
}

export interface DashboardQuery {
  where: string;
  selectors: Selector[];
  /** Labels the query groups by or its legend shows. */
  labels: string[];
}

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: Array<{ expr?: string; legendFormat?: string }>;
}

/** Every PromQL query of a dashboard, parsed with the Prometheus project's own PromQL grammar. */
export function dashboardQueries(dashboard: {
  panels?: Panel[];
  templating?: { list?: Array<{ name: string; definition?: string }> };
}): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  const walk = (panels: Panel[] = []) => {
    for (const panel of panels) {
      walk(panel.panels);
      for (const target of panel.targets ?? []) {
        if (target.expr === undefined) continue;
        const legend = [...(target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((match) => match[1] ?? '');
        const parsed = parsePromQl(withVariables(target.expr), `${panel.title ?? ''}: ${target.expr}`);
        queries.push({ ...parsed, labels: [...parsed.labels, ...legend] });
      }
    }
  };
  walk(dashboard.panels);
  for (const variable of dashboard.templating?.list ?? []) {
    const labelValues = /^label_values\((\w+),\s*(\w+)\)$/.exec(variable.definition ?? '');
    if (!labelValues) continue;
    const [, metric = '', label = ''] = labelValues;
    queries.push({ where: `variable ${variable.name}`, selectors: [{ metric, matchers: [] }], labels: [label] });
  }
  return queries;
}

function parsePromQl(expr: string, where: string): DashboardQuery {
  const tree = parser.parse(expr);
  const selectors: Selector[] = [];
  const labels: string[] = [];
  const text = (node: { from: number; to: number } | null) => (node ? expr.slice(node.from, node.to) : '');
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) throw new Error(`${where}: PromQL does not parse at ${ref.from}`);
      const node = ref.node;
      if (ref.name === 'VectorSelector') {
        const matchers = (node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []).map((matcher) => ({
          label: text(matcher.getChild('LabelName')),
          op: text(matcher.getChild('MatchOp')),
          value: JSON.parse(text(matcher.getChild('StringLiteral')) || '""') as string,
        }));
        selectors.push({ metric: text(node.getChild('Identifier')), matchers });
      } else if (ref.name === 'GroupingLabels') {
        labels.push(...node.getChildren('LabelName').map(text));
      }
    },
  });
  return { where, selectors, labels };
}

/**
 * What in the queries a scrape does not have: a metric without series, a label matched or grouped
 * by that its series lack, an equality matcher's value none of them has.
 */
export function dashboardProblems(uses: DashboardQuery[], scraped: PrometheusMetrics): string[] {
  const problems: string[] = [];
  for (const use of uses) {
    const seen = (metric: string) => scraped.labels(metric);
    for (const selector of use.selectors) {
      const samples = seen(selector.metric);
      if (samples.length === 0) {
        problems.push(`${selector.metric}: no series in the scrapes (${use.where})`);
        continue;
      }
      for (const matcher of selector.matchers) {
        if (TARGET_LABELS.has(matcher.label)) continue;
        if (!samples.some((labels) => matcher.label in labels)) {
          problems.push(`${selector.metric} has no label ${matcher.label} (${use.where})`);
        } else if (matcher.op === '=' && !samples.some((labels) => labels[matcher.label] === matcher.value)) {
          problems.push(`${selector.metric} has no series with ${matcher.label}="${matcher.value}" (${use.where})`);
        }
      }
    }
    // Labels grouped by or shown in a legend: on the series of some metric the query reads.
    for (const label of use.labels) {
      if (TARGET_LABELS.has(label)) continue;
      if (!use.selectors.some((selector) => seen(selector.metric).some((labels) => label in labels))) {
        problems.push(`no metric of "${use.where}" has the label ${label}`);
      }
    }
  }
  return problems;
}
