import { z } from 'zod';

const scopeName = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'a state scope name');

export const configSchema = z
  .object({
    /** Engine state scope of session records (key = session id). */
    meta_scope: scopeName.default('session_meta'),
    /** Entries live in scope `<prefix>:<session_id>`, one key per entry id. */
    entries_scope_prefix: scopeName.default('session_entries'),
    /** Inbox queues live in scope `<prefix>:<session_id>`, one key per inbox name. */
    inbox_scope_prefix: scopeName.default('session_inbox'),
    /** `session::list` page size when the caller gives no `limit`. */
    list_page_size: z.number().int().min(1).max(1000).default(50),
    /** Upper bound of `limit` in `session::list`. */
    max_page_size: z.number().int().min(1).max(10_000).default(500),
    /** Most entries one `session::append_batch` call may carry. */
    max_entries_per_batch: z.number().int().min(1).max(10_000).default(100),
    /**
     * How long a duplicate `append` waits for the first writer of the same entry id to finish
     * before it takes the write over (the first writer crashed half-way).
     */
    pending_timeout_ms: z.number().int().min(50).max(600_000).default(5_000),
    /**
     * Reading a path of N entries in a session of M: N `state::get`s (one round trip each), or one
     * `state::list` of all M when N * factor >= M. 0 always walks with gets.
     */
    path_list_factor: z.number().min(0).max(1_000).default(5),
    /**
     * Paths shorter than this are always read with gets. A single entry costs one call either
     * way, and `get` reads only it.
     */
    path_list_min: z.number().int().min(1).default(2),
    /**
     * Sessions whose leaf this process remembers, so an append places its draft without reading
     * the session record first (see hints.ts). 0: every append reads the record.
     */
    leaf_hints: z.number().int().min(0).max(1_000_000).default(10_000),
    /** Concurrent state writes when copying (fork, clone) or deleting a session. */
    write_concurrency: z.number().int().min(1).max(1_000).default(32),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

export const envOverrides = {
  IIH_SESSION_META_SCOPE: 'meta_scope',
  IIH_SESSION_ENTRIES_SCOPE_PREFIX: 'entries_scope_prefix',
  IIH_SESSION_INBOX_SCOPE_PREFIX: 'inbox_scope_prefix',
  IIH_SESSION_LIST_PAGE_SIZE: 'list_page_size',
  IIH_SESSION_MAX_PAGE_SIZE: 'max_page_size',
  IIH_SESSION_MAX_ENTRIES_PER_BATCH: 'max_entries_per_batch',
  IIH_SESSION_PENDING_TIMEOUT_MS: 'pending_timeout_ms',
  IIH_SESSION_PATH_LIST_FACTOR: 'path_list_factor',
  IIH_SESSION_PATH_LIST_MIN: 'path_list_min',
  IIH_SESSION_WRITE_CONCURRENCY: 'write_concurrency',
  IIH_SESSION_LEAF_HINTS: 'leaf_hints',
};
