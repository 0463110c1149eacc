import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { ApiFailure } from './api.js';

export function ErrorBox({ error }: { error: ApiFailure }) {
  return (
    <div class="error" data-testid="error" role="alert">
      {error.message}
      {error.hint && <div class="hint">{error.hint}</div>}
    </div>
  );
}

/** A button that asks first: the action runs only after "Confirm" in the dialog it opens. */
export function ConfirmButton(p: { label: string; question: string; disabled?: boolean; title?: string; testId?: string; onConfirm: () => Promise<void> }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  return (
    <>
      <button class="small" data-testid={p.testId} disabled={p.disabled} title={p.title} onClick={() => setOpen(true)}>
        {p.label}
      </button>
      {open && (
        <Modal onClose={() => !busy && setOpen(false)}>
          <p data-testid="confirm-question">{p.question}</p>
          {error && <p class="error">{error}</p>}
          <div class="actions">
            <button onClick={() => setOpen(false)} disabled={busy}>
              Cancel
            </button>
            <button
              class="primary"
              data-testid="confirm"
              disabled={busy}
              onClick={async () => {
                setBusy(true);
                try {
                  await p.onConfirm();
                  setOpen(false);
                } catch (err) {
                  setError((err as Error).message);
                } finally {
                  setBusy(false);
                }
              }}
            >
              Confirm
            </button>
          </div>
        </Modal>
      )}
    </>
  );
}

function Modal({ children, onClose }: { children: ComponentChildren; onClose: () => void }) {
  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="modal" role="dialog" aria-modal="true">
        {children}
      </div>
    </div>
  );
}
