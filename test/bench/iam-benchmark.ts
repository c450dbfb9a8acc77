/**
 * The cost of IAM in the sandbox: authorizing one SDK call (resolving the
 * resources it names from the Service Authorization Reference, then evaluating
 * the caller's compiled policies), from the cached policy set.
 */
import type { Fleet } from '../../lib/fleet/fleet';
import { assureConfig } from '../../lib/naming';
import { IamAuthorizer, type RoleSession } from '../../lib/sandbox/iam/authorizer';
import { loadPolicySet } from '../../lib/sandbox/iam/policy-cache';
import type { ResourceLookups } from '../../lib/sandbox/iam/request-resources';
import { SANDBOX_ACCOUNT, SANDBOX_REGION } from '../../lib/sandbox/sandbox';
import { fmt, pct } from './stats';

const TARGET_P50_MS = 0.2;
const ROUNDS = 2_000;

interface Call {
  readonly fn: string;
  readonly service: string;
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

export async function iamBenchmark(fleet: Fleet): Promise<boolean> {
  console.log('\n6. IAM in the sandbox: authorizing one call against the synthesized policies\n');
  const context = { account: fleet.account ?? SANDBOX_ACCOUNT, region: fleet.region ?? SANDBOX_REGION };
  const loadStart = performance.now();
  const policies = await loadPolicySet(fleet, context);
  const authorizer = await IamAuthorizer.create(policies);
  console.log(`   policy set loaded and compiled in ${fmt(performance.now() - loadStart, 0)} ms (${Object.keys(policies.roles).length} roles)`);
  const env = fleet.environment;
  const config = assureConfig(fleet, context);
  const service = Object.values(fleet.services)[0]?.ecsServiceName ?? 'svc';
  const secret = Object.values(fleet.secrets)[0]?.name ?? 'secret';
  const lookups: ResourceLookups = {
    ...context,
    secretArn: (id) => `arn:aws:secretsmanager:${context.region}:${context.account}:secret:${id}-AbCdEf`,
    rotationFunction: () => undefined,
    tokenStateMachine: () => `arn:aws:states:${context.region}:${context.account}:stateMachine:assure-${env}-deploy`,
  };
  const deployment = `arn:aws:ecs:${context.region}:${context.account}:service-deployment/${fleet.cluster}/${service}/abc`;
  const calls: Call[] = [
    { fn: `assure-${env}-deploy-check-deploy-guards`, service: 'ecs', operation: 'DescribeServices', input: { cluster: fleet.cluster, services: [service] } },
    { fn: `assure-${env}-deploy-start-deployment`, service: 'ecs', operation: 'UpdateService', input: { cluster: fleet.cluster, service } },
    { fn: `assure-${env}-deploy-record-deploy-outcome`, service: 'dynamodb', operation: 'PutItem', input: { TableName: config.auditTableName } },
    { fn: `assure-${env}-deploy-check-deploy-guards`, service: 'ssm', operation: 'GetParameter', input: { Name: config.haltParameterName } },
    { fn: `assure-${env}-halt-stop-deploy-executions`, service: 'ecs', operation: 'StopServiceDeployment', input: { serviceDeploymentArn: deployment } },
    { fn: `assure-${env}-deploy-await-deployment-outcome`, service: 'sfn', operation: 'SendTaskSuccess', input: { taskToken: 'AQC', output: '{}' } },
    { fn: `assure-${env}-rotate-secret-validate-rotation-request`, service: 'secretsmanager', operation: 'DescribeSecret', input: { SecretId: secret } },
    { fn: `assure-${env}-halt-send-halt-commands`, service: 'ecs', operation: 'ListTasks', input: { cluster: fleet.cluster, serviceName: service } },
  ];
  const sessions = calls.map((c) => authorizer.functionSession(c.fn));
  const samples: number[] = [];
  let denied = 0;
  const deniedKinds = new Set<string>();
  for (let round = 0; round < ROUNDS; round += 1) {
    calls.forEach((call, i) => {
      const session = sessions[i] as RoleSession | undefined;
      if (!session) throw new Error(`No function ${call.fn} in the synthesized stack`);
      const start = performance.now();
      try {
        authorizer.authorizeCall(session, call.service, call.operation, call.input, lookups);
      } catch {
        // Denials cost the same work; they are counted, not timed apart.
        denied += 1;
        deniedKinds.add(`${call.service}:${call.operation}`);
      }
      samples.push(performance.now() - start);
    });
  }
  if (deniedKinds.size > 0) console.log(`   denied (unexpected): ${[...deniedKinds].join(', ')}`);
  const p50 = pct(samples, 50);
  const p99 = pct(samples, 99);
  console.log(
    `   ${samples.length} authorizations (${calls.length} kinds of call, ${denied} denied): p50 ${fmt(p50 * 1000, 1)} µs, p99 ${fmt(p99 * 1000, 1)} µs`,
  );
  const ok = p50 <= TARGET_P50_MS && denied === 0;
  console.log(`\n   ${ok ? 'PASS' : 'FAIL'}  IAM evaluation per call ≤ ${TARGET_P50_MS} ms p50: ${fmt(p50, 4)} ms (p99 ${fmt(p99, 4)} ms)`);
  return ok;
}
