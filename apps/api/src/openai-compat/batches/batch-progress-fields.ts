/** Why a batch stopped accepting its lines before the last one. */
export type BatchStopReason = 'budget_exceeded' | 'cancelled' | 'expired';
/** How a batch is being wound down before its jobs all ended on their own. */
export type BatchEnding = 'cancelled' | 'expired';

/** The progress of a batch's background work, read from its progress hash. */
export interface BatchProgress {
  /** Set once the intake wrote the lines: the next line index to accept. */
  cursor: number | null;
  /** Lines of the file. */
  total: number;
  /** Lines whose body passed validation (each to become a job). */
  valid: number;
  /** Jobs accepted so far. */
  accepted: number;
  /** Lines refused at acceptance by the job checks (a 4xx other than the budget's). */
  rejected: number;
  /** Unix ms of the first cancel request. */
  cancelAt: number | null;
  /** Line index where acceptance stopped early, and why. */
  stoppedAt: number | null;
  stopReason: BatchStopReason | null;
  stopMessage: string;
  /** Set when the wind-down starts: the batch ends cancelled or expired. */
  ending: BatchEnding | null;
  /** Files a finalize started writing (deleted by a retaken finalize). */
  outputFile: string | null;
  errorFile: string | null;
  /** What the lines become, when the batch chose (`llmq.provider_batches`); null: the deployment's default. */
  lines: 'defer' | 'run' | null;
}

/** The field of each progress property in the Redis hash. */
export const BATCH_PROGRESS_FIELD: Record<keyof BatchProgress, string> = {
  cursor: 'cursor',
  total: 'total',
  valid: 'valid',
  accepted: 'accepted',
  rejected: 'rejected',
  cancelAt: 'cancel_at',
  stoppedAt: 'stopped_at',
  stopReason: 'stop_reason',
  stopMessage: 'stop_message',
  ending: 'ending',
  outputFile: 'output_file',
  errorFile: 'error_file',
  lines: 'lines',
};

const STOP_REASONS: readonly string[] = ['budget_exceeded', 'cancelled', 'expired'];
const ENDINGS: readonly string[] = ['cancelled', 'expired'];

export function parseBatchProgress(fields: Record<string, string>): BatchProgress {
  const number = (name: keyof BatchProgress) => {
    const raw = fields[BATCH_PROGRESS_FIELD[name]];
    return raw === undefined || raw === '' ? null : Number(raw);
  };
  const text = (name: keyof BatchProgress) => fields[BATCH_PROGRESS_FIELD[name]] ?? null;
  const stopReason = text('stopReason');
  const ending = text('ending');
  return {
    cursor: number('cursor'),
    total: number('total') ?? 0,
    valid: number('valid') ?? 0,
    accepted: number('accepted') ?? 0,
    rejected: number('rejected') ?? 0,
    cancelAt: number('cancelAt'),
    stoppedAt: number('stoppedAt'),
    stopReason: stopReason !== null && STOP_REASONS.includes(stopReason) ? (stopReason as BatchStopReason) : null,
    stopMessage: text('stopMessage') ?? '',
    ending: ending !== null && ENDINGS.includes(ending) ? (ending as BatchEnding) : null,
    outputFile: text('outputFile'),
    errorFile: text('errorFile'),
    lines: text('lines') === 'defer' ? 'defer' : text('lines') === 'run' ? 'run' : null,
  };
}
