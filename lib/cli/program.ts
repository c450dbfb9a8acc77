/**
 * The `assure` command line. Every command runs against the sandbox (the
 * embedded default): a simulated AWS account kept in --state between runs.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { FleetFileError } from '../fleet/fleet';
import { Sandbox, SandboxStateError } from '../sandbox/sandbox';
import { BEHAVIOUR_DESCRIPTIONS, IMAGE_BEHAVIOURS, type ImageBehaviour } from '../sandbox/simulated-workloads';
import { runDemo } from './demo-command';
import type { CommandContext } from './command-context';
import {
  ALARM_STATES,
  ApprovalRefused,
  decideApproval,
  EventFileError,
  observeSignal,
  printSignalReport,
  readEventFile,
  runHalt,
  runRollback,
  setAlarmState,
  signalExitCode,
  startResume,
} from './control-commands';
import { runDeploy } from './deploy-command';
import { auditHistory, fleetHealth, fleetStatus, printHealth, printHistory, printStatus, UnknownServiceError } from './fleet-report';
import { EXIT, type ExitCode } from './exit-codes';
import { consoleOutput, type Output } from './output';
import { addRotateCommand } from './rotate-command';
import { addScaleCommand } from './scale-command';
import { currentUser, type GlobalOptions, withSandbox } from './sandbox-session';
import { runWorkflowCommand, workflowExitCode } from './workflow-command';

export const DEFAULT_FLEET_FILE = 'examples/trading-fleet.yaml';
export const DEFAULT_STATE_DIRECTORY = '.assure';

export function createProgram(output: Output = consoleOutput): { program: Command; exitCode: () => ExitCode } {
  let exitCode: ExitCode = EXIT.ok;
  const program = new Command('assure')
    .description('Deployment assurance for containerised trading services on AWS ECS (sandbox by default)')
    .option('--config <fleet file>', 'fleet file (YAML)', process.env.ASSURE_FLEET ?? DEFAULT_FLEET_FILE)
    .option('--state <dir>', 'where the sandbox keeps its state', process.env.ASSURE_STATE ?? DEFAULT_STATE_DIRECTORY)
    .option('--json', 'machine-readable output', false)
    .showHelpAfterError()
    .exitOverride();
  program.configureOutput({ writeOut: (s) => output.line(s.trimEnd()), writeErr: (s) => output.error(s.trimEnd()) });
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const context: CommandContext = {
    output,
    globals,
    exit: (code) => {
      exitCode = code;
    },
  };

  program
    .command('deploy')
    .description('deploy an image to a service through the deploy state machine')
    .argument('<service>', 'fleet service id, e.g. order-gateway')
    .requiredOption('--image <ref>', 'image reference: <repository>:<tag> or <repository>@sha256:<digest>')
    .option('--reason <text>', 'why (recorded in the audit trail)')
    .option('--requested-by <name>', 'who asks (default: the current user)')
    .action(async (service: string, options: { image: string; reason?: string; requestedBy?: string }) => {
      await runWorkflowCommand(context, {
        run: (sandbox, { quiet }) =>
          runDeploy(sandbox, { service, image: options.image, ...optional('reason', options.reason), ...optional('requestedBy', options.requestedBy) }, output, { quiet }),
        invalidRequestError: 'InvalidDeployRequestError',
        printPages: false,
      });
    });

  program
    .command('rollback')
    .description("return a service to a known-good revision: stops a deploy in flight with rollback, or redeploys the last COMPLETED revision (within the fleet's rollback window) or the one named")
    .argument('<service>', 'fleet service id')
    .option('--revision <n>', 'task-definition revision to return to', parsePositiveInteger)
    .option('--reason <text>', 'why (recorded and paged)', 'rollback requested from the CLI')
    .option('--requested-by <name>', 'who asks (default: the current user)')
    .action(async (service: string, options: { revision?: number; reason: string; requestedBy?: string }) => {
      await runWorkflowCommand(context, {
        run: (sandbox, { quiet }) =>
          runRollback(
            sandbox,
            { service, reason: options.reason, requestedBy: options.requestedBy ?? currentUser(), ...(options.revision ? { targetRevision: options.revision } : {}) },
            output,
            { quiet },
          ),
        invalidRequestError: 'InvalidRollbackRequestError',
      });
    });

  program
    .command('halt')
    .description('the kill switch: set the halt flag, tell trading services to halt, stop deploys, hard-stop where the policy says, verify, page')
    .requiredOption('--reason <text>', 'why trading must stop (recorded and paged)')
    .option('--service <id...>', 'trading services to halt (default: every trading service)')
    .option('--as <name>', 'who halts (default: the current user)')
    .action(async (options: { reason: string; service?: string[]; as?: string }) => {
      await runWorkflowCommand(context, {
        run: (sandbox, { quiet }) =>
          runHalt(sandbox, { reason: options.reason, actor: options.as ?? currentUser(), ...(options.service ? { services: options.service } : {}) }, output, { quiet }),
        invalidRequestError: 'InvalidHaltRequestError',
      });
    });

  program
    .command('resume')
    .description('ask to resume trading after a halt: waits for a second person to approve (assure approve <id>), then restores gradually')
    .requiredOption('--reason <text>', 'why it is safe to resume')
    .option('--as <name>', 'who asks (default: the current user); they cannot approve it')
    .action(async (options: { reason: string; as?: string }) => {
      await runWorkflowCommand(context, {
        run: (sandbox, { quiet }) => startResume(sandbox, { reason: options.reason, requestedBy: options.as ?? currentUser() }, output, { quiet }),
        // Waiting for the second person is what a resume asks for.
        exitCode: (result) => (result.status === 'WAITING' ? EXIT.ok : workflowExitCode(result, 'InvalidResumeRequestError')),
        after: (result) => {
          if (result.status !== 'WAITING') return;
          const approvalId = result.executionArn.split(':').pop() ?? '';
          output.line(`  Approval id: ${approvalId}. A second person runs: assure approve ${approvalId} --as <name>`);
        },
      });
    });

  program
    .command('approve')
    .description('decide on a waiting resume (the requester cannot approve); approval runs the resume to its end')
    .argument('<approval id>', 'the id `assure resume` printed')
    .option('--as <name>', 'who decides (default: the current user)')
    .option('--reject', 'reject instead of approve', false)
    .option('--comment <text>', 'recorded with the decision')
    .action(async (approvalId: string, options: { as?: string; reject: boolean; comment?: string }) => {
      try {
        await runWorkflowCommand(context, {
          run: (sandbox, { quiet }) =>
            decideApproval(
              sandbox,
              { approvalId, approver: options.as ?? currentUser(), reject: options.reject, ...(options.comment ? { comment: options.comment } : {}) },
              output,
              { quiet },
            ),
        });
      } catch (error) {
        if (!(error instanceof ApprovalRefused)) throw error;
        output.error(`✗ ${error.message}`);
        context.exit(EXIT.invalid);
      }
    });

  program
    .command('status')
    .description("each service's revision, image, task counts and last deployment")
    .action(async () => {
      const statuses = await withSandbox(globals(), (sandbox) => fleetStatus(sandbox), { save: false });
      if (globals().json) output.line(JSON.stringify(statuses, null, 2));
      else printStatus(statuses, output);
    });

  program
    .command('health')
    .description('deep health report per service and for the fleet: HEALTHY, DEGRADED or UNHEALTHY with evidence')
    .argument('[service]', 'one service only')
    .action(async (service?: string) => {
      const health = await withSandbox(globals(), (sandbox) => fleetHealth(sandbox, service), { save: false });
      if (globals().json) output.line(JSON.stringify(health, null, 2));
      else printHealth(health, output);
      if (health.status !== 'HEALTHY') context.exit(EXIT.failed);
    });

  program
    .command('history')
    .description('the audit trail, newest first: every action with its intent and outcome records')
    .argument('[service]', 'one service only')
    .option('--limit <n>', 'how many records', parsePositiveInteger, 40)
    .action(async (service: string | undefined, options: { limit: number }) => {
      const records = await withSandbox(globals(), (sandbox) => auditHistory(sandbox, service, options.limit), { save: false });
      if (globals().json) output.line(JSON.stringify(records, null, 2));
      else printHistory(records, output);
    });

  const sandbox = program.command('sandbox').description('shape the simulated AWS account');
  sandbox
    .command('image')
    .description('set how tasks running an image behave')
    .argument('<ref>', 'image reference')
    .addOption(new Option('--behaviour <behaviour>', IMAGE_BEHAVIOURS.map((b) => `${b}: ${BEHAVIOUR_DESCRIPTIONS[b]}`).join('; ')).choices(IMAGE_BEHAVIOURS).makeOptionMandatory())
    .action(async (ref: string, options: { behaviour: ImageBehaviour }) => {
      await withSandbox(globals(), async (box) => box.images.set(ref, options.behaviour));
      output.line(`${ref}: ${options.behaviour} (${BEHAVIOUR_DESCRIPTIONS[options.behaviour]})`);
    });
  sandbox
    .command('alarm')
    .description("set a CloudWatch alarm's state (as set-alarm-state does) and show what Assure does about it")
    .argument('<name>', 'alarm name')
    .argument('<state>', ALARM_STATES.join('|'))
    .option('--reason <text>', 'the state reason', 'set from the Assure sandbox CLI')
    .action(async (name: string, state: string, options: { reason: string }) => {
      if (!(ALARM_STATES as readonly string[]).includes(state)) throw new InvalidArgumentError(`state: must be one of ${ALARM_STATES.join(', ')}, not ${state}`);
      const report = await withSandbox(globals(), (box) =>
        observeSignal(box, () => setAlarmState(box, name, state as (typeof ALARM_STATES)[number], options.reason), output, { quiet: globals().json }),
      );
      printSignalReport(report, output, globals().json);
      context.exit(signalExitCode(report));
    });
  sandbox
    .command('emit')
    .description('deliver an event to the simulated bus as if the AWS service in its source had emitted it (id, time, account and region default to now and this account)')
    .argument('<event.json>', 'an EventBridge event (see examples/events/)')
    .action(async (file: string) => {
      const report = await withSandbox(globals(), (box) => {
        const event = readEventFile(box, file);
        return observeSignal(box, async () => box.eventBridge.put(event), output, { quiet: globals().json });
      });
      printSignalReport(report, output, globals().json);
      context.exit(signalExitCode(report));
    });
  sandbox
    .command('reset')
    .description('forget the sandbox state and start again from the fleet file')
    .action(() => {
      Sandbox.reset(globals().state);
      output.line(`Sandbox state in ${globals().state} removed; the next command starts a fresh account.`);
    });

  addScaleCommand(program, context);
  addRotateCommand(program, context);

  program
    .command('demo')
    .description('a fresh sandbox: a good release, a crashing release, a release failing its health gate, a release rolled back by its alarm, a loss-limit halt (verified) that refuses a scale-out, an approved resume, a secret rotation, a scale-out, then the status')
    .action(async () => {
      Sandbox.reset(globals().state);
      const ok = await withSandbox(globals(), (box) => runDemo(box, output));
      if (!ok) context.exit(EXIT.failed);
    });

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
    if (error instanceof FleetFileError || error instanceof UnknownServiceError || error instanceof EventFileError) {
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

function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
