import type { JobStatus } from '@llmq/core';
import type { BatchObject } from '../openai-compat/batches/batch-object.js';
import type { TenantBatch } from './admin-batch-index.js';
import { adminPage, escapeHtml } from './admin-html.js';
import { isoTime } from './admin-job-view.js';

/** Where the batches are listed. */
export const ADMIN_BATCHES_PATH = '/admin/batches';

/** The page of one batch. */
export const batchPagePath = (tenant: string, id: string) =>
  `${ADMIN_BATCHES_PATH}/${encodeURIComponent(tenant)}/${encodeURIComponent(id)}`;

/** A batch line as the batch page shows it: its job (with the job's status now), or why its body was refused. */
export type BatchLineView =
  | { index: number; customId: string; jobId: string; status: JobStatus | 'no record' }
  | { index: number; customId: string; problem: string };

/** Unix seconds as ISO 8601 in UTC; a dash for a time that has not come. */
const time = (seconds: number | null) => (seconds === null ? '—' : isoTime(seconds * 1000));

/** When and how a batch ended: the first of its end times that is set. */
function ended(batch: BatchObject): string {
  const ends = [batch.completed_at, batch.failed_at, batch.cancelled_at, batch.expired_at];
  const at = ends.find((value) => value !== null);
  return at === undefined || at === null ? '—' : time(at);
}

const counts = (batch: BatchObject) =>
  `${batch.request_counts.total} total · ${batch.request_counts.completed} completed · ${batch.request_counts.failed} failed`;

/** The list of batches, newest first, with a link to the next page. */
export function batchListPage(options: { page: TenantBatch[]; next: string | null; limit: number }): string {
  const rows = options.page
    .map(
      ({ tenant, batch }) => `<tr>
  <td>${time(batch.created_at)}</td>
  <td class="id"><a href="${escapeHtml(batchPagePath(tenant, batch.id))}">${escapeHtml(batch.id)}</a></td>
  <td>${escapeHtml(tenant)}</td>
  <td data-field="status">${escapeHtml(batch.status)}</td>
  <td>${escapeHtml(batch.endpoint)}</td>
  <td data-field="request_counts">${counts(batch)}</td>
  <td>${ended(batch)}</td>
</tr>`,
    )
    .join('\n');
  const next =
    options.next === null
      ? ''
      : `<p class="pager"><a rel="next" href="${ADMIN_BATCHES_PATH}?after=${encodeURIComponent(options.next)}&amp;limit=${options.limit}">Older batches</a></p>`;
  const body =
    options.page.length === 0
      ? '<p class="muted">No batches.</p>'
      : `<table>
<thead><tr><th>Created</th><th>Batch</th><th>Tenant</th><th>Status</th><th>Endpoint</th><th>Requests</th><th>Ended</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
  return adminPage({
    title: 'batches',
    body: `<h1>Batches</h1>
<p class="muted">Every tenant's batches, newest first. Counts are the batch's as the API last settled them.</p>
${body}
${next}`,
  });
}

/** A field's value as text: times in ISO 8601, lists and objects as JSON. */
function fieldText(name: string, value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (name.endsWith('_at') && typeof value === 'number') return time(value);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** One batch: its fields and its lines, each line's job linked to the dashboard's job page. */
export function batchPage(options: {
  tenant: string;
  batch: BatchObject;
  lines: BatchLineView[];
  /** Where bull-board shows the LLM queue's jobs. */
  jobPath: (jobId: string) => string;
  /** The first line shown and how many a page shows. */
  from: number;
  limit: number;
}): string {
  const { tenant, batch, from, limit } = options;
  const fields = [['tenant', tenant] as const, ...Object.entries(batch)]
    .map(
      ([name, value]) =>
        `<tr><th>${escapeHtml(name)}</th><td data-field="${escapeHtml(name)}">${escapeHtml(fieldText(name, value))}</td></tr>`,
    )
    .join('\n');
  const lines = options.lines
    .map((line) => {
      const job =
        'jobId' in line
          ? `<td class="id"><a href="${escapeHtml(options.jobPath(line.jobId))}">${escapeHtml(line.jobId)}</a></td><td>${escapeHtml(line.status)}</td>`
          : `<td class="muted">no job</td><td>${escapeHtml(line.problem)}</td>`;
      return `<tr><td>${line.index + 1}</td><td>${escapeHtml(line.customId)}</td>${job}</tr>`;
    })
    .join('\n');
  const page = (start: number, text: string, rel: string) =>
    `<a rel="${rel}" href="${escapeHtml(batchPagePath(tenant, batch.id))}?from=${start}&amp;limit=${limit}">${text}</a>`;
  const pager = [
    from > 0 ? page(Math.max(0, from - limit), 'Earlier lines', 'prev') : '',
    options.lines.length === limit ? page(from + limit, 'Later lines', 'next') : '',
  ].join(' ');
  return adminPage({
    title: batch.id,
    body: `<p><a href="${ADMIN_BATCHES_PATH}">All batches</a></p>
<h1 class="id">${escapeHtml(batch.id)}</h1>
<table class="fields">
${fields}
</table>
<h2>Lines</h2>
${
  options.lines.length === 0
    ? '<p class="muted">No lines here.</p>'
    : `<table class="lines">
<thead><tr><th>Line</th><th>custom_id</th><th>Job</th><th>Status now</th></tr></thead>
<tbody>
${lines}
</tbody>
</table>`
}
<p class="pager">${pager}</p>`,
  });
}
