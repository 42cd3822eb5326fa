import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmdirSync } from "node:fs"
import { tmpdir } from "node:os"
import * as fsp from "node:fs/promises"
import { join } from "node:path"
import { StoreError } from "../src/domain/Errors.js"
import type { StoredAuth } from "../src/domain/StoredAuth.js"
import * as AuthSession from "../src/layers/AuthSession.js"
import * as CodexLock from "../src/layers/CodexLock.js"
import * as FileStore from "../src/layers/FileStore.js"
import * as IssuerResolver from "../src/layers/IssuerResolver.js"
import { CredentialStore, lockDeadline } from "../src/services/CredentialStore.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { holdLock } from "./support/locks.js"
import { loginAt } from "./support/signIns.js"
import { tempDir } from "./support/tmp.js"

// The other program is util-linux flock(1), holding codex's locks as codex does.

const Platform = Layer.mergeAll(NodeHttpClient.layer, NodeFileSystem.layer, NodePath.layer)

/** A command of its own: a fresh store and session over `authPath`. */
const sessionAt = (authPath: string) =>
  AuthSession.layer().pipe(
    Layer.provideMerge(Layer.mergeAll(FileStore.layer(authPath), IssuerResolver.layer)),
    Layer.provide(Platform)
  )

const refreshTokenOf = (record: StoredAuth): string =>
  Redacted.value(Option.getOrThrow(Option.getOrThrow(record.tokens).refreshToken))
const accessTokenOf = (record: StoredAuth): string => Redacted.value(Option.getOrThrow(record.tokens).accessToken)

describe("an answered refresh is kept when auth.json.lock stays taken", () => {
  it.scopedLive(
    "the save gives up after 5 s, keeps the record beside auth.json and says so; the next session adopts it",
    () =>
      Effect.gen(function* () {
        const issuer = yield* LocalIssuer.make({ interval: "1 second", accessTokenTtl: 0 })
        const dir = yield* tempDir
        const authPath = join(dir, "auth.json")
        const record = yield* loginAt(issuer, authPath)
        const spent = refreshTokenOf(record)
        yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })

        const other = yield* holdLock(CodexLock.lockFiles(authPath).inner)
        const error = yield* Effect.flatMap(AuthSession.AuthSession, (s) => s.accessToken).pipe(
          Effect.provide(sessionAt(authPath)),
          Effect.flip
        )
        assert.instanceOf(error, StoreError)
        const kept = (yield* Effect.promise(() => fsp.readdir(dir))).filter((name) =>
          name.startsWith(".auth.json.tmp-")
        )
        assert.strictEqual(kept.length, 1)
        const keptPath = join(dir, kept[0]!)
        assert.include(
          error.message,
          `The new sign-in is kept in ${keptPath}, which the next devicecode command moves into place`
        )
        assert.strictEqual((yield* Effect.promise(() => fsp.lstat(keptPath))).mode & 0o777, 0o600)
        assert.deepStrictEqual(yield* issuer.refreshTokenState(spent), Option.some("used" as const))
        const keptRecord = JSON.parse(yield* Effect.promise(() => fsp.readFile(keptPath, "utf8")))
        assert.deepStrictEqual(
          yield* issuer.refreshTokenState(keptRecord.tokens.refresh_token),
          Option.some("active" as const)
        )
        const stale = JSON.parse(yield* Effect.promise(() => fsp.readFile(authPath, "utf8")))
        assert.strictEqual(stale.tokens.refresh_token, spent, "auth.json was not written without the lock")

        yield* other.release
        const before = yield* issuer.stats
        const { served, stored } = yield* Effect.gen(function* () {
          const served = Redacted.value(yield* Effect.flatMap(AuthSession.AuthSession, (s) => s.accessToken))
          return { served, stored: Option.getOrThrow(yield* Effect.flatMap(CredentialStore, (s) => s.load)) }
        }).pipe(Effect.provide(sessionAt(authPath)))
        const after = yield* issuer.stats
        assert.strictEqual(after.refresh - before.refresh, 0, "the kept token is served, not refreshed again")
        assert.strictEqual(after.refreshTokenReused, 0)
        assert.strictEqual(served, accessTokenOf(stored))
        assert.deepStrictEqual(yield* issuer.refreshTokenState(refreshTokenOf(stored)), Option.some("active" as const))
        assert.isTrue(Option.isSome(yield* issuer.verifyAccessToken(served)))
        assert.deepStrictEqual((yield* Effect.promise(() => fsp.readdir(dir))).sort(), [
          "auth.json",
          "auth.json.lock",
          "auth.json.refresh.lock",
          "auth.lock"
        ])
      }),
    30_000
  )
})

describe("an answer in hand is kept when codex's auth.lock stays taken", () => {
  it.scopedLive(
    "a refresh: the outer lock's wait ends (a 1.5 s lockDeadline stands in for its 60 s), the record is kept; the next session adopts it",
    () =>
      Effect.gen(function* () {
        const issuer = yield* LocalIssuer.make({ interval: "1 second", accessTokenTtl: 0 })
        const dir = yield* tempDir
        const authPath = join(dir, "auth.json")
        const spent = refreshTokenOf(yield* loginAt(issuer, authPath))
        yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })
        const other = yield* holdLock(CodexLock.lockFiles(authPath).outer)
        const error = yield* Effect.flatMap(AuthSession.AuthSession, (s) => s.accessToken).pipe(
          Effect.provide(sessionAt(authPath)),
          Effect.locally(lockDeadline, Option.some(Date.now() + 1500)),
          Effect.flip
        )
        assert.instanceOf(error, StoreError)
        assert.strictEqual(error.reason, "Locked")
        assert.include(error.message, `${join(dir, "auth.lock")} stayed locked by another process`)
        assert.deepStrictEqual(yield* issuer.refreshTokenState(spent), Option.some("used" as const))
        assert.isDefined(error.keptIn)
        const kept = JSON.parse(yield* Effect.promise(() => fsp.readFile(error.keptIn!, "utf8")))
        assert.deepStrictEqual(
          yield* issuer.refreshTokenState(kept.tokens.refresh_token),
          Option.some("active" as const)
        )

        yield* other.release
        const served = Redacted.value(
          yield* Effect.flatMap(AuthSession.AuthSession, (s) => s.accessToken).pipe(Effect.provide(sessionAt(authPath)))
        )
        assert.strictEqual(served, kept.tokens.access_token)
        const stats = yield* issuer.stats
        assert.strictEqual(stats.refresh, 1, "the kept token is served, not refreshed again")
        assert.strictEqual(stats.refreshTokenReused, 0)
      }),
    30_000
  )

  it.scopedLive(
    "a login approved while auth.json.lock stays taken: the new sign-in is kept, not revoked; the next load adopts it",
    () =>
      Effect.gen(function* () {
        const issuer = yield* LocalIssuer.make({ interval: "1 second" })
        const dir = yield* tempDir
        const authPath = join(dir, "auth.json")
        const other = yield* holdLock(CodexLock.lockFiles(authPath).inner)
        const error = yield* Effect.flip(loginAt(issuer, authPath))
        assert.instanceOf(error, StoreError)
        assert.strictEqual(error.reason, "Locked")
        assert.isDefined(error.keptIn)
        assert.include(error.message, `The new sign-in is kept in ${error.keptIn}`)
        assert.strictEqual((yield* issuer.stats).revoke, 0, "the kept tokens were revoked")
        yield* other.release
        const store = yield* FileStore.make(authPath).pipe(Effect.provide(Platform))
        const loaded = Option.getOrThrow(yield* store.load)
        assert.deepStrictEqual(yield* issuer.refreshTokenState(refreshTokenOf(loaded)), Option.some("active" as const))
        assert.isTrue(Option.isSome(yield* issuer.verifyAccessToken(accessTokenOf(loaded))))
      }),
    30_000
  )
})

/** Whether a 256 KiB tmpfs can be mounted here (root, and mounts allowed); the disk-full test needs one. */
const canMountTmpfs = ((): boolean => {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false
  const dir = mkdtempSync(join(tmpdir(), "devicecode-tmpfs-"))
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir]).status === 0
  if (mounted) spawnSync("umount", [dir])
  rmdirSync(dir)
  return mounted
})()

/** A fresh 256 KiB tmpfs, unmounted with the scope. */
const smallDisk = Effect.gen(function* () {
  const dir = yield* tempDir
  yield* Effect.acquireRelease(
    Effect.sync(() =>
      assert.strictEqual(spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir]).status, 0)
    ),
    () => Effect.sync(() => spawnSync("umount", ["-l", dir]))
  )
  return dir
})

describe("a full disk is found before a refresh is sent", () => {
  it.scopedLive.skipIf(!canMountTmpfs)(
    "on a full tmpfs the refresh is not sent and the token stays unspent; with space again the next session refreshes",
    () =>
      Effect.gen(function* () {
        const issuer = yield* LocalIssuer.make({ interval: "1 second", accessTokenTtl: 0 })
        const dir = yield* smallDisk
        const authPath = join(dir, "auth.json")
        const record = yield* loginAt(issuer, authPath)
        const stored = refreshTokenOf(record)
        yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })
        const accessToken = Effect.flatMap(AuthSession.AuthSession, (s) => s.accessToken)

        // the disk filled by another program: what does not fit stays written
        const filler = join(dir, "filler")
        const full = yield* Effect.promise(() =>
          fsp.writeFile(filler, Buffer.alloc(1024 * 1024)).then(
            () => "fits",
            (error: NodeJS.ErrnoException) => error.code
          )
        )
        assert.strictEqual(full, "ENOSPC")

        const before = yield* issuer.stats
        const error = yield* accessToken.pipe(Effect.provide(sessionAt(authPath)), Effect.flip)
        assert.instanceOf(error, StoreError)
        assert.strictEqual(
          error.message,
          `cannot access ${dir}: the disk is full (ENOSPC), so the refresh was not sent and the stored sign-in still ` +
            "works; free some space and try again"
        )
        assert.strictEqual((yield* issuer.stats).refresh - before.refresh, 0, "no refresh request was sent")
        assert.deepStrictEqual(yield* issuer.refreshTokenState(stored), Option.some("active" as const))

        yield* Effect.promise(() => fsp.rm(filler))
        const served = Redacted.value(yield* accessToken.pipe(Effect.provide(sessionAt(authPath))))
        const after = yield* issuer.stats
        assert.strictEqual(after.refresh - before.refresh, 1)
        assert.strictEqual(after.refreshTokenReused, 0)
        assert.isTrue(Option.isSome(yield* issuer.verifyAccessToken(served)))
        assert.deepStrictEqual(yield* issuer.refreshTokenState(stored), Option.some("used" as const))
        const saved = JSON.parse(yield* Effect.promise(() => fsp.readFile(authPath, "utf8")))
        assert.strictEqual(saved.tokens.access_token, served)
        assert.deepStrictEqual((yield* Effect.promise(() => fsp.readdir(dir))).sort(), [
          "auth.json",
          "auth.json.lock",
          "auth.json.refresh.lock",
          "auth.lock"
        ])
      }),
    30_000
  )

  it.scopedLive.skipIf(!canMountTmpfs)(
    "the disk fills after the room was reserved and before the answer came: the answer is saved in that room",
    () =>
      Effect.gen(function* () {
        const issuer = yield* LocalIssuer.make({ interval: "1 second", accessTokenTtl: 0 })
        const dir = yield* smallDisk
        const authPath = join(dir, "auth.json")
        const record = yield* loginAt(issuer, authPath)
        yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })

        // another program fills the disk the moment the room is reserved
        const filler = join(dir, "filler")
        const fillDisk = Effect.promise(() =>
          fsp.writeFile(filler, Buffer.alloc(1024 * 1024)).then(
            () => "fits",
            (error: NodeJS.ErrnoException) => error.code
          )
        )
        const filling = Layer.effect(
          CredentialStore,
          Effect.map(FileStore.make(authPath), (store) =>
            CredentialStore.of({
              ...store,
              reserve: (like) =>
                Effect.tap(store.reserve(like), () =>
                  Effect.map(fillDisk, (code) => assert.strictEqual(code, "ENOSPC"))
                )
            })
          )
        )
        const session = AuthSession.layer().pipe(
          Layer.provideMerge(Layer.mergeAll(filling, IssuerResolver.layer)),
          Layer.provide(Platform)
        )
        const served = Redacted.value(
          yield* Effect.flatMap(AuthSession.AuthSession, (s) => s.accessToken).pipe(Effect.provide(session))
        )
        assert.isTrue(Option.isSome(yield* issuer.verifyAccessToken(served)))
        assert.deepStrictEqual(yield* issuer.refreshTokenState(refreshTokenOf(record)), Option.some("used" as const))
        const saved = JSON.parse(yield* Effect.promise(() => fsp.readFile(authPath, "utf8")))
        assert.strictEqual(saved.tokens.access_token, served)
        assert.deepStrictEqual(
          yield* issuer.refreshTokenState(saved.tokens.refresh_token),
          Option.some("active" as const)
        )
        assert.strictEqual((yield* issuer.stats).refreshTokenReused, 0)
      }),
    30_000
  )
})
