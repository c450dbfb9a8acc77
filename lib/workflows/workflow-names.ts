/**
 * The workflows' names, and nothing else: the Lambda runtime reads one state
 * machine ARN per name (functions/shared/runtime/config.ts) without importing
 * any workflow, and the registry (registry.ts) must give each name its spec.
 */
export const WORKFLOWS = ['deploy', 'rollback', 'halt', 'resume', 'rotate-secret', 'scale', 'release'] as const;
export type WorkflowName = (typeof WORKFLOWS)[number];
