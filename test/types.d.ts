// Types shared by the tests' JSDoc (test/tsconfig.json): nothing here is emitted or run.

/** A node of a Node-RED flow as the tests build it: any node type's properties. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type FlowNode = { id: string; type: string; [property: string]: any };

declare namespace should {
  interface Assertion {
    // should.js matches a rejection against an Error class (instanceof) too; its typings omit it.
    // Resolves with the rejection's error, typed `any` as in should.js's own rejectedWith overloads.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    rejectedWith(errorClass: abstract new (...args: never[]) => Error, properties?: object): Promise<any>;
  }
}
