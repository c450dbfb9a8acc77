/**
 * The `assure` command line. Every command runs against the sandbox (the
 * embedded default): a simulated AWS account kept in --state between runs.
 * Each command lives in commands/; this file assembles them and turns what
 * they throw into exit codes.
 */
import { Command, InvalidArgumentError } from 'commander';
import { FleetFileError } from '../fleet/fleet';
import { SandboxStateError } from '../sandbox/sandbox';
import type { CommandContext } from './command-context';
import { addApproveCommand } from './commands/approve';
import { addAuditCommand } from './commands/audit';
import { addDemoCommand } from './commands/demo';
import { addDeployCommand } from './commands/deploy';
import { addHaltCommand } from './commands/halt';
import { addHealthCommand } from './commands/health';
import { addHistoryCommand } from './commands/history';
import { addResumeCommand } from './commands/resume';
import { addReleaseCommand } from './commands/release';
import { addRollbackCommand } from './commands/rollback';
import { addRotateCommand } from './commands/rotate';
import { addSandboxCommand } from './commands/sandbox';
import { addScaleCommand } from './commands/scale';
import { addStatusCommand } from './commands/status';
import { EventFileError, UnknownReleaseError, UnknownServiceError } from './errors';
import { EXIT, type ExitCode } from './exit-codes';
import { consoleOutput, type Output } from './output';
import { ReleaseManifestError } from './release-manifest';
import { type GlobalOptions, selectPrincipal } from './sandbox-session';

export const DEFAULT_FLEET_FILE = 'examples/trading-fleet.yaml';
export const DEFAULT_STATE_DIRECTORY = '.assure';

export function createProgram(output: Output = consoleOutput): { program: Command; exitCode: () => ExitCode } {
  let exitCode: ExitCode = EXIT.ok;
  const program = new Command('assure')
    .description('Deployment assurance for containerised trading services on AWS ECS (sandbox by default)')
    .option('--config <fleet file>', 'fleet file (YAML)', process.env.ASSURE_FLEET ?? DEFAULT_FLEET_FILE)
    .option('--state <dir>', 'where the sandbox keeps its state', process.env.ASSURE_STATE ?? DEFAULT_STATE_DIRECTORY)
    .option('--json', 'machine-readable output', false)
    .option('--as <principal>', 'act as this principal: a sandbox user name (an SSO session, see README) or a principal ARN', process.env.ASSURE_AS)
    .showHelpAfterError()
    .exitOverride();
  // Every command acts as the selected principal (commands that record a name use its session name).
  program.hook('preAction', () => selectPrincipal(program.opts<GlobalOptions>().as));
  program.configureOutput({ writeOut: (s) => output.line(s.trimEnd()), writeErr: (s) => output.error(s.trimEnd()) });
  const context: CommandContext = {
    output,
    globals: () => program.opts<GlobalOptions>(),
    exit: (code) => {
      exitCode = code;
    },
  };

  // In the order `assure --help` lists them.
  for (const add of [
    addDeployCommand,
    addReleaseCommand,
    addRollbackCommand,
    addHaltCommand,
    addResumeCommand,
    addApproveCommand,
    addStatusCommand,
    addHealthCommand,
    addHistoryCommand,
    addAuditCommand,
    addSandboxCommand,
    addScaleCommand,
    addRotateCommand,
    addDemoCommand,
  ]) {
    add(program, context);
  }

  return { program, exitCode: () => exitCode };
}

/** Runs the CLI; resolves with the process exit code. */
export async function runCli(argv: readonly string[], output: Output = consoleOutput): Promise<ExitCode> {
  const { program, exitCode } = createProgram(output);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode();
  } catch (error) {
    const e = error as Error & { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT.ok;
    // Thrown from an action (commander reports its own parsing errors itself).
    if (error instanceof InvalidArgumentError && !e.message.startsWith('error:')) {
      output.error(e.message);
      return EXIT.invalid;
    }
    if (e.code?.startsWith('commander.')) return EXIT.invalid;
    if (
      error instanceof FleetFileError ||
      error instanceof UnknownServiceError ||
      error instanceof EventFileError ||
      error instanceof ReleaseManifestError ||
      error instanceof UnknownReleaseError
    ) {
      output.error(e.message);
      return EXIT.invalid;
    }
    if (error instanceof SandboxStateError) {
      output.error(e.message);
      return EXIT.failed;
    }
    throw error;
  }
}
