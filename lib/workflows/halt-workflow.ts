/** The halt workflow (the kill switch) as data: its ASL file, functions and the paging topic it names. */
import { hardStopServices } from '../../functions/hard-stop-services/core';
import { recordHaltOutcome } from '../../functions/record-halt-outcome/core';
import { sendHaltCommands } from '../../functions/send-halt-commands/core';
import { setHaltFlagHandler } from '../../functions/set-halt-flag/core';
import { stopDeployExecutions } from '../../functions/stop-deploy-executions/core';
import { verifyHalt } from '../../functions/verify-halt/core';
import type { WorkflowSpec } from './workflow-spec';

export const haltWorkflow = {
  kind: 'workflow',
  name: 'halt',
  aslFile: 'halt.asl.json',
  substitutions: (config) => ({ PagingTopicArn: config.pagingTopicArn }),
  functions: {
    SetHaltFlag: setHaltFlagHandler,
    SendHaltCommands: sendHaltCommands,
    StopDeployExecutions: stopDeployExecutions,
    HardStopServices: hardStopServices,
    VerifyHalt: verifyHalt,
    RecordHaltOutcome: recordHaltOutcome,
  },
  standaloneFunctions: {},
  rules: [],
} as const satisfies WorkflowSpec;
