import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { tenantTag } from '@llmq/core';

/** OpenAI's file object, as `GET /v1/files/{id}` answers it. */
export const batchFileSchema = z.strictObject({
  id: z.string(),
  object: z.literal('file'),
  bytes: z.number().int().describe('size of the content in bytes'),
  created_at: z.number().int().describe('Unix seconds'),
  expires_at: z.number().int().describe('Unix seconds: the file is gone after this (the retention of jobs)'),
  filename: z.string(),
  purpose: z.enum(['batch', 'batch_output']),
  status: z.literal('processed'),
  /** Requests (non-empty lines) in the file. An llmq extension. */
  lines: z.number().int().describe('requests (non-empty lines) in the file; an llmq extension'),
});
export type BatchFile = z.infer<typeof batchFileSchema>;

/** `file-` then 12 base-36 characters of milliseconds (so ids sort by creation) and 16 hex of randomness. */
export const FILE_ID_PATTERN = '^file-[0-9a-z]{12}[0-9a-f]{16}$';
const FILE_ID = new RegExp(FILE_ID_PATTERN);
export const isFileId = (id: string) => FILE_ID.test(id);

export function createFileId(now = Date.now()): string {
  return `file-${now.toString(36).padStart(12, '0')}${randomBytes(8).toString('hex')}`;
}

/** Bytes of a file read from Redis in one command. */
export const CONTENT_PIECE_BYTES = 1024 * 1024;

const metaKey = (tenant: string, id: string) => `${tenantTag(tenant)}:file:${id}`;
const contentKey = (tenant: string, id: string) => `${tenantTag(tenant)}:file:${id}:content`;
/** A tenant's file ids, all scored 0, so they sort by id (creation time). Members of expired files are dropped as lists meet them. */
const indexKey = (tenant: string) => `${tenantTag(tenant)}:files`;

export interface BatchFileStoreOptions {
  redis: Redis;
  /** How long a file is kept, ms: the retention of jobs (LLMQ_RETENTION_SECONDS). */
  retentionMs: number;
}

/**
 * Batch input and output files in Redis, under the tenant's hash tag: a JSON meta key and a
 * content key, both expiring with the retention of jobs.
 */
export class BatchFileStore {
  readonly retentionMs: number;
  private readonly redis: Redis;

  constructor(options: BatchFileStoreOptions) {
    this.redis = options.redis;
    this.retentionMs = options.retentionMs;
  }

  async create(options: {
    tenant: string;
    filename: string;
    purpose: BatchFile['purpose'];
    content: Buffer;
    lines: number;
  }): Promise<BatchFile> {
    const now = Date.now();
    const file: BatchFile = {
      id: createFileId(now),
      object: 'file',
      bytes: options.content.length,
      created_at: Math.floor(now / 1000),
      expires_at: Math.floor((now + this.retentionMs) / 1000),
      filename: options.filename,
      purpose: options.purpose,
      status: 'processed',
      lines: options.lines,
    };
    const ttl = String(this.retentionMs);
    await this.redis
      .multi()
      .set(contentKey(options.tenant, file.id), options.content, 'PX', ttl)
      .set(metaKey(options.tenant, file.id), JSON.stringify(file), 'PX', ttl)
      // One score for all: the index is read by id (ZRANGEBYLEX), ids sorting by creation time.
      .zadd(indexKey(options.tenant), 0, file.id)
      .pexpire(indexKey(options.tenant), ttl)
      .exec();
    return file;
  }

  /**
   * Adds a piece to the end of a file being written (`createFileId()`): a large output file is
   * written piece by piece, never held whole in memory or sent to Redis in one command. The file is
   * listed and readable once `publish` writes its meta.
   */
  async append(tenant: string, id: string, piece: Buffer): Promise<void> {
    if (piece.length === 0) return;
    const key = contentKey(tenant, id);
    await this.redis.multi().append(key, piece).pexpire(key, this.retentionMs).exec();
  }

  /** Makes a file written with `append` readable: its meta, from its content's length. */
  async publish(options: {
    tenant: string;
    id: string;
    filename: string;
    purpose: BatchFile['purpose'];
    lines: number;
  }): Promise<BatchFile> {
    const now = Date.now();
    const bytes = await this.redis.strlen(contentKey(options.tenant, options.id));
    const file: BatchFile = {
      id: options.id,
      object: 'file',
      bytes,
      created_at: Math.floor(now / 1000),
      expires_at: Math.floor((now + this.retentionMs) / 1000),
      filename: options.filename,
      purpose: options.purpose,
      status: 'processed',
      lines: options.lines,
    };
    const ttl = String(this.retentionMs);
    await this.redis
      .multi()
      .pexpire(contentKey(options.tenant, file.id), ttl)
      .set(metaKey(options.tenant, file.id), JSON.stringify(file), 'PX', ttl)
      .zadd(indexKey(options.tenant), 0, file.id)
      .pexpire(indexKey(options.tenant), ttl)
      .exec();
    return file;
  }

  async get(tenant: string, id: string): Promise<BatchFile | null> {
    if (!isFileId(id)) return null;
    const raw = await this.redis.get(metaKey(tenant, id));
    return raw === null ? null : batchFileSchema.parse(JSON.parse(raw));
  }

  /**
   * The content in pieces of CONTENT_PIECE_BYTES: one GET of a 32 MiB value holds Redis for
   * ~50 ms (measured), a 1 MiB GETRANGE for 0.2 to 1 ms, so other clients' commands run between the pieces.
   * Null when there is no such file.
   */
  async content(tenant: string, id: string): Promise<AsyncIterable<Buffer> | null> {
    if (!isFileId(id)) return null;
    const key = contentKey(tenant, id);
    const [[, exists] = [], [, length] = []] = (await this.redis.multi().exists(key).strlen(key).exec()) ?? [];
    if (exists !== 1 || typeof length !== 'number') return null;
    const redis = this.redis;
    return (async function* pieces() {
      for (let start = 0; start < length; start += CONTENT_PIECE_BYTES) {
        yield await redis.getrangeBuffer(key, start, Math.min(length, start + CONTENT_PIECE_BYTES) - 1);
      }
    })();
  }

  /** True when the file existed. */
  async delete(tenant: string, id: string): Promise<boolean> {
    if (!isFileId(id)) return false;
    const results = await this.redis
      .multi()
      .del(metaKey(tenant, id), contentKey(tenant, id))
      .zrem(indexKey(tenant), id)
      .exec();
    return Number(results?.[0]?.[1] ?? 0) > 0;
  }

  /** A page of the tenant's files in creation order, starting after `after`; `hasMore` when more follow. */
  async list(options: {
    tenant: string;
    limit: number;
    order: 'asc' | 'desc';
    after?: string;
    purpose?: BatchFile['purpose'];
  }): Promise<{ files: BatchFile[]; hasMore: boolean }> {
    const key = indexKey(options.tenant);
    const files: BatchFile[] = [];
    let cursor = options.after;
    // Pages of the index until `limit` live files (of the purpose) are found or the index ends.
    for (;;) {
      const page = await this.idsAfter(key, options.order, cursor, options.limit + 1);
      if (page.length === 0) return { files, hasMore: false };
      const metas = await this.redis.mget(page.map((id) => metaKey(options.tenant, id)));
      const gone: string[] = [];
      for (const [index, id] of page.entries()) {
        const raw = metas[index];
        if (raw === null || raw === undefined) {
          gone.push(id);
          continue;
        }
        const file = batchFileSchema.parse(JSON.parse(raw));
        if (options.purpose !== undefined && file.purpose !== options.purpose) continue;
        if (files.length === options.limit) return { files, hasMore: true };
        files.push(file);
      }
      if (gone.length > 0) await this.redis.zrem(key, ...gone);
      cursor = page.at(-1);
    }
  }

  private async idsAfter(key: string, order: 'asc' | 'desc', after: string | undefined, count: number) {
    // Ids sort as their creation times do, so the member itself is the cursor.
    if (order === 'asc') {
      return this.redis.zrangebylex(key, after === undefined ? '-' : `(${after}`, '+', 'LIMIT', 0, count);
    }
    return this.redis.zrevrangebylex(key, after === undefined ? '+' : `(${after}`, '-', 'LIMIT', 0, count);
  }
}
