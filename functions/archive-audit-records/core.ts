/**
 * The audit table's stream, archived: every new audit record is written to the
 * archive bucket (Object Lock, compliance mode), where no one can change or delete
 * it before its retention ends. Records are written once, so an update or a
 * deletion on the stream is tampering: its images are archived as evidence and the
 * batch fails, so the event source mapping's dead-letter queue pages.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { auditArchiveKey, auditSubject, isChainLinkKey, type StoredAuditItem, tamperEvidenceKey } from '../shared/domain/audit-archive';
import { AuditRecordTamperedError } from '../shared/runtime/errors';
import { defineHandler, type HandlerDeps } from '../shared/runtime/handler';

const image = z.record(z.string(), z.unknown());

const streamRecord = z.object({
  eventID: z.string().min(1),
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  dynamodb: z.object({
    Keys: image,
    NewImage: image.optional(),
    OldImage: image.optional(),
  }),
});

const toItem = (attributes: Record<string, unknown>): StoredAuditItem => unmarshall(attributes as Record<string, AttributeValue>);

async function put(deps: HandlerDeps<'s3'>, key: string, body: unknown): Promise<void> {
  // The bucket's defaults apply: its customer key, and the compliance-mode retention.
  await deps.clients.s3.send(
    new PutObjectCommand({ Bucket: deps.config.auditArchiveBucketName, Key: key, Body: JSON.stringify(body), ContentType: 'application/json' }),
  );
}

export const archiveAuditRecords = defineHandler({
  name: 'archive-audit-records',
  description: "Archives the audit table's stream to the write-once bucket; updates and deletions are kept as evidence and fail the batch",
  clients: ['s3'],
  input: z.object({ Records: z.array(streamRecord) }),
  core: async ({ Records }, deps) => {
    let archived = 0;
    const tampered: string[] = [];
    // In stream order: a record's evidence follows its archived copy.
    for (const record of Records) {
      const keys = toItem(record.dynamodb.Keys);
      if (isChainLinkKey(keys)) continue;
      if (record.eventName === 'INSERT') {
        const item = toItem(record.dynamodb.NewImage ?? record.dynamodb.Keys);
        await put(deps, auditArchiveKey(item), item);
        archived += 1;
        continue;
      }
      const oldImage = record.dynamodb.OldImage ? toItem(record.dynamodb.OldImage) : undefined;
      const newImage = record.dynamodb.NewImage ? toItem(record.dynamodb.NewImage) : undefined;
      const subject = auditSubject(oldImage ?? newImage ?? keys);
      const sk = String(keys.sk ?? '');
      await put(deps, tamperEvidenceKey(subject, sk, record.eventID), { eventName: record.eventName, eventID: record.eventID, keys, oldImage, newImage });
      tampered.push(`${record.eventName} of ${subject} ${sk}`);
    }
    if (tampered.length > 0) {
      deps.logger.error('Audit records were changed or deleted', { tampered });
      throw new AuditRecordTamperedError(
        `Audit records are write-once, yet the stream carried: ${tampered.join('; ')}. Evidence is in the archive under tamper/.`,
      );
    }
    return { archived };
  },
});
