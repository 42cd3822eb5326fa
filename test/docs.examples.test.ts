// docs/library.md's two vitest tests, run as they are written there: test/fixtures/consumer/kit.ts (a login against a
// LocalIssuer over real HTTP) and testclock.ts (a login and a refresh under TestClock) import "devicecode" and
// "devicecode/testing", the built package through package.json `exports`, and register their tests in this file.
// test/consumer.typecheck.test.ts checks that each fixture is its block of docs/library.md.
import "./fixtures/consumer/kit.js"
import "./fixtures/consumer/testclock.js"
