/**
 * Fault injection for the simulated AWS APIs: throttling, errors and latency per
 * operation, so tests can drive the unhappy paths the real services produce.
 */
import { SimulatedAwsError, throttlingError } from './aws-error';
import { sleep } from './virtual-clock';

export type Fault =
  | { readonly kind: 'throttle' }
  | { readonly kind: 'error'; readonly code: string; readonly message?: string; readonly httpStatusCode?: number }
  | { readonly kind: 'latency'; readonly ms: number };

export interface FaultRule {
  /** Service key (`ecs`, `dynamodb`, `sfn`, `cloudwatch`, `ssm`, `eventbridge`) or `*`. */
  readonly service: string;
  /** Operation name as in the API (`UpdateService`) or `*`. */
  readonly operation: string;
  readonly fault: Fault;
  /** How many calls the fault applies to; unlimited when absent. */
  readonly times?: number;
}

export class FaultInjector {
  private readonly rules: { rule: FaultRule; remaining: number }[] = [];

  inject(rule: FaultRule): void {
    this.rules.push({ rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.rules.length = 0;
  }

  /** Applies the first matching rule: waits for latency, or throws the fault. */
  async beforeCall(service: string, operation: string): Promise<void> {
    const entry = this.rules.find(
      (r) => r.remaining > 0 && (r.rule.service === '*' || r.rule.service === service) && (r.rule.operation === '*' || r.rule.operation === operation),
    );
    if (!entry) return;
    entry.remaining -= 1;
    const fault = entry.rule.fault;
    switch (fault.kind) {
      case 'latency':
        await sleep(fault.ms);
        return;
      case 'throttle':
        throw throttlingError(service, operation);
      case 'error':
        throw new SimulatedAwsError(fault.code, fault.message ?? `Injected ${fault.code}`, fault.httpStatusCode ?? 500);
    }
  }
}
