// Vendor-neutral scenarios (see @iii-harness/testing Scenario) the fakes render in their format.

/** Benchmark modes: the model name in a request selects one. */
export const MODES = {
  // A vendor pacing tokens (1 ms between events, faster than any hosted model): can passthrough keep up?
  paced: { model: 'bench-paced', tokens: 400, delayMs: 1, runs: 16, throughputTarget: true, ttftTarget: true },
  // Tokens as fast as the fake can write them: the CPU cost of the extra hop.
  burst: { model: 'bench-burst', tokens: 2_000, delayMs: 0, runs: 12, throughputTarget: true, ttftTarget: false },
  // Short answers, many times: time to first token.
  ttft: { model: 'bench-ttft', tokens: 5, delayMs: 0, runs: 60, throughputTarget: false, ttftTarget: true },
};

/** A slow stream (4 s) that the bench aborts after its first token. */
export const ABORT_MODE = { model: 'bench-abort', tokens: 200, delayMs: 20, runs: 10 };

const TOKEN = 'tok ';

/** How many scripted tokens a text delta carries. */
export const tokensIn = (text) => Math.round(text.length / TOKEN.length);

export function scenarioForModel(model) {
  const mode = [...Object.values(MODES), ABORT_MODE].find((m) => m.model === model) ?? MODES.ttft;
  return {
    steps: [{ text: TOKEN.repeat(mode.tokens) }],
    split: mode.tokens, // one delta per token
    event_delay_ms: mode.delayMs,
    usage: { input: 20, output: mode.tokens },
  };
}
