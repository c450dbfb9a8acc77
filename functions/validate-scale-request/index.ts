import { lambdaHandler } from '../shared/lambda-runtime';
import { validateScaleRequest } from './core';

export const handler = lambdaHandler(validateScaleRequest, {});
