/**
 * An HTTP error already rendered in one wire format: thrown by a route module's request parsing
 * and written as is by the server. Each wire module builds these with its own error body shape.
 */
export class WireError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, body: unknown, message: string, headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = 'WireError';
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}
