import type { StepResult } from '../turn.js';

/**
 * run::abort asked to stop a turn between steps: it ends as aborted. The ending closes an open
 * batch (every call gets a result, held calls are cancelled at the gate), so the transcript never
 * holds a call without its result.
 */
export const finishAborted = async (): Promise<StepResult> => ({ outcome: 'aborted', reason: 'aborted by request' });
