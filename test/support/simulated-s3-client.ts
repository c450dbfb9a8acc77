/**
 * An S3 SDK client answered by a SimulatedS3 alone (no sandbox, real time), for
 * tests of the simulated service and of code that reads buckets.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createAwsClients } from '../../functions/shared/runtime/clients';
import { FaultInjector } from '../../lib/sandbox/fault-injection';
import { SdkTransport } from '../../lib/sandbox/sdk-transport';
import { SimulatedS3 } from '../../lib/sandbox/simulated-s3';
import type { VirtualClock } from '../../lib/sandbox/virtual-clock';

export function simulatedS3Client(service = new SimulatedS3({ account: '111122223333', region: 'eu-west-2' })): { s3: S3Client; service: SimulatedS3 } {
  // Calls run at once: nothing here waits on virtual time.
  const clock = { track: <T>(work: () => Promise<T>): Promise<T> => work() } as unknown as VirtualClock;
  const transport = new SdkTransport({ s3: service }, clock, new FaultInjector());
  const { s3 } = createAwsClients(
    { s3: S3Client },
    { region: 'eu-west-2', credentials: { accessKeyId: 'TEST', secretAccessKey: 'TEST' }, plugins: [transport.plugin()] },
  );
  return { s3, service };
}
