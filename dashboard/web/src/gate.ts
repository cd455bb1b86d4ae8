// The decision on an open approval gate, for the run page's node panel and the approvals page: an
// optional text (the output passed downstream if approved, the reason if rejected) and the two
// buttons, disabled while a decision is on its way (a double click would be refused as a 409).
import { api } from './api';
import { clear, errorBox, h } from './dom';

// attempt: the one the page shows open; a gate decided and opened again since refuses it.
export function gateDecision(runId: number, node: string, attempt: number, onDecided: () => void | Promise<void>,
                             placeholder = 'output or reason (optional)'): HTMLElement {
  const text = h('input', { type: 'text', class: 'gate-text', placeholder, size: 18 }) as HTMLInputElement;
  const error = h('div', {});
  const approveButton = h('button', { class: 'primary approve-gate' }, 'Approve') as HTMLButtonElement;
  const rejectButton = h('button', { class: 'danger reject-gate' }, 'Reject') as HTMLButtonElement;
  const decide = async (approve: boolean) => {
    clear(error);
    approveButton.disabled = rejectButton.disabled = true;
    try {
      await api.decide(runId, node, approve, attempt, text.value.trim() || undefined);
      await onDecided();
    } catch (e) {
      error.appendChild(errorBox((e as Error).message));
      approveButton.disabled = rejectButton.disabled = false;
    }
  };
  approveButton.addEventListener('click', () => void decide(true));
  rejectButton.addEventListener('click', () => void decide(false));
  return h('div', { class: 'gate-decision', 'data-gate': node },
    h('div', { class: 'actions' }, text, approveButton, rejectButton), error);
}
