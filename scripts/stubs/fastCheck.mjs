// Stands in for fast-check in the CLI bundle: effect/Schema imports it for arbitraries (property-based test data),
// which the CLI never makes. Any use fails at once (the functions are missing) rather than at start-up cost for all.
export {}
