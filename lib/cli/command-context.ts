import type { ExitCode } from './exit-codes';
import type { Output } from './output';
import type { GlobalOptions } from './sandbox-session';

/** What each command's action gets from the program it is added to. */
export interface CommandContext {
  readonly output: Output;
  /** --config, --state and --json; parsed only once the command line is, so read inside an action. */
  globals(): GlobalOptions;
  /** Sets the process exit code (ok unless a command says otherwise). */
  exit(code: ExitCode): void;
}
