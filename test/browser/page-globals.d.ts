// The editor's global, seen by the functions this suite passes to page.evaluate() (they run in the
// browser, where Node-RED's editor defines it); its API is not typed anywhere we could use.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const RED: any;
