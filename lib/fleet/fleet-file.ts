import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseDocument } from 'yaml';
import { FleetFileError, parseFleet, type Fleet, type ParseFleetOptions } from './fleet';

/** Reads and validates a YAML fleet file; errors name the path in the file and the reason. */
export function loadFleetFile(path: string): Fleet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new FleetFileError(path, [{ path: '', message: `cannot be read: ${(error as Error).message}` }]);
  }
  // Files the fleet file names (the admin API's CA bundle) are relative to it.
  return parseFleetYaml(text, path, { baseDirectory: dirname(path) });
}

export function parseFleetYaml(text: string, sourceName = 'fleet file', options: ParseFleetOptions = {}): Fleet {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new FleetFileError(
      sourceName,
      document.errors.map((e) => ({
        path: `line ${e.linePos?.[0]?.line ?? '?'}`,
        message: e.message.split('\n')[0] ?? e.message,
      })),
    );
  }
  return parseFleet(document.toJS(), sourceName, options);
}
