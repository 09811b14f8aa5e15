import type { Model } from '@iii-harness/types';
import { useMemo, useRef, useState } from 'preact/hooks';
import { navigate } from '../state/app';
import { chooseModel, chosenModel, findModel, type ModelRef, models, providerById, refKey } from '../state/models';
import { Dialog } from './dialog';
import { perMillion, tokens } from './format';

/** The model the next turn uses: a button showing it, a searchable list to change it. */
export function ModelPicker({
  sessionId,
  lastUsed,
}: {
  sessionId?: string | undefined;
  lastUsed?: ModelRef | undefined;
}) {
  const [open, setOpen] = useState(false);
  const chosen = chosenModel(sessionId) ?? lastUsed;
  const model = findModel(chosen);
  return (
    <>
      <button
        type="button"
        class="btn model-button"
        onClick={() => setOpen(true)}
        aria-haspopup="dialog"
        aria-keyshortcuts="m"
        title="Choose the model for the next turn (m)"
      >
        <span class="muted small">Model</span>{' '}
        {chosen ? (
          <>
            <strong>{model?.display_name ?? chosen.model}</strong>
            <span class="muted small"> {chosen.provider}</span>
          </>
        ) : (
          <strong>harness default</strong>
        )}
      </button>
      {open && (
        <ModelDialog
          chosen={chosen}
          onPick={(ref) => {
            chooseModel(sessionId, ref);
            setOpen(false);
          }}
          onClose={() => setOpen(false)}
        />
      )}
    </>
  );
}

function ModelDialog({
  chosen,
  onPick,
  onClose,
}: {
  chosen?: ModelRef | undefined;
  onPick(ref: ModelRef): void;
  onClose(): void;
}) {
  const [query, setQuery] = useState('');
  const list = useRef<HTMLUListElement>(null);
  const filtered = useMemo(() => {
    const q = query.trim().toLowerCase();
    return models.value
      .filter((m) => !q || `${m.provider} ${m.id} ${m.display_name ?? ''}`.toLowerCase().includes(q))
      .sort((a, b) => a.provider.localeCompare(b.provider) || a.id.localeCompare(b.id));
  }, [query, models.value]);
  const move = (e: KeyboardEvent) => {
    const options = [...(list.current?.querySelectorAll<HTMLButtonElement>('button.model-option') ?? [])];
    const at = options.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === 'ArrowDown') options[Math.min(options.length - 1, at + 1)]?.focus();
    else if (e.key === 'ArrowUp') (at <= 0 ? document.getElementById('model-search') : options[at - 1])?.focus();
    else return;
    e.preventDefault();
  };
  return (
    <Dialog title="Choose a model" onClose={onClose} class="dialog-wide">
      {/* biome-ignore lint/a11y/noStaticElementInteractions: arrow keys move between the options inside */}
      <div onKeyDown={move}>
        <label class="sr-only" for="model-search">
          Filter models
        </label>
        <input
          id="model-search"
          class="input"
          type="search"
          placeholder="Filter by provider or model"
          value={query}
          autofocus
          onInput={(e) => setQuery(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && filtered[0]) onPick({ provider: filtered[0].provider, model: filtered[0].id });
          }}
        />
        {models.value.length === 0 && (
          <p class="muted">
            The catalog is empty: providers register their models when they start.{' '}
            <a
              href="/models"
              onClick={(e) => {
                e.preventDefault();
                onClose();
                navigate('/models');
              }}
            >
              See providers
            </a>
          </p>
        )}
        <ul class="model-options" ref={list}>
          {filtered.map((m) => (
            <ModelOption
              key={refKey({ provider: m.provider, model: m.id })}
              model={m}
              chosen={chosen}
              onPick={onPick}
            />
          ))}
        </ul>
      </div>
    </Dialog>
  );
}

function ModelOption({
  model,
  chosen,
  onPick,
}: {
  model: Model;
  chosen?: ModelRef | undefined;
  onPick(ref: ModelRef): void;
}) {
  const provider = providerById.value.get(model.provider);
  const unusable = provider && provider.status !== 'usable' ? provider : undefined;
  const selected = chosen?.provider === model.provider && chosen.model === model.id;
  return (
    <li>
      <button
        type="button"
        class={selected ? 'model-option selected' : 'model-option'}
        aria-pressed={selected}
        onClick={() => onPick({ provider: model.provider, model: model.id })}
      >
        <span class="model-name">
          <strong>{model.display_name ?? model.id}</strong>
          <span class="muted small"> {model.provider}</span>
          {unusable && <span class="badge badge-warn">{unusable.status.replace('_', ' ')}</span>}
        </span>
        <span class="model-facts small">
          <span>{tokens(model.context_window)} context</span>
          <span>{tokens(model.max_output_tokens)} out</span>
          <span>
            {model.pricing
              ? `${perMillion(model.pricing.input)} / ${perMillion(model.pricing.output)} per M`
              : 'no price'}
          </span>
          {model.capabilities.map((c) => (
            <span key={c} class="chip">
              {c.replace('_', ' ')}
            </span>
          ))}
        </span>
      </button>
    </li>
  );
}
