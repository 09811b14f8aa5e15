import type { Model } from '@iii-harness/types';
import { useState } from 'preact/hooks';
import type { ProviderStatus } from '../../../src/protocol';
import { Dialog } from '../components/dialog';
import { perMillion, timeAgo, tokens } from '../components/format';
import { features } from '../state/app';
import { current } from '../state/chat';
import {
  chooseModel,
  chosenModel,
  models,
  modelsLoaded,
  providers,
  providersError,
  refreshProvider,
  removeKey,
  setKey,
} from '../state/models';

const HEALTH_TEXT = { usable: 'usable', missing_key: 'missing key', unreachable: 'unreachable' } as const;

export function ModelsScreen() {
  const sessionId = current.value?.sessionId;
  const chosen = chosenModel(sessionId);
  const byProvider = new Map<string, Model[]>();
  for (const m of models.value) byProvider.set(m.provider, [...(byProvider.get(m.provider) ?? []), m]);
  return (
    <main class="page" id="main">
      <header class="page-head">
        <h1>Models</h1>
        <p class="muted">
          What each provider registered in the catalog, and whether it can be used. Keys are written to the credential
          vault and never shown again.
        </p>
      </header>
      <section aria-labelledby="providers-title">
        <h2 id="providers-title">Providers</h2>
        {providersError.value && <p class="notice notice-error">Provider status unavailable: {providersError.value}</p>}
        {modelsLoaded.value && providers.value.length === 0 && !providersError.value && (
          <p class="muted">No provider has registered with the harness yet.</p>
        )}
        <div class="provider-grid">
          {providers.value.map((p) => (
            <ProviderCard key={p.id} provider={p} />
          ))}
        </div>
      </section>
      <section aria-labelledby="catalog-title">
        <h2 id="catalog-title">Catalog</h2>
        {!features.value?.models && <p class="muted">The models catalog worker is not running.</p>}
        {[...byProvider.entries()].map(([provider, list]) => (
          <div key={provider} class="table-wrap">
            <table class="table">
              <caption>{provider}</caption>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Context</th>
                  <th scope="col">Max output</th>
                  <th scope="col">Capabilities</th>
                  <th scope="col">Input / output per M</th>
                  <th scope="col">Cache read / write</th>
                  <th scope="col">
                    <span class="sr-only">Use</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((m) => {
                  const selected = chosen?.provider === m.provider && chosen.model === m.id;
                  return (
                    <tr key={m.id} class={selected ? 'selected' : undefined}>
                      <th scope="row">
                        {m.display_name ?? m.id}
                        {m.display_name && <div class="muted small">{m.id}</div>}
                      </th>
                      <td>{tokens(m.context_window)}</td>
                      <td>{tokens(m.max_output_tokens)}</td>
                      <td>
                        {m.capabilities.map((c) => (
                          <span key={c} class="chip">
                            {c.replace('_', ' ')}
                          </span>
                        ))}
                      </td>
                      <td>{m.pricing ? `${perMillion(m.pricing.input)} / ${perMillion(m.pricing.output)}` : '—'}</td>
                      <td>
                        {m.pricing ? `${perMillion(m.pricing.cache_read)} / ${perMillion(m.pricing.cache_write)}` : '—'}
                      </td>
                      <td>
                        <button
                          type="button"
                          class={selected ? 'btn btn-primary btn-xs' : 'btn btn-xs'}
                          aria-pressed={selected}
                          onClick={() => chooseModel(sessionId, { provider: m.provider, model: m.id })}
                        >
                          {selected ? 'In use' : 'Use'}
                          <span class="sr-only"> {m.id}</span>
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ))}
      </section>
    </main>
  );
}

function ProviderCard({ provider: p }: { provider: ProviderStatus }) {
  const [keyOpen, setKeyOpen] = useState(false);
  return (
    <article class="provider-card" aria-label={`${p.display_name}: ${HEALTH_TEXT[p.status]}`}>
      <header class="provider-head">
        <strong>{p.display_name}</strong>
        <span class={`badge badge-${p.status === 'usable' ? 'ok' : p.status === 'missing_key' ? 'warn' : 'err'}`}>
          {HEALTH_TEXT[p.status]}
        </span>
      </header>
      <p class="small muted">
        <code>{p.id}</code> · {p.kind} · {p.models} model{p.models === 1 ? '' : 's'}
      </p>
      <p class="small">{p.detail}</p>
      {p.last_refresh && (
        <p class="small muted">
          Last refresh {timeAgo(p.last_refresh.at)}: {p.last_refresh.ok ? 'ok' : p.last_refresh.message}
        </p>
      )}
      <div class="provider-actions">
        {p.kind === 'cloud' && (
          <button type="button" class="btn btn-xs" onClick={() => setKeyOpen(true)} disabled={!features.value?.auth}>
            {p.credential?.configured ? 'Replace key' : 'Set key'}
          </button>
        )}
        {p.credential?.source === 'stored' && (
          <button type="button" class="btn btn-ghost btn-xs" onClick={() => void removeKey(p.id)}>
            Remove stored key
          </button>
        )}
        {p.supports_model_listing && (
          <button
            type="button"
            class="btn btn-ghost btn-xs"
            onClick={() => void refreshProvider(p.id)}
            disabled={!p.worker}
          >
            Refresh models
          </button>
        )}
      </div>
      {keyOpen && <KeyDialog provider={p} onClose={() => setKeyOpen(false)} />}
    </article>
  );
}

/** A key goes in, never comes back: the field is a password field and is cleared on submit. */
function KeyDialog({ provider, onClose }: { provider: ProviderStatus; onClose(): void }) {
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={`API key for ${provider.display_name}`} onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          const ok = await setKey(provider.id, value.trim());
          setValue('');
          setBusy(false);
          if (ok) onClose();
        }}
      >
        <p class="small muted">
          Stored in the credential vault (auth-credentials), where it wins over
          {provider.credential_env_var ? ` ${provider.credential_env_var}` : ' the environment'}. The console never
          reads it back.
        </p>
        <label for="api-key">Key</label>
        <input
          id="api-key"
          class="input"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={value}
          autofocus
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy || value.trim().length < 8}>
            Store key
          </button>
        </div>
      </form>
    </Dialog>
  );
}
