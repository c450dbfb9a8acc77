/** SNS: topics and the messages published to them (the pages Assure sends). */
import { SimulatedAwsError } from './aws-error';
import type { SeededRandom } from './deterministic';
import type { SimulatedService } from './sdk-transport';

export interface PublishedMessage {
  readonly at: number;
  readonly topicArn: string;
  readonly messageId: string;
  readonly subject?: string;
  readonly message: string;
}

export class SimulatedSns implements SimulatedService {
  private readonly topics = new Map<string, { arn: string; subscriptions: { protocol: string; endpoint: string }[] }>();
  readonly messages: PublishedMessage[] = [];
  private readonly listeners: ((message: PublishedMessage) => void)[] = [];

  constructor(private readonly context: { readonly account: string; readonly region: string; readonly random: SeededRandom }) {}

  createTopic(name: string): string {
    const arn = `arn:aws:sns:${this.context.region}:${this.context.account}:${name}`;
    if (!this.topics.has(arn)) this.topics.set(arn, { arn, subscriptions: [] });
    return arn;
  }

  subscribe(topicArn: string, protocol: string, endpoint: string): void {
    this.topics.get(topicArn)?.subscriptions.push({ protocol, endpoint });
  }

  onMessage(listener: (message: PublishedMessage) => void): void {
    this.listeners.push(listener);
  }

  publish(topicArn: string, message: string, subject?: string): { MessageId: string } {
    if (!this.topics.has(topicArn)) throw new SimulatedAwsError('NotFoundException', 'Topic does not exist', 404);
    if (message.length === 0) throw new SimulatedAwsError('InvalidParameterException', 'Invalid parameter: Empty message');
    if (Buffer.byteLength(message) > 262_144) throw new SimulatedAwsError('InvalidParameterException', 'Invalid parameter: Message too long');
    if (subject !== undefined && (subject.length > 100 || /[\r\n]/.test(subject))) {
      throw new SimulatedAwsError('InvalidParameterException', 'Invalid parameter: Subject');
    }
    const published: PublishedMessage = { at: Date.now(), topicArn, messageId: this.context.random.uuid(), message, ...(subject ? { subject } : {}) };
    this.messages.push(published);
    for (const listener of this.listeners) listener(published);
    return { MessageId: published.messageId };
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'Publish':
        return this.publish(String(input.TopicArn ?? ''), String(input.Message ?? ''), input.Subject as string | undefined);
      case 'CreateTopic':
        return { TopicArn: this.createTopic(String(input.Name ?? '')) };
      default:
        throw new SimulatedAwsError('UnknownOperationException', `The sandbox does not implement SNS ${operation}`);
    }
  }
}
