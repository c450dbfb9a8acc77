/** The resume workflow as data: its ASL file, its functions, and the approvers' decision function. */
import { checkResumeReadiness } from '../../functions/check-resume-readiness/core';
import { clearHaltFlagHandler } from '../../functions/clear-halt-flag/core';
import { decideResumeApproval } from '../../functions/decide-resume-approval/core';
import { recordResumeOutcome } from '../../functions/record-resume-outcome/core';
import { requestResume } from '../../functions/request-resume/core';
import { requestResumeApproval } from '../../functions/request-resume-approval/core';
import { restoreCapacity } from '../../functions/restore-capacity/core';
import { sendResumeCommands } from '../../functions/send-resume-commands/core';
import { validateResumeRequest } from '../../functions/validate-resume-request/core';
import type { WorkflowSpec } from './workflow-spec';

export const resumeWorkflow = {
  kind: 'workflow',
  name: 'resume',
  aslFile: 'resume.asl.json',
  functions: {
    ValidateResumeRequest: validateResumeRequest,
    RequestResumeApproval: requestResumeApproval,
    CheckResumeReadiness: checkResumeReadiness,
    RestoreCapacity: restoreCapacity,
    SendResumeCommands: sendResumeCommands,
    ClearHaltFlag: clearHaltFlagHandler,
    RecordResumeOutcome: recordResumeOutcome,
  },
  /** Invoked through their function URLs by the requester and an approver, not by the state machine. */
  standaloneFunctions: { RequestResume: requestResume, DecideResumeApproval: decideResumeApproval },
  rules: [],
} as const satisfies WorkflowSpec;
