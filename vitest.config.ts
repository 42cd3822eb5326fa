import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // the last line of every run says how many tests were skipped, and why
    reporters: ["default", "./test/support/skipReporter.ts"],
    // one temp folder per run, removed at its end, and a check that the run left none in /tmp
    globalSetup: ["./test/support/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
