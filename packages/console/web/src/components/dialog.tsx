import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/**
 * A modal dialog on the native `<dialog>`: focus is trapped and Esc cancels by the browser's
 * own rules; focus returns to where it was when it closes.
 */
export function Dialog({
  title,
  onClose,
  children,
  class: cls,
}: {
  title: string;
  onClose(): void;
  children: ComponentChildren;
  class?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    const before = document.activeElement as HTMLElement | null;
    dialog?.showModal();
    return () => {
      dialog?.close();
      before?.focus?.();
    };
  }, []);
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: a click on the backdrop closes; the keyboard has Esc (the dialog's cancel)
    <dialog
      ref={ref}
      class={`dialog ${cls ?? ''}`}
      aria-labelledby="dialog-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current) onClose();
      }}
    >
      <div class="dialog-body">
        <h2 id="dialog-title" class="dialog-title">
          {title}
        </h2>
        {children}
      </div>
    </dialog>
  );
}

export function ConfirmDialog({
  title,
  confirm,
  danger = false,
  onConfirm,
  onCancel,
  children,
}: {
  title: string;
  confirm: string;
  danger?: boolean;
  onConfirm(): void;
  onCancel(): void;
  children: ComponentChildren;
}) {
  return (
    <Dialog title={title} onClose={onCancel}>
      {children}
      <div class="dialog-actions">
        <button type="button" class="btn" onClick={onCancel} autofocus>
          Cancel
        </button>
        <button type="button" class={danger ? 'btn btn-danger' : 'btn btn-primary'} onClick={onConfirm}>
          {confirm}
        </button>
      </div>
    </Dialog>
  );
}
