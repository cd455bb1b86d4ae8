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
  return watch(`./api/live?run=${run}`, changed, 50);
}

// Calls `changed` when any run changes, at most once per `spacingMs`: a busy engine changes runs
// thousands of times a second, and pages that show counts or lists need a refresh, not each one.
export function watchAllRuns(changed: () => void, spacingMs: number): LiveStream {
  return watch('./api/live', changed, spacingMs);
}

function watch(url: string, changed: () => void, spacingMs: number): LiveStream {
  if (typeof EventSource === 'undefined') return { open: () => false, close: () => {} };
  const source = new EventSource(url);
  let pending: number | undefined;
  const soon = () => {
    if (pending === undefined) pending = window.setTimeout(() => { pending = undefined; changed(); }, spacingMs);
  };
  source.addEventListener('changed', soon);
  source.addEventListener('resync', soon);
  // Also once open: what changed between the page's first read and the subscription.
  source.addEventListener('open', soon);
  return {
    open: () => source.readyState === EventSource.OPEN,
    close: () => {
      source.close();
      if (pending !== undefined) window.clearTimeout(pending);
    },
  };
}
