import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { FleetFileError, parseFleet, type Fleet } from './fleet';

/** Reads and validates a YAML fleet file; errors name the path in the file and the reason. */
export function loadFleetFile(path: string): Fleet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new FleetFileError(path, [{ path: '', message: `cannot be read: ${(error as Error).message}` }]);
  }
  return parseFleetYaml(text, path);
}

export function parseFleetYaml(text: string, sourceName = 'fleet file'): Fleet {
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
  return parseFleet(document.toJS(), sourceName);
}
