import { S3Client } from '@aws-sdk/client-s3';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { archiveAuditRecords } from './core';

export const handler = lambdaHandler(archiveAuditRecords, { s3: S3Client });
