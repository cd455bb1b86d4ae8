// Usage: node check.mjs FILE.mmd. Exits 0 if Mermaid parses it, 1 with the parser's message if not.
// Mermaid expects a browser; jsdom provides the window its sanitiser needs.
import { JSDOM } from 'jsdom';
import { readFileSync } from 'node:fs';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');

const text = readFileSync(process.argv[2], 'utf8');
try {
  const result = await mermaid.parse(text);
  console.log(`mermaid: parsed ${process.argv[2]} as ${result.diagramType}`);
} catch (error) {
  console.error(`mermaid: ${process.argv[2]}: ${error.message}`);
  process.exit(1);
}
