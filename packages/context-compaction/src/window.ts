import { type Bus, HarnessError } from '@iii-harness/runtime';
import { contracts, type Model } from '@iii-harness/types';
import type { Config } from './config.js';

/** What a request to one model may carry. */
export interface ModelWindow {
  model: Model;
  context_window: number;
  reserve_output_tokens: number;
  safety_margin_tokens: number;
  usable_tokens: number;
  /** Earlier reasoning is signed: no function result of the context is ever rewritten. */
  signed_reasoning: boolean;
}

/** The model's window from the catalog; a model the catalog does not know has no window to plan with. */
export async function modelWindow(
  bus: Bus,
  config: Config,
  provider: string,
  modelId: string,
  reserveOutput?: number,
): Promise<ModelWindow> {
  let model: Model;
  try {
    ({ model } = await bus.call(contracts.models.get, { provider, model_id: modelId }));
  } catch (error) {
    if (error instanceof HarnessError && error.reason === 'function_not_found')
      throw new HarnessError('unavailable', 'the models catalog (models::get) is not running', {
        reason: 'catalog_unavailable',
      });
    if (error instanceof HarnessError && error.code === 'not_found')
      throw new HarnessError(
        'not_found',
        `model ${provider}/${modelId} is not in the models catalog, so its context window is unknown`,
        { reason: 'model_unknown' },
      );
    throw error;
  }
  return windowOf(model, config, reserveOutput);
}

export function windowOf(model: Model, config: Config, reserveOutput?: number): ModelWindow {
  const window = model.context_window;
  const reserve = reserveOutput ?? Math.min(model.max_output_tokens, config.default_output_reserve_tokens);
  const margin = Math.ceil(window * config.safety_margin_ratio);
  const usable = window - reserve - margin;
  if (usable < config.min_usable_tokens)
    throw new HarnessError(
      'invalid_payload',
      `model ${model.provider}/${model.id}: a window of ${window} tokens less ${reserve} reserved for output and a ${margin}-token margin leaves ${Math.max(0, usable)}, under the ${config.min_usable_tokens} a request needs`,
      { reason: 'window_too_small' },
    );
  return {
    model,
    context_window: window,
    reserve_output_tokens: reserve,
    safety_margin_tokens: margin,
    usable_tokens: usable,
    signed_reasoning: model.capabilities.includes('signed_reasoning'),
  };
}
