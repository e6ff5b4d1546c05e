/** What the batch runner tells the metrics; every method is an in-memory increment and must not throw. */
export interface ProviderBatchMetrics {
  /** A provider batch was created (or a dead sender's adopted) and recorded, with `requests` lines. */
  batchSent(sent: { provider: string; requests: number }): void;
  /** A sent batch was seen ended (`status` as the provider says) `seconds` after it was sent. */
  batchEnded(ended: { provider: string; status: string; seconds: number }): void;
  /** Prompt tokens a model's batches hold at the provider, as a flush saw them (models with a bound). */
  enqueuedTokens?(seen: { model: string; tokens: number }): void;
}
