import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Exit, Fiber, Layer, Option, Redacted, Ref, TestClock } from "effect"
import { join } from "node:path"
import { StoreError } from "../src/domain/Errors.js"
import { StoredAuth, StoredTokens } from "../src/domain/StoredAuth.js"
import * as AuthSession from "../src/layers/AuthSession.js"
import * as CodexIssuer from "../src/layers/CodexIssuer.js"
import type { LockWait } from "../src/layers/CodexLock.js"
import * as FileStore from "../src/layers/FileStore.js"
import * as IssuerResolver from "../src/layers/IssuerResolver.js"
import * as MemoryStore from "../src/layers/MemoryStore.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import { IssuerClient } from "../src/services/IssuerClient.js"
import { lockNoticeDelay, outerLockBound, refreshBound } from "../src/services/schedules.js"
import { unsignedJwt } from "../src/testing/ScriptedIssuer.js"
import { expiredSignIn, runCli, startCli } from "./support/cli.js"
import { holdLock } from "./support/locks.js"
import { tempDir } from "./support/tmp.js"
import { eventually } from "./support/wait.js"

// Another program holding a lock is util-linux flock(1): the same flock(2) on the same files as codex.

const noticeCount = (stderr: string) => stderr.split("\n").filter((line) => line.startsWith("Waiting for ")).length

describe("devicecode token waiting for a lock another program holds (child processes, real HTTP)", () => {
  const cases = [
    ["auth.lock", "another program \\(codex\\?\\) holds it; up to 60 s\\."],
    ["auth.json.lock", "another program \\(codex\\?\\) holds it; up to 5 s\\."],
    ["auth.json.refresh.lock", "another devicecode process \\(a refresh\\) holds it; up to 125 s\\."]
  ] as const
  for (const [lock, words] of cases) {
    it.scopedLive(
      `${lock} held: after ~1 s one line on stderr names it; the token comes once it is let go`,
      () =>
        Effect.gen(function* () {
          const signIn = yield* expiredSignIn
          const lockPath = join(signIn.home, lock)
          const holder = yield* holdLock(lockPath)
          const startedAt = performance.now()
          const token = yield* startCli(["token"], { env: signIn.env })
          const escaped = lockPath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
          yield* token.waitFor(new RegExp(`^Waiting for ${escaped}: ${words}$`, "m"), "stderr")
          assert.isAtLeast(performance.now() - startedAt, Duration.toMillis(lockNoticeDelay) - 50)
          yield* holder.release
          const result = yield* token.exit
          assert.strictEqual(result.code, 0, result.stderr)
          assert.isTrue(Option.isSome(yield* signIn.issuer.verifyAccessToken(result.stdout.trim())))
          assert.strictEqual(noticeCount(result.stderr), 1, result.stderr)
        }),
      30_000
    )
  }

  it.scopedLive(
    "no lock held: a refresh says nothing of waiting",
    () =>
      Effect.gen(function* () {
        const signIn = yield* expiredSignIn
        const result = yield* runCli(["token"], { env: signIn.env })
        assert.strictEqual(result.code, 0, result.stderr)
        assert.strictEqual(result.stderr, "")
      }),
    30_000
  )
})

describe("a lock wait told to the app (FileStore onLockWait)", () => {
  it.scopedLive("auth.lock held: told once, after 1 s, with its path, whose it is and its bound", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const waits = yield* Ref.make<ReadonlyArray<{ readonly wait: LockWait; readonly at: number }>>([])
      const store = yield* FileStore.make(authPath, {
        onLockWait: (wait) => Ref.update(waits, (all) => [...all, { wait, at: performance.now() }])
      }).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, NodePath.layer)))
      const lockPath = join(dir, "auth.lock")
      const holder = yield* holdLock(lockPath)
      const startedAt = performance.now()
      const entered = yield* Effect.fork(store.locked(Effect.void))
      yield* eventually(
        "the wait was told",
        Effect.map(Ref.get(waits), (all) => all.length > 0)
      )
      yield* holder.release
      yield* Fiber.join(entered)
      const told = yield* Ref.get(waits)
      assert.strictEqual(told.length, 1)
      assert.isAtLeast(told[0]!.at - startedAt, Duration.toMillis(lockNoticeDelay) - 50)
      const { wait } = told[0]!
      assert.deepStrictEqual([wait.path, wait.lock, Duration.toMillis(wait.bound)], [lockPath, "outer", 60_000])
      assert.strictEqual(wait.message, `Waiting for ${lockPath}: another program (codex?) holds it; up to 60 s.`)
      // a free lock: nothing told
      yield* store.locked(Effect.void)
      assert.strictEqual((yield* Ref.get(waits)).length, 1)
    })
  )
})

describe("a session whose save waits for a lock longer than the refresh bound (TestClock)", () => {
  it.effect("fails with the store's Locked error naming the lock, not as an issuer out of reach", () =>
    Effect.gen(function* () {
      const record = new StoredAuth({
        authMode: Option.some("chatgpt"),
        apiKey: Option.none(),
        tokens: Option.some(
          new StoredTokens({
            idToken: Option.none(),
            accessToken: Redacted.make(unsignedJwt({ sub: "user-test", exp: 0 })),
            refreshToken: Option.some(Redacted.make("rt-1")),
            accountId: Option.none(),
            loginOwnerId: Option.none(),
            expiresAt: Option.some(DateTime.unsafeMake(0)),
            extra: []
          })
        ),
        lastRefresh: Option.some(DateTime.unsafeMake(0)),
        origin: Option.none(),
        extra: []
      })
      const memory = yield* MemoryStore.make(Option.some(record))
      const lockPath = "/home/me/.codex/auth.lock"
      const busy = new StoreError({ reason: "Locked", path: lockPath, detail: "gave up after 1m" })
      // codex's auth.lock held by another program past its bound, which is past the refresh's
      const store: CredentialStore["Type"] = {
        ...memory,
        locked: () => Effect.zipRight(Effect.sleep(Duration.sum(outerLockBound, "1 second")), Effect.fail(busy))
      }
      const { origin: _origin, authMode: _authMode, ...rules } = CodexIssuer.rules("https://issuer.test", "client")
      const issuer: IssuerClient["Type"] = {
        issuer: "https://issuer.test",
        ...rules,
        revoke: () => Effect.die("not scripted"),
        refresh: () =>
          Effect.succeed({
            accessToken: Option.some(Redacted.make(unsignedJwt({ sub: "user-test", exp: 7200 }))),
            idToken: Option.none(),
            refreshToken: Option.some(Redacted.make("rt-2")),
            expiresIn: Option.some(Duration.hours(1))
          })
      }
      const layer = Layer.mergeAll(
        Layer.succeed(CredentialStore, store),
        IssuerResolver.fixed.pipe(Layer.provide(Layer.succeed(IssuerClient, issuer)))
      )
      const session = yield* AuthSession.make().pipe(Effect.provide(layer))
      const fiber = yield* Effect.fork(Effect.exit(session.accessToken))
      yield* TestClock.adjust(Duration.sum(refreshBound, "2 seconds"))
      const exit = yield* Fiber.join(fiber)
      assert.isTrue(Exit.isFailure(exit) && exit.cause._tag === "Fail", String(exit))
      const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      assert.strictEqual(error?._tag, "StoreError")
      assert.include(error?.message ?? "", `${lockPath} stayed locked`)
    })
  )
})
