/** What the provider-batch tests read of a job object (GET /v1/jobs/{id}). */
export interface BatchedJob {
  id: string;
  status: string;
  waiting_for: string | null;
  provider_batch: { id: string; sent_at: number } | null;
  answered_by: string | null;
  result: {
    choices: Array<{
      message: { content: string | null; tool_calls?: Array<{ function: { name: string; arguments: string } }> };
      finish_reason: string;
    }>;
  } | null;
  usage: { input_tokens: number; output_tokens: number } | null;
  error: { type: string } | null;
  cost_usd: number | null;
  saved_usd: number | null;
}
