/**
 * When a secret's next scheduled rotation is due, from its RotationRules as the
 * Secrets Manager API Reference documents RotationRulesType
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotationRulesType.html):
 * AutomaticallyAfterDays counts from the previous rotation ("Manually updating
 * the secret value by calling PutSecretValue or UpdateSecret is considered a
 * valid rotation"); ScheduleExpression is `rate(N hours|days)` from the previous
 * rotation, or a UTC `cron(...)`. The sandbox rotates at the start of the
 * rotation window (AWS picks a time inside it).
 */
import { nextCronTime, parseAwsCron } from '../simulated-scheduler';

export interface RotationRules {
  readonly AutomaticallyAfterDays?: number;
  readonly ScheduleExpression?: string;
  readonly Duration?: string;
}

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

/** The time the next rotation is due, or undefined when the rules name none. */
export function nextRotationDue(rules: RotationRules | undefined, previousRotation: number): number | undefined {
  if (!rules) return undefined;
  const expression = rules.ScheduleExpression?.trim();
  if (expression) {
    const rate = /^rate\((\d+)\s+(hour|hours|day|days)\)$/.exec(expression);
    if (rate) return previousRotation + Number(rate[1]) * (rate[2]?.startsWith('hour') ? HOUR_MS : DAY_MS);
    return nextCronTime(parseAwsCron(expression), 'UTC', previousRotation);
  }
  return rules.AutomaticallyAfterDays ? previousRotation + rules.AutomaticallyAfterDays * DAY_MS : undefined;
}

/** Checks RotationRules as RotateSecret does; a problem's message, or undefined. */
export function rotationRulesProblem(rules: RotationRules): string | undefined {
  if (rules.AutomaticallyAfterDays !== undefined && rules.ScheduleExpression !== undefined) {
    return 'You can specify either AutomaticallyAfterDays or ScheduleExpression in RotationRules, but not both.';
  }
  if (
    rules.AutomaticallyAfterDays !== undefined &&
    (!Number.isInteger(rules.AutomaticallyAfterDays) || rules.AutomaticallyAfterDays < 1 || rules.AutomaticallyAfterDays > 1000)
  ) {
    return 'AutomaticallyAfterDays must be between 1 and 1000.';
  }
  const expression = rules.ScheduleExpression?.trim();
  if (expression !== undefined && !/^rate\((\d+)\s+(hour|hours|day|days)\)$/.test(expression)) {
    try {
      parseAwsCron(expression);
    } catch (error) {
      return `Invalid ScheduleExpression: ${(error as Error).message}`;
    }
  }
  return undefined;
}
