import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';

/**
 * The parser folds every labelled series of a histogram into one object (it follows prom2json
 * only for unlabelled ones), so histograms are declared untyped before parsing: their `_count`,
 * `_sum` and `_bucket` series then come out as families of their own, labels intact.
 */
const histogramsAsSeries = (text: string) => text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped');

/** Parsed `/metrics` texts (one or several processes), read with a real Prometheus text-format parser. */
export class PrometheusMetrics {
  readonly families: PrometheusFamily[];

  constructor(texts: string | string[]) {
    this.families = (Array.isArray(texts) ? texts : [texts]).flatMap((text) =>
      parsePrometheusTextFormat(histogramsAsSeries(text)),
    );
  }

  #samples(name: string, labels: Record<string, string>) {
    return this.families
      .filter((family) => family.name === name)
      .flatMap((family) => family.metrics)
      .filter((sample) => Object.entries(labels).every(([label, value]) => sample.labels?.[label] === value));
  }

  /** Whether any process exposes the family (a histogram: its `_count` series). */
  has(name: string): boolean {
    return this.families.some((family) => family.name === name || family.name === `${name}_count`);
  }

  /** The sum over every process of a counter or gauge's samples matching `labels`. */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.#samples(name, labels).reduce((total, sample) => total + Number(sample.value ?? 0), 0);
  }

  /** The summed observation count of a histogram's series matching `labels`. */
  count(name: string, labels: Record<string, string> = {}): number {
    return this.value(`${name}_count`, labels);
  }

  /** The summed observation sum of a histogram's series matching `labels`. */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.value(`${name}_sum`, labels);
  }

  /** Label sets of a family's samples. */
  labels(name: string): Array<Record<string, string>> {
    return this.#samples(name, {}).map((sample) => sample.labels ?? {});
  }
}
