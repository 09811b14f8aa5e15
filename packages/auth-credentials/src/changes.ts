import type { HandlerContext } from '@iii-harness/runtime';
import type { CredentialChange } from '@iii-harness/types';

/** Announce a change; the write is done, so a lost notification is logged, not failed. */
export async function announceChange(
  topic: string,
  change: CredentialChange,
  { bus, logger }: HandlerContext,
): Promise<void> {
  await bus.publish(topic, change).catch((error: unknown) => {
    logger.warn({ provider: change.provider, err: error }, 'could not publish credential change');
  });
}
