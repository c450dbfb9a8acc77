/**
 * Content that CDK must read from a file (an asset), written to a
 * content-addressed file under the temp directory: the same content always
 * lands in the same file, so synthesis stays deterministic.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function stagedFile(content: string, extension: string): string {
  const directory = join(tmpdir(), 'assure-staged');
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${createHash('sha256').update(content).digest('hex').slice(0, 20)}.${extension}`);
  writeFileSync(file, content);
  return file;
}
