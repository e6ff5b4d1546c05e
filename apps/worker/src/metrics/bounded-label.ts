/**
 * A label whose values come from users (model names, tenants): the first `max` distinct values are
 * kept, later ones become "other", so a stream of made-up names cannot grow the series forever.
 */
export class BoundedLabel {
  readonly #seen = new Set<string>();
  constructor(readonly max: number) {}

  of(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.max) return 'other';
    this.#seen.add(value);
    return value;
  }
}
