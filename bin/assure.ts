/** The `assure` CLI entry point: ./bin/assure <command>, or npm run assure -- <command>. */
import { runCli } from '../lib/cli/program';

process.exitCode = await runCli(process.argv.slice(2));
