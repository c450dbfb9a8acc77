import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { routeAlarmEvent } from './core';

export const handler = lambdaHandler(routeAlarmEvent, { dynamodb: DynamoDBClient, sfn: SFNClient, sns: SNSClient, ssm: SSMClient, ecs: ECSClient });
