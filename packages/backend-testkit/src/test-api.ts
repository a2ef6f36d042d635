/**
 * The part of a test runner the suites use, passed in by the caller (`import * as vitest from
 * "vitest"` fits it as is). The kit never imports a runner itself, so its cases register with the
 * caller's runner instance, and its published types need no runner installed.
 */
export interface TestApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: (context: TestContext) => Promise<void>, timeout?: number): void;
  afterEach(hook: () => Promise<void>): void;
  expect: Expect;
}

/** What a case reads from the context the runner passes it. */
export interface TestContext {
  /** Marks the running case skipped. Without it, a case the backend cannot run returns early. */
  skip?(note?: string): void;
}

/** `expect(actual, message?)`: the message labels a failure (property cases name the feature and round). */
export type Expect = (actual: unknown, message?: string) => Assertion;

export interface Assertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toMatchObject(expected: object): void;
  toBeNull(): void;
  toBeInstanceOf(expected: abstract new (...args: never[]) => unknown): void;
  toBeGreaterThan(expected: number): void;
  toBeGreaterThanOrEqual(expected: number): void;
  toBeLessThanOrEqual(expected: number): void;
  readonly not: Assertion;
  readonly rejects: AsyncAssertion;
}

export interface AsyncAssertion {
  toMatchObject(expected: object): Promise<void>;
  toThrow(expected?: string | RegExp): Promise<void>;
}
