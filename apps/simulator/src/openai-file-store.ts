import { randomBytes } from 'node:crypto';

/** OpenAI's FileObject, as the API answers it. */
export interface OpenAIFileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: 'processed';
  expires_at: number | null;
  status_details: null;
}

interface StoredFile {
  file: OpenAIFileObject;
  content: Buffer;
}

/** Default `SimulatorOptions.maxStoredFileBytes`. */
export const DEFAULT_MAX_STORED_FILE_BYTES = 1024 * 1024 * 1024;

/**
 * Uploaded and generated files in memory, at most `capacityBytes` of content together: adding a
 * file drops the oldest ones until it fits (as if they had expired).
 */
export class OpenAIFileStore {
  private readonly files = new Map<string, StoredFile>();
  private readonly capacityBytes: number;
  private storedBytes = 0;

  constructor(capacityBytes: number = DEFAULT_MAX_STORED_FILE_BYTES) {
    this.capacityBytes = capacityBytes;
  }

  add(content: Buffer, options: { filename: string; purpose: string }): OpenAIFileObject {
    for (const [id, stored] of this.files) {
      if (this.storedBytes + content.length <= this.capacityBytes) break;
      this.files.delete(id);
      this.storedBytes -= stored.content.length;
    }
    const file: OpenAIFileObject = {
      id: `file-${randomBytes(11).toString('base64url')}`,
      object: 'file',
      bytes: content.length,
      created_at: Math.floor(Date.now() / 1000),
      filename: options.filename,
      purpose: options.purpose,
      status: 'processed',
      expires_at: null,
      status_details: null,
    };
    this.files.set(file.id, { file, content });
    this.storedBytes += content.length;
    return file;
  }

  get(id: string): OpenAIFileObject | undefined {
    return this.files.get(id)?.file;
  }

  content(id: string): Buffer | undefined {
    return this.files.get(id)?.content;
  }

  delete(id: string): boolean {
    const stored = this.files.get(id);
    if (stored === undefined) return false;
    this.files.delete(id);
    this.storedBytes -= stored.content.length;
    return true;
  }

  /** Newest first. */
  newestFirst(): OpenAIFileObject[] {
    return [...this.files.values()].map((stored) => stored.file).reverse();
  }

  clear(): void {
    this.files.clear();
    this.storedBytes = 0;
  }
}
