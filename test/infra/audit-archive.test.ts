/**
 * The audit archive in the synthesized stack: an Object Lock bucket in
 * compliance mode for the fleet's retention (7 years unless the fleet says
 * otherwise), under a customer key of its own, fed by the audit table's stream
 * through a mapping that retries in halves and sends what it gives up on to a
 * queue whose depth pages; the archiver may only add objects.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { AssureStack } from '../../lib/assure-stack';
import type { Fleet } from '../../lib/fleet/fleet';
import { fleetWith } from '../support/sandbox';
import { testConfig } from '../support/handler-deps';

function synthesize(fleet: Fleet): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new AssureStack(app, 'Test', { fleet, env: { account: '111122223333', region: 'eu-west-2' } }));
}

type Resource = { Properties: Record<string, unknown> };
const only = (template: Template, type: string, props: object = {}): [string, Resource] => {
  const found = Object.entries(template.findResources(type, { Properties: props })) as [string, Resource][];
  expect(found).toHaveLength(1);
  return found[0] as [string, Resource];
};

describe('audit archive (CDK)', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize(fleetWith());
  });

  it('is a versioned Object Lock bucket in compliance mode for 7 years by default, private, TLS only, retained', () => {
    const [bucketId, bucket] = only(template, 'AWS::S3::Bucket', { BucketName: testConfig.auditArchiveBucketName });
    expect(bucket.Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 7 * 365 } } },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    template.hasResource('AWS::S3::Bucket', {
      Properties: { BucketName: testConfig.auditArchiveBucketName },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it("takes the retention from the fleet's audit.retentionYears", () => {
    const tenYears = synthesize(fleetWith((raw) => (raw.audit = { retentionYears: 10 })));
    const [, bucket] = only(tenYears, 'AWS::S3::Bucket', { BucketName: testConfig.auditArchiveBucketName });
    expect(bucket.Properties.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 3650 } } });
  });

  it('encrypts with a customer-managed key of its own, rotated and retained', () => {
    const [, bucket] = only(template, 'AWS::S3::Bucket', { BucketName: testConfig.auditArchiveBucketName });
    const encryption = (
      bucket.Properties.BucketEncryption as {
        ServerSideEncryptionConfiguration: { ServerSideEncryptionByDefault: { KMSMasterKeyID: unknown; SSEAlgorithm: string } }[];
      }
    ).ServerSideEncryptionConfiguration[0]?.ServerSideEncryptionByDefault;
    expect(encryption?.SSEAlgorithm).toBe('aws:kms');
    const keyId = (encryption?.KMSMasterKeyID as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true, Description: Match.stringLikeRegexp('audit archive') },
      DeletionPolicy: 'Retain',
    });
    expect(template.toJSON().Resources[keyId].Type).toBe('AWS::KMS::Key');
  });

  it("streams the audit table's new and old images to the archiver, bisecting and retrying, then to a dead-letter queue that pages", () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: testConfig.auditTableName,
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    const [, mapping] = only(template, 'AWS::Lambda::EventSourceMapping');
    expect(mapping.Properties).toMatchObject({
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      FunctionName: { Ref: expect.stringMatching(/^AuditArchiveArchiveAuditRecords/) },
    });
    const destination = (mapping.Properties.DestinationConfig as { OnFailure: { Destination: { 'Fn::GetAtt': [string, string] } } }).OnFailure.Destination[
      'Fn::GetAtt'
    ][0];
    expect(template.toJSON().Resources[destination].Type).toBe('AWS::SQS::Queue');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'assure-prod-audit-unarchived-records',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [destination, 'QueueName'] } }],
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Paging') }],
    });
  });

  it('lets the archiver add objects under audit/ and tamper/ with the key, and nothing else on the bucket', () => {
    const statements = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('AuditArchiveArchiveAuditRecordsRole'))
      .flatMap(
        ([, p]) =>
          (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement,
      );
    const s3 = statements.filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('s3:')));
    expect(s3.map((s) => s.Action)).toEqual(['s3:PutObject']);
    expect(JSON.stringify(s3[0]?.Resource)).toMatch(/\/audit\/\*.*\/tamper\/\*/);
    const kms = statements.filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('kms:')));
    expect(kms.map((s) => s.Action)).toEqual(['kms:GenerateDataKey']);
    // Nobody else may write to it.
    const writers = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, p]) => JSON.stringify(p).includes('"s3:PutObject"'));
    expect(writers.map(([id]) => id)).toEqual([expect.stringMatching(/^AuditArchiveArchiveAuditRecordsRole/)]);
  });
});
