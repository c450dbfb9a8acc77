import { SFNClient } from '@aws-sdk/client-sfn';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { requestResume } from './core';

export const handler = lambdaHandler(requestResume, { sfn: SFNClient });
