/**
 * The audit trail's write-once archive: an S3 bucket with Object Lock in
 * compliance mode (no one, the account's root included, can delete or overwrite
 * a record's version before its retention ends: SEC 17a-4(f), MiFID II), under a
 * customer-managed key, fed by the audit table's stream. A batch the archiver
 * cannot take (an S3 failure, or an update or deletion of a record, which it
 * archives as evidence and refuses) ends in a dead-letter queue that pages.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { customerKey } from './customer-key';
import { type IFunction, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectLockRetention, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Fleet } from '../fleet/fleet';
import { AUDIT_STREAM_MAPPING, auditArchiveRetention } from '../workflows/audit-archive';
import { deadLettersThatPage } from './workflow-resources';

export interface AuditArchiveProps {
  readonly fleet: Fleet;
  /** From the configuration (naming.ts). */
  readonly bucketName: string;
  /** From naming.ts: pages when a batch of the stream could not be archived. */
  readonly unarchivedAlarmName: string;
}

export class AuditArchive extends Construct {
  readonly bucket: Bucket;
  readonly key: Key;
  /** Stream batches that could not be archived; absent until the stream is connected. */
  deadLetterQueue?: Queue;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: AuditArchiveProps,
  ) {
    super(scope, id);
    this.key = customerKey(this, 'Key', {
      description: `Assure ${props.fleet.environment}: encrypts the audit archive`,
      // The key outlives the stack as the archive does: without it the archive cannot be read.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      objectLockEnabled: true,
      objectLockDefaultRetention: ObjectLockRetention.compliance(Duration.days(auditArchiveRetention(props.fleet).days)),
      versioned: true,
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Its Control Tower acknowledgements (logging, notifications, lifecycle) are in guard-acknowledgements.ts.
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        "Only the archiver's role may write here (PutObject under audit/ and tamper/, logged by its function); nothing can delete or overwrite a locked version, so access logs would record no change the archive does not already prove. Object-level reads belong to the organisation's CloudTrail data events.",
    });
  }

  /** The audit table's stream, read by `archiver`: every record in order, failures retried in halves, then to a queue that pages. */
  archiveFrom(table: ITable, archiver: IFunction, pagingTopic: ITopic): void {
    const deadLetterQueue = deadLettersThatPage(this, 'UnarchivedRecords', {
      alarmName: this.props.unarchivedAlarmName,
      alarmDescription:
        "Audit records the archiver could not write to the WORM bucket, or an update or deletion of an audit record (its evidence is under tamper/ in the archive): the queue's message names the stream records",
      deliveredBy: "the audit table stream's event source mapping",
      pagingTopic,
    });
    archiver.addEventSource(
      new DynamoEventSource(table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: AUDIT_STREAM_MAPPING.batchSize,
        bisectBatchOnError: AUDIT_STREAM_MAPPING.bisectBatchOnError,
        retryAttempts: AUDIT_STREAM_MAPPING.retryAttempts,
        // Records stay on the stream for 24 hours: an archiver down for longer loses nothing it can still read.
        maxRecordAge: Duration.hours(24),
        onFailure: new SqsDlq(deadLetterQueue),
      }),
    );
    this.deadLetterQueue = deadLetterQueue;
  }
}
