// The dashboard's single page: a hash router over six pages. Each page returns a cleanup that
// stops its polling when the user navigates away.
import './style.css';
import { api, watchHealth, type Config } from './api';
import { clear, errorBox } from './dom';
import { homePage } from './pages/home';
import { runsPage } from './pages/runs';
import { runPage } from './pages/run';
import { agentsPage } from './pages/agents';
import { approvalsPage } from './pages/approvals';
import { startPage } from './pages/start';

export type Page = (root: HTMLElement, params: URLSearchParams, config: Config) => (() => void) | void;

const app = document.getElementById('app') as HTMLElement;
const connection = document.getElementById('connection') as HTMLElement;
let cleanup: (() => void) | void;
let config: Config = { actions: 'disabled', version: '' };

watchHealth((ok, message) => {
  connection.className = `connection ${ok ? 'ok' : 'down'}`;
  connection.textContent = ok ? 'live' : message ?? 'offline';
});

function route() {
  const [path, search = ''] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean);
  let page: Page;
  let nav = 'home';
  if (parts.length === 0) page = homePage;
  else if (parts[0] === 'runs' && parts.length === 1) { page = runsPage; nav = 'runs'; }
  else if (parts[0] === 'runs' && parts.length === 2) { params.set('id', parts[1]); page = runPage; nav = 'runs'; }
  else if (parts[0] === 'agents') { page = agentsPage; nav = 'agents'; }
  else if (parts[0] === 'approvals') { page = approvalsPage; nav = 'approvals'; }
  else if (parts[0] === 'start') { page = startPage; nav = 'start'; }
  else page = (root) => { root.appendChild(errorBox(`No page here: ${location.hash}`)); };

  for (const a of document.querySelectorAll<HTMLAnchorElement>('[data-nav]'))
    a.classList.toggle('active', a.dataset.nav === nav);
  if (cleanup) cleanup();
  clear(app);
  window.scrollTo(0, 0);
  cleanup = page(app, params, config);
}

async function start() {
  try {
    config = await api.config();
  } catch {
    // the pages show the error themselves
  }
  window.addEventListener('hashchange', route);
  route();
}
void start();
