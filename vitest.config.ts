import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // the last line of every run says how many tests were skipped, and why
    reporters: ["default", "./test/support/skipReporter.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
