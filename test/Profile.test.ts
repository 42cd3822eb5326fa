import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { profileForIssuer, validateProfileName } from "../src/domain/Profile.js"

describe("profile names", () => {
  it("accepts letters, digits, dots, dashes and underscores", () => {
    for (const name of ["work", "login.example.com", "127.0.0.1-8080", "a_b-c.d"]) {
      assert.deepStrictEqual(validateProfileName(name), Either.right(name))
    }
  })

  it("refuses names whose lock files would be another profile's write lock", () => {
    // profile "foo.json" would lock auth.foo.json.lock, the write lock of profile "foo"
    for (const name of ["json", "JSON", "foo.json", "a.b.Json"]) {
      const checked = validateProfileName(name)
      assert.isTrue(Either.isLeft(checked), name)
      assert.include(Either.merge(checked), "clash")
    }
    assert.isTrue(Either.isRight(validateProfileName("jsonish")))
  })

  it("refuses other shapes", () => {
    for (const name of ["", ".hidden", "-x", "a/b", "a b", "x.", "a".repeat(65)]) {
      assert.isTrue(Either.isLeft(validateProfileName(name)), JSON.stringify(name))
    }
  })

  it("names an RFC 8628 profile after the issuer's host", () => {
    assert.strictEqual(profileForIssuer("https://Login.Example.com/tenant"), "login.example.com")
    assert.strictEqual(profileForIssuer("http://127.0.0.1:8080"), "127.0.0.1-8080")
  })
})
