// Live updates: the dashboard's event stream (GET /api/live) says when a run changed, so a page
// refreshes at once instead of at its next poll. Without the stream (too many tabs open, a proxy
// that buffers it, the database's notifications turned off) pages go on polling as before.
export interface LiveStream {
  // Whether the stream is open now: pages poll less often while it is.
  open(): boolean;
  close(): void;
}

// Calls `changed` when run `run` changes (or when the stream may have missed changes). Bursts
// (a batch of reports is several notifications) come as one call.
export function watchRun(run: number, changed: () => void): LiveStream {
  if (typeof EventSource === 'undefined') return { open: () => false, close: () => {} };
  const source = new EventSource(`./api/live?run=${run}`);
  let pending: number | undefined;
  const soon = () => {
    if (pending === undefined) pending = window.setTimeout(() => { pending = undefined; changed(); }, 50);
  };
  source.addEventListener('changed', soon);
  source.addEventListener('resync', soon);
  return {
    open: () => source.readyState === EventSource.OPEN,
    close: () => {
      source.close();
      if (pending !== undefined) window.clearTimeout(pending);
    },
  };
}
