/** The CLI's exit codes: the one place they are numbered (the README's "Exit codes" lists them). */
export const EXIT = {
  /** The operation succeeded (a resume: it waits for its approver, as asked). */
  ok: 0,
  /** It ran and failed: a deploy that rolled back, a refused scaling, an unhealthy fleet. */
  failed: 1,
  /** The request was invalid; the message names the field and the reason. */
  invalid: 2,
  /** `assure audit verify`: the audit trail's hash chain is broken (a record removed, changed or written outside the chain). */
  broken: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
