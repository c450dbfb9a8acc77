/**
 * `assure sandbox image|alarm|emit|push|reset`: shape the simulated AWS account.
 * The signal commands (alarm, emit, push) report what Assure did about the signal.
 */
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import * as z from 'zod';
import { Sandbox } from '../../sandbox/sandbox';
import type { AwsEvent } from '../../sandbox/simulated-eventbridge';
import { BEHAVIOUR_DESCRIPTIONS, IMAGE_BEHAVIOURS, type ImageBehaviour } from '../../sandbox/simulated-workloads';
import type { CommandContext } from '../command-context';
import { EventFileError } from '../errors';
import { printPages } from '../output';
import { checkPushRef, PUSH_DIGEST, pushAndFollow, pushExitCode, type PushReport } from '../release-push';
import { withSandbox } from '../sandbox-session';
import { ALARM_STATES, observeSignal, printSignalReport, setAlarmState, signalExitCode } from '../signal-report';
import { printReleaseRun } from './release';

/** An event file: a complete envelope, or one whose id, time, account and region are filled in as the emitting service would. */
const eventFileSchema = z.object({
  version: z.literal('0').default('0'),
  id: z.string().min(1).optional(),
  'detail-type': z.string().min(1, 'is required'),
  source: z.string().min(1, 'is required'),
  account: z.string().optional(),
  time: z.string().optional(),
  region: z.string().optional(),
  resources: z.array(z.string()).default([]),
  detail: z.record(z.string(), z.unknown()),
  'replay-name': z.string().optional(),
});

export function readEventFile(sandbox: Sandbox, file: string): AwsEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new EventFileError(`${file}: ${(error as Error).message}`);
  }
  const parsed = eventFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new EventFileError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'} ${i.message}`).join('; ')}`);
  }
  const e = parsed.data;
  return {
    version: '0',
    id: e.id ?? sandbox.random.uuid(),
    'detail-type': e['detail-type'],
    source: e.source,
    account: e.account ?? sandbox.context.account,
    time: e.time ?? new Date(sandbox.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: e.region ?? sandbox.context.region,
    resources: e.resources,
    detail: e.detail,
    ...(e['replay-name'] ? { 'replay-name': e['replay-name'] } : {}),
  };
}

export function addSandboxCommand(program: Command, context: CommandContext): void {
  const { output, globals } = context;
  const sandbox = program.command('sandbox').description('shape the simulated AWS account');
  sandbox
    .command('image')
    .description('set how tasks running an image behave')
    .argument('<ref>', 'image reference')
    .addOption(
      new Option('--behaviour <behaviour>', IMAGE_BEHAVIOURS.map((b) => `${b}: ${BEHAVIOUR_DESCRIPTIONS[b]}`).join('; '))
        .choices(IMAGE_BEHAVIOURS)
        .makeOptionMandatory(),
    )
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
      if (!(ALARM_STATES as readonly string[]).includes(state))
        throw new InvalidArgumentError(`state: must be one of ${ALARM_STATES.join(', ')}, not ${state}`);
      const report = await withSandbox(globals(), (box) =>
        observeSignal(box, () => setAlarmState(box, name, state as (typeof ALARM_STATES)[number], options.reason), output, { quiet: globals().json }),
      );
      printSignalReport(report, output, globals().json);
      context.exit(signalExitCode(report));
    });
  sandbox
    .command('emit')
    .description(
      'deliver an event to the simulated bus as if the AWS service in its source had emitted it (id, time, account and region default to now and this account)',
    )
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
    .command('push')
    .description(
      'push an image to a fleet repository as ECR does: a new digest, and the ECR Image Action event through the simulated bus; then follow the release it starts',
    )
    .argument('<ref>', '<repository>:<tag>, the repository as its URI or its name (e.g. order-gateway:3.3.0)')
    .addOption(
      new Option('--behaviour <behaviour>', `how tasks of the pushed image behave (default healthy): ${IMAGE_BEHAVIOURS.join(', ')}`).choices(IMAGE_BEHAVIOURS),
    )
    .option('--digest <sha256:hex>', 'tag an image already pushed again (the same digest under another tag) instead of pushing a new one')
    .action(async (ref: string, options: { behaviour?: ImageBehaviour; digest?: string }) => {
      if (options.digest !== undefined && !PUSH_DIGEST.test(options.digest))
        throw new InvalidArgumentError(`digest: must be sha256:<64 hex digits>, got ${options.digest}`);
      const { json } = globals();
      const report = await withSandbox(globals(), async (box) => {
        checkPushRef(ref, box.fleet);
        const pagesBefore = box.sns.messages.length;
        const pushed = await pushAndFollow(box, ref, options, output, { quiet: json });
        if (!json) printPages(box.sns.messages.slice(pagesBefore), output);
        return pushed;
      });
      printPushReport(report, output, json);
      context.exit(pushExitCode(report));
    });
  sandbox
    .command('reset')
    .description('forget the sandbox state and start again from the fleet file')
    .action(() => {
      Sandbox.reset(globals().state);
      output.line(`Sandbox state in ${globals().state} removed; the next command starts a fresh account.`);
    });
}

export function printPushReport(report: PushReport, output: CommandContext['output'], json: boolean): void {
  if (json) {
    output.line(JSON.stringify(report, null, 2));
    return;
  }
  if (report.releases.length === 0) output.line(`No release started for ${report.pushed.repository}:${report.pushed.tag}.`);
  for (const note of report.notes) output.line(`${note.action} (${note.status}): ${note.reason}`);
  for (const run of report.releases) printReleaseRun(run, output, false);
}
