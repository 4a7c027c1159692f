import type { Value } from './snapshot.js';

/** An element with text content only: nothing from the server is ever parsed as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  attributes: Record<string, string> = {},
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  return node;
}

export function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`the page has no #${id}`);
  return node as T;
}

/** Replaces a table's head and body; `cells` are nodes or text. */
export function fillTable(
  table: HTMLTableElement,
  head: readonly string[],
  rows: readonly (readonly (Node | string)[])[],
  rowAttributes: (index: number) => Record<string, string> = () => ({}),
): void {
  const caption = table.caption;
  table.replaceChildren();
  if (caption !== null) table.append(caption);
  const thead = el('thead');
  const tr = el('tr');
  for (const h of head) tr.append(el('th', h, { scope: 'col' }));
  thead.append(tr);
  const tbody = el('tbody');
  rows.forEach((cells, i) => {
    const row = el('tr', undefined, rowAttributes(i));
    cells.forEach((cell, j) => {
      const td = j === 0 ? el('th', undefined, { scope: 'row' }) : el('td');
      td.append(cell);
      row.append(td);
    });
    tbody.append(row);
  });
  table.append(thead, tbody);
}

/** A small line of recent values, drawn on a canvas (no inline style or script: the CSP allows it). */
export function sparkline(values: readonly Value[], label: string): HTMLCanvasElement {
  const canvas = el('canvas', undefined, { width: '90', height: '22', role: 'img', 'aria-label': label });
  canvas.className = 'spark';
  const ctx = canvas.getContext('2d');
  const numbers = values.filter((v): v is number => v !== null);
  if (ctx === null || numbers.length < 2) return canvas;
  const max = Math.max(...numbers);
  const min = Math.min(0, ...numbers);
  const span = max - min || 1;
  ctx.strokeStyle =
    getComputedStyle(document.documentElement).getPropertyValue('--accent').trim() || '#2563eb';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  let started = false;
  values.forEach((v, i) => {
    if (v === null) return;
    const x = (i / Math.max(1, values.length - 1)) * 88 + 1;
    const y = 21 - ((v - min) / span) * 20;
    if (started) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
    started = true;
  });
  ctx.stroke();
  return canvas;
}
