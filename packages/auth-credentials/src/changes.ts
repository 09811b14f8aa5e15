import { type HandlerContext, HarnessError } from '@iii-harness/runtime';
import type { TokenSource } from './vault.js';

/** What the changes topic carries: which provider changed and how it resolves now. Never the token. */
export interface CredentialChange {
  provider: string;
  action: 'set' | 'delete';
  configured: boolean;
  source: TokenSource | null;
}

/** Announce a change; the write is done, so a lost notification is logged, not failed. */
export async function announceChange(
  topic: string,
  change: CredentialChange,
  { bus, logger }: HandlerContext,
): Promise<void> {
  await bus.publish(topic, change).catch((error: unknown) => {
    logger.warn(
      { provider: change.provider, err: error instanceof HarnessError ? error.toEnvelope() : error },
      'could not publish credential change',
    );
  });
}
