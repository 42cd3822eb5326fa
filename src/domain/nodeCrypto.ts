/**
 * node:crypto, loaded the first time it is used rather than when the importing module is: loading it costs a few
 * milliseconds that `devicecode status` and a `token` whose token is fresh never need to pay.
 */
export const nodeCrypto = (): typeof import("node:crypto") => process.getBuiltinModule("node:crypto")
