/**
 * ASL files and their `${...}` placeholders. CDK passes the substitutions to
 * Step Functions (definitionSubstitutions); the sandbox applies the same ones.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

export const STATE_MACHINES_DIRECTORY = fileURLToPath(new URL('../../state-machines/', import.meta.url));

export function aslPath(file: string): string {
  return `${STATE_MACHINES_DIRECTORY}${file}`;
}

export function readAsl(file: string): string {
  return readFileSync(aslPath(file), 'utf8');
}

export function placeholders(asl: string): string[] {
  return [...new Set([...asl.matchAll(PLACEHOLDER)].map((m) => m[1] as string))].sort();
}

/** Substitutes every placeholder; a missing substitution is an error, as in CloudFormation. */
export function substitute(asl: string, substitutions: Readonly<Record<string, string>>): string {
  return asl.replace(PLACEHOLDER, (_match, name: string) => {
    const value = substitutions[name];
    if (value === undefined) throw new Error(`No substitution for \${${name}}`);
    return value;
  });
}
