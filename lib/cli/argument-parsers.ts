/** Parsers for commander arguments and options shared by several commands. */
import { InvalidArgumentError } from 'commander';

export function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}
