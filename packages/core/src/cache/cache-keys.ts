import { KEY_NAMESPACE, tenantTag } from '../store/job-keys.js';

/** Whose entries a lookup may see: one tenant's, or (exact entries only) everyone's. */
export interface CacheScope {
  tenant: string;
  /** Config `share_across_tenants`. */
  shared: boolean;
}

/** An exact chat answer. Shared keys carry no hash tag: each is read alone, so they spread over the cluster. */
export function chatAnswerKey(scope: CacheScope, digest: string): string {
  return scope.shared ? `${KEY_NAMESPACE}:cache:chat:${digest}` : `${tenantTag(scope.tenant)}:cache:chat:${digest}`;
}

/**
 * One embedding input's vector. A job reads all its inputs in one MGET, so one job's keys share
 * a hash tag: the tenant's, or for shared entries the model's.
 */
export function embeddingVectorKey(scope: CacheScope, model: string, digest: string): string {
  return scope.shared
    ? `${KEY_NAMESPACE}:{cache:${model}}:emb:${digest}`
    : `${tenantTag(scope.tenant)}:cache:emb:${digest}`;
}

/** The three keys of one semantic scope (tenant, model, parameters); always the tenant's own. */
export function semanticScopeKeys(tenant: string, scopeDigest: string) {
  const prefix = `${tenantTag(tenant)}:cache:sem:${scopeDigest}`;
  return {
    /** Hash: entry id -> unit-length vector, packed little-endian float32. */
    vectors: `${prefix}:vectors`,
    /** Hash: entry id -> the stored answer (JSON). */
    answers: `${prefix}:answers`,
    /** Sorted set: entry id scored by its expiry time, ms. */
    expiries: `${prefix}:expiries`,
  };
}
