/** The CloudTrail service events Secrets Manager sends for a rotation, as EventBridge carries them. */
import type { RotationEventName } from '../simulated-secrets-manager';

/**
 * A rotation's CloudTrail service event as EventBridge carries it: detail-type
 * `AWS Service Event via CloudTrail`, no resources, the secret's ARN in
 * `detail.additionalEventData.SecretId` (AWS's documented example shape).
 */
export function rotationEventDetail(
  eventName: RotationEventName,
  secretArn: string,
  context: { account: string; region: string },
  eventId: string,
  at = new Date(),
): Record<string, unknown> {
  const time = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    eventVersion: '1.08',
    userIdentity: { accountId: context.account, invokedBy: 'secretsmanager.amazonaws.com' },
    eventTime: time,
    eventSource: 'secretsmanager.amazonaws.com',
    eventName,
    awsRegion: context.region,
    sourceIPAddress: 'secretsmanager.amazonaws.com',
    userAgent: 'secretsmanager.amazonaws.com',
    requestParameters: null,
    responseElements: null,
    additionalEventData: { SecretId: secretArn },
    requestID: `Rotation-${secretArn}-${eventId}`,
    eventID: eventId,
    readOnly: false,
    eventType: 'AwsServiceEvent',
    managementEvent: true,
    recipientAccountId: context.account,
    eventCategory: 'Management',
  };
}
