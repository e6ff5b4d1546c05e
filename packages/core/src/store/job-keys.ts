/** Namespace of every key llmq writes outside BullMQ. */
export const KEY_NAMESPACE = 'llmq';

/** Pub/sub channel carrying `{id, tenant, status, previous}` for every status change. */
export const JOB_EVENTS_CHANNEL = 'llmq:job-events';

/** Pub/sub channel asking whichever worker runs a job to abort its provider call: `{tenant, id}`. */
export const JOB_CANCEL_CHANNEL = 'llmq:job-cancel';

// The hash tag puts a tenant's records and indexes in one cluster slot, which the Lua scripts
// that touch both need.
export function tenantTag(tenant: string): string {
  return `${KEY_NAMESPACE}:{t:${tenant}}`;
}

export function jobRecordKey(tenant: string, jobId: string): string {
  return `${tenantTag(tenant)}:job:${jobId}`;
}

/** All of a tenant's jobs; `${prefix}:${status}` holds those in one status. Members sort by id. */
export function jobIndexPrefix(tenant: string): string {
  return `${tenantTag(tenant)}:jobs`;
}

/** Every tenant that ever submitted a job: where the reconciler looks for records to check. Tagged like every key. */
export const TENANTS_KEY = `${KEY_NAMESPACE}:{tenants}`;

/** A tenant's outbox: `{id, status}` of every job end, added by the transition that ended it. */
export function jobOutboxKey(tenant: string): string {
  return `${tenantTag(tenant)}:outbox`;
}
