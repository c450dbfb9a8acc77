/**
 * Lambda bundles alias `@aws-sdk/credential-provider-node` to this module. In
 * Lambda the default credential chain always ends at the environment variables
 * the runtime sets from the function's role, so the chain's other providers (SSO,
 * STS web identity, INI files, IMDS: ~80 KB minified) are dead weight there.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (): ReturnType<typeof fromEnv> => fromEnv();
