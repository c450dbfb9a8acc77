/** Terminal output: plain lines, aligned tables, virtual-time stamps, and the pages sent. */
import type { PublishedMessage } from '../sandbox/simulated-sns';

export interface Output {
  line(text?: string): void;
  error(text: string): void;
}

export const consoleOutput: Output = {
  line: (text = '') => process.stdout.write(`${text}\n`),
  error: (text) => process.stderr.write(`${text}\n`),
};

/** HH:MM:SS of a (virtual) time. */
export const clockTime = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

export function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const render = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [render(headers), ...rows.map(render)];
}

/** The pages (SNS messages to the on-call topic) sent while a command ran. */
export function printPages(pages: readonly PublishedMessage[], output: Output): void {
  for (const page of pages) {
    output.line(`Page ${clockTime(page.at)}  ${page.subject ?? '(no subject)'}`);
    for (const line of page.message.split('\n')) if (line.trim()) output.line(`    ${line}`);
  }
}

export const imageTag = (image: string): string => image.split('/').pop() ?? image;
