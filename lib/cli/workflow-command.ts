/**
 * The one shape of a workflow command: open the sandbox session, run the
 * workflow (printing its states as they are entered, unless --json), print the
 * pages it sent and how it ended, and choose the exit code.
 */
import type { Sandbox } from '../sandbox/sandbox';
import type { CommandContext } from './command-context';
import { EXIT, type ExitCode } from './exit-codes';
import { printPages } from './output';
import { withSandbox } from './sandbox-session';
import { printWorkflowResult, type WorkflowResult } from './workflow-run';

export interface WorkflowCommand {
  /** Starts the workflow in the open session and follows it; `quiet` (no state lines) under --json. */
  readonly run: (sandbox: Sandbox, options: { readonly quiet: boolean }) => Promise<WorkflowResult>;
  /** The error the workflow ends with when it refuses the request as invalid: exit invalid, not failed. */
  readonly invalidRequestError?: string;
  /** Whether the pages sent while it ran are printed (default true; deploy has never printed them). */
  readonly printPages?: boolean;
  /** The exit code, when it is not workflowExitCode's (a resume waiting for approval, a refused scaling). */
  readonly exitCode?: (result: WorkflowResult) => ExitCode;
  /** Printed after the result, in text output only. */
  readonly after?: (result: WorkflowResult) => void;
}

export async function runWorkflowCommand(context: CommandContext, command: WorkflowCommand): Promise<WorkflowResult> {
  const { output } = context;
  const { json } = context.globals();
  const result = await withSandbox(context.globals(), async (sandbox) => {
    const pagesBefore = sandbox.sns.messages.length;
    const run = await command.run(sandbox, { quiet: json });
    if (command.printPages !== false && !json) printPages(sandbox.sns.messages.slice(pagesBefore), output);
    return run;
  });
  printWorkflowResult(result, output, json);
  if (!json) command.after?.(result);
  context.exit(command.exitCode ? command.exitCode(result) : workflowExitCode(result, command.invalidRequestError));
  return result;
}

/** ok when the workflow succeeded, invalid when it refused the request as invalid, failed otherwise. */
export function workflowExitCode(result: WorkflowResult, invalidRequestError?: string): ExitCode {
  if (result.status === 'SUCCEEDED') return EXIT.ok;
  return invalidRequestError !== undefined && result.error === invalidRequestError ? EXIT.invalid : EXIT.failed;
}
