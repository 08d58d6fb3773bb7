/** The `default` of a `switch` over a union that covers it all: a compile error if a case is missing. */
export function assertNever(value: never): never {
  throw new Error(`Unexpected ${JSON.stringify(value)}`);
}
