import { assert, describe, it } from "@effect/vitest"
import {
  Chunk,
  DateTime,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Option,
  Redacted,
  Ref,
  TestClock,
  TestServices
} from "effect"
import { existsSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { CliLayers } from "../src/cli/CliLayers.js"
import { keyringLookup, notLoggedInHelp, notLoggedInText } from "../src/cli/notLoggedIn.js"
import { statusTable } from "../src/cli/statusRun.js"
import { spentRefreshWatchText } from "../src/cli/render.js"
import type { CredentialsStoreKind } from "../src/domain/CodexConfig.js"
import { DeviceAuthError, RefreshError } from "../src/domain/Errors.js"
import type { StoredAuth } from "../src/domain/StoredAuth.js"
import * as AuthSession from "../src/layers/AuthSession.js"
import * as CodexIssuer from "../src/layers/CodexIssuer.js"
import * as DeviceCodeAuth from "../src/layers/DeviceCodeAuth.js"
import * as FileStore from "../src/layers/FileStore.js"
import * as IssuerResolver from "../src/layers/IssuerResolver.js"
import * as MemoryStore from "../src/layers/MemoryStore.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import { IssuerClient } from "../src/services/IssuerClient.js"
import { logout } from "../src/services/logout.js"
import { adoptionWatchBound } from "../src/services/schedules.js"
import { unsignedJwt } from "../src/testing/ScriptedIssuer.js"
import { apiKeySignIn, chatgptSignIn, fakeIssuers, Platform } from "./support/signIns.js"
import { tempDir } from "./support/tmp.js"

const ISSUER = "https://issuer.test"

const reused = new DeviceAuthError({
  reason: "Rejected",
  issuer: ISSUER,
  step: "refresh",
  status: 401,
  code: "refresh_token_reused"
})

/**
 * A session over a memory store holding a ChatGPT sign-in whose access token expired at 0 (TestClock's start), at a
 * Codex issuer whose refresh runs `refresh` with the raw store (as another program would use it); `told` is what
 * `onSpentRefreshWatch` heard, with the TestClock time of each.
 */
const spentSession = (refresh: (store: CredentialStore["Type"]) => Effect.Effect<never, DeviceAuthError>) =>
  Effect.gen(function* () {
    const store = yield* MemoryStore.make(
      Option.some(chatgptSignIn({ accessToken: unsignedJwt({ sub: "user-test", exp: 0 }) }))
    )
    const { origin: _origin, authMode: _authMode, ...rules } = CodexIssuer.rules(ISSUER, "client")
    const client: IssuerClient["Type"] = {
      issuer: ISSUER,
      ...rules,
      revoke: () => Effect.die("not scripted"),
      refresh: () => refresh(store)
    }
    const told = yield* Ref.make<ReadonlyArray<{ readonly at: number; readonly watch: AuthSession.SpentRefreshWatch }>>(
      []
    )
    const session = yield* AuthSession.make({
      onSpentRefreshWatch: (watch) =>
        Effect.flatMap(TestClock.currentTimeMillis, (at) => Ref.update(told, (all) => [...all, { at, watch }]))
    }).pipe(
      Effect.provide(
        Layer.mergeAll(
          Layer.succeed(CredentialStore, store),
          IssuerResolver.fixed.pipe(Layer.provide(Layer.succeed(IssuerClient, client)))
        )
      )
    )
    return { session, told: Ref.get(told) }
  })

describe("token: the wait after a refresh token spent elsewhere is said at once", () => {
  it.effect("told once at 0 s, with its 10 s bound, while the watch goes on; the failure comes at 10 s", () =>
    Effect.gen(function* () {
      const { session, told } = yield* spentSession(() => Effect.fail(reused))
      const fiber = yield* Effect.fork(Effect.exit(session.accessToken))
      yield* TestClock.adjust(0)
      const atOnce = yield* told
      assert.strictEqual(atOnce.length, 1)
      assert.strictEqual(atOnce[0]!.at, 0)
      assert.isTrue(Duration.equals(atOnce[0]!.watch.bound, adoptionWatchBound))
      const error = atOnce[0]!.watch.error
      assert.isTrue(error._tag === "RefreshError" && error.reason === "Reused")
      assert.strictEqual(
        spentRefreshWatchText(atOnce[0]!.watch),
        "The refresh token was already used; waiting up to 10 seconds for the program that used it to save its new sign-in…"
      )
      yield* TestClock.adjust(Duration.millis(9_999))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still watching at 9.999 s")
      assert.strictEqual((yield* told).length, 1, "told once, not at every look")
      yield* TestClock.adjust(Duration.millis(1))
      const exit = yield* Fiber.join(fiber)
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual((yield* told).length, 1)
    })
  )

  it.effect("nothing is told when the other program's sign-in is already stored at the first look", () =>
    Effect.gen(function* () {
      const successor = unsignedJwt({ sub: "user-test", exp: 10_000, tag: "codex" })
      const { session, told } = yield* spentSession((store) =>
        Effect.zipRight(
          store.save(chatgptSignIn({ accessToken: successor, refreshToken: "rt_codex" })).pipe(Effect.orDie),
          Effect.fail(reused)
        )
      )
      assert.strictEqual(Redacted.value(yield* session.accessToken), successor)
      assert.deepStrictEqual(yield* told, [])
    })
  )

  it("an RFC 8628 provider's invalid_grant says what it may mean", () => {
    const error = new RefreshError({ reason: "Other", issuer: ISSUER, code: "invalid_grant" })
    assert.strictEqual(
      spentRefreshWatchText({ error, bound: Duration.seconds(10) }),
      "The issuer refused the refresh token (another program may have used it); waiting up to 10 seconds for a new sign-in to be saved…"
    )
  })
})

describe("status and token: not logged in says what to run", () => {
  it("the command that signs in, with the profile and the --store given", () => {
    assert.strictEqual(notLoggedInText("default", "status"), "Not logged in. To log in, run: devicecode login")
    assert.strictEqual(
      notLoggedInText("work", "token"),
      "Not logged in. To log in, run: devicecode login --profile work"
    )
    assert.strictEqual(
      notLoggedInText("work", "status", { store: "keyring" }),
      "Not logged in. To log in, run: devicecode login --store keyring --profile work"
    )
    assert.strictEqual(
      notLoggedInText("default", "status", { store: "ephemeral" }),
      "Not logged in. To log in, run: devicecode login"
    )
    assert.strictEqual(
      notLoggedInText("work", "token", { elsewhere: { kind: "keyring", where: "the keyring" } }),
      "Not logged in. A sign-in is stored in the keyring: run devicecode token --store keyring --profile work"
    )
  })

  it("the keyring is looked in only where that cannot prompt and a Secret Service may answer", () => {
    assert.isTrue(keyringLookup("win32", {}))
    assert.isFalse(keyringLookup("darwin", { DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/bus" }))
    assert.isTrue(keyringLookup("linux", { DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/bus" }))
    assert.deepStrictEqual(keyringLookup("linux", { XDG_RUNTIME_DIR: "/run/user/1000" }), {
      ifExists: "/run/user/1000/bus"
    })
    assert.isFalse(keyringLookup("linux", {}))
    assert.isFalse(keyringLookup("linux", { DBUS_SESSION_BUS_ADDRESS: "" }))
  })
})

/** Sets (or, with undefined, removes) environment variables for the scope. */
const withEnv = (values: Readonly<Record<string, string | undefined>>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const before = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]))
      for (const [name, value] of Object.entries(values)) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
      return before
    }),
    (before) =>
      Effect.sync(() => {
        for (const [name, value] of Object.entries(before)) {
          if (value === undefined) delete process.env[name]
          else process.env[name] = value
        }
      })
  )

/**
 * {@link notLoggedInHelp} in `home` with `chosen` as the store kind: the CliLayers' file stores are real, its keyring
 * is a memory store holding `keyring` (or, as "hangs", one whose read never answers).
 */
const helpIn = (
  home: string,
  chosen: CredentialsStoreKind,
  keyring: Option.Option<StoredAuth> | "hangs",
  options: {
    readonly command?: "status" | "token"
    readonly profile?: string
    readonly store?: CredentialsStoreKind
  } = {}
) =>
  Effect.gen(function* () {
    const memory = yield* MemoryStore.make(keyring === "hangs" ? Option.none() : keyring)
    const keyringStore = keyring === "hangs" ? { ...memory, load: Effect.never } : memory
    const layers = CliLayers.of({
      auth: () => Layer.die("no session here"),
      session: () => Layer.die("no session here"),
      store: ({ verbose: _, ...options }) =>
        options.store === "keyring"
          ? Layer.merge(
              Layer.succeed(CredentialStore, keyringStore),
              Layer.effect(DeviceCodeAuth.Setup, DeviceCodeAuth.resolve(options)).pipe(Layer.provide(Platform))
            )
          : DeviceCodeAuth.layerStore(options).pipe(Layer.provide(Platform)),
      browser: Layer.die("no browser login here")
    })
    const profile = options.profile === undefined ? {} : { profile: options.profile }
    const setup = yield* DeviceCodeAuth.resolve({ codexHome: home, store: chosen, ...profile }).pipe(
      Effect.provide(Platform)
    )
    return yield* notLoggedInHelp(
      options.command ?? "status",
      { ...profile, ...(options.store === undefined ? {} : { store: options.store }) },
      options.profile !== undefined
    ).pipe(
      Effect.provideService(DeviceCodeAuth.Setup, setup),
      Effect.provideService(CliLayers, layers),
      Effect.provide(Platform)
    )
  })

describe("not logged in here, signed in there: the other kind of store is named", () => {
  it.scoped("the keyring chosen, the sign-in in auth.json: status and token name the file", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      yield* FileStore.make(join(home, "auth.work.json")).pipe(
        Effect.flatMap((store) => store.save(apiKeySignIn())),
        Effect.provide(Platform)
      )
      assert.strictEqual(
        yield* helpIn(home, "keyring", Option.none(), { profile: "work" }),
        `Not logged in. A sign-in is stored in ${join(home, "auth.work.json")}: run devicecode status --store file --profile work`
      )
      assert.strictEqual(
        yield* helpIn(home, "keyring", Option.none(), { profile: "work", command: "token" }),
        `Not logged in. A sign-in is stored in ${join(home, "auth.work.json")}: run devicecode token --store file --profile work`
      )
      assert.strictEqual(
        yield* helpIn(home, "keyring", Option.none(), { profile: "other", store: "keyring" }),
        "Not logged in. To log in, run: devicecode login --store keyring --profile other"
      )
    })
  )

  it.scoped("auth.json chosen, the sign-in in the keyring: named when a session bus is there", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      yield* withEnv({ DBUS_SESSION_BUS_ADDRESS: "unix:path=/test/bus" })
      assert.strictEqual(
        yield* helpIn(home, "file", Option.some(apiKeySignIn())),
        "Not logged in. A sign-in is stored in the keyring: run devicecode status --store keyring"
      )
      assert.strictEqual(yield* helpIn(home, "file", Option.none()), "Not logged in. To log in, run: devicecode login")
    })
  )

  it.scoped("without a session bus the keyring is not asked at all", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      if (process.platform !== "linux") return
      yield* withEnv({ DBUS_SESSION_BUS_ADDRESS: undefined, XDG_RUNTIME_DIR: join(home, "no-runtime-dir") })
      // the keyring holds a sign-in: only a look would find it
      assert.strictEqual(
        yield* helpIn(home, "file", Option.some(apiKeySignIn())),
        "Not logged in. To log in, run: devicecode login"
      )
    })
  )

  it.scoped("a keyring that does not answer holds a not-logged-in up for 1 s at most", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      yield* withEnv({ DBUS_SESSION_BUS_ADDRESS: "unix:path=/test/bus" })
      const fiber = yield* Effect.fork(helpIn(home, "file", "hangs"))
      // the real file reads first: wait (bounded, in real time) until the bound's sleep is on the TestClock
      yield* Effect.zipLeft(
        Effect.map(TestClock.sleeps(), (sleeps) => Chunk.toReadonlyArray(sleeps).includes(1_000)),
        TestServices.provideLive(Effect.sleep("5 millis"))
      ).pipe(Effect.repeat({ until: (found) => found, times: 1000 }))
      yield* TestClock.adjust(Duration.millis(999))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still waiting at 999 ms")
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual(yield* Fiber.join(fiber), "Not logged in. To log in, run: devicecode login")
    })
  )

  it.scoped("the default profile with only named ones stored: status's list of them, for token too", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      writeFileSync(join(home, "auth.work.json"), "{}")
      yield* withEnv({ DBUS_SESSION_BUS_ADDRESS: undefined, XDG_RUNTIME_DIR: undefined })
      const text = yield* helpIn(home, "file", Option.none(), { command: "token" })
      assert.strictEqual(
        text,
        "Not logged in: there is no default sign-in. Other profiles: work\n" +
          "  See them all with devicecode status --all, or pick one with --profile NAME."
      )
    })
  )
})

describe("status --all: an unreadable profile", () => {
  it("keeps its table narrow and prints its error below it, naming the profile", () => {
    const error =
      '/home/dev/.codex/auth.json is not a valid auth file (not valid JSON); fix it, or run "devicecode login" to sign in again (the unreadable one is then kept aside, not deleted)'
    const text = statusTable(
      [
        { profile: "default", logged_in: false, store: "/home/dev/.codex/auth.json", error },
        { profile: "work", logged_in: true, method: "apikey", api_key: "sk-proj-***cdef", store: "file" }
      ],
      DateTime.unsafeMake(0)
    )
    const lines = text.split("\n")
    assert.deepStrictEqual(lines.slice(0, 3), [
      "PROFILE  STATUS      ACCOUNT          ISSUER           ACCESS TOKEN",
      "default  unreadable  (see below)",
      "work     apikey      sk-proj-***cdef  (codex default)"
    ])
    assert.deepStrictEqual(lines.slice(3), ["", `Profile default: ${error}`])
  })

  it("without one, the table alone, as before", () => {
    const text = statusTable([{ profile: "default", logged_in: false, store: "file" }], DateTime.unsafeMake(0))
    assert.strictEqual(text, "PROFILE  STATUS         ACCOUNT  ISSUER  ACCESS TOKEN\ndefault  not logged in")
  })
})

describe("logout of a profile nobody signed in to", () => {
  it.scoped("with onlyIfStored: no lock taken, so no lock file left behind", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const { layer } = yield* fakeIssuers()
      const store = yield* FileStore.make(join(home, "auth.typo.json")).pipe(Effect.provide(Platform))
      const result = yield* logout({ onlyIfStored: true }).pipe(
        Effect.provideService(CredentialStore, store),
        Effect.provide(layer)
      )
      assert.isFalse(result.removed)
      assert.deepStrictEqual(readdirSync(home), [])
    })
  )

  it.scoped("without it (codex's auth.json): the locks are taken, as codex's logout takes them", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const { layer } = yield* fakeIssuers()
      const store = yield* FileStore.make(join(home, "auth.json")).pipe(Effect.provide(Platform))
      const result = yield* logout().pipe(Effect.provideService(CredentialStore, store), Effect.provide(layer))
      assert.isFalse(result.removed)
      assert.isTrue(existsSync(join(home, "auth.lock")))
      assert.isTrue(existsSync(join(home, "auth.json.lock")))
    })
  )

  it.scoped("with onlyIfStored, a stored sign-in is revoked and removed under the locks as ever", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const { layer, revocations } = yield* fakeIssuers()
      const store = yield* FileStore.make(join(home, "auth.work.json")).pipe(Effect.provide(Platform))
      yield* store.save(chatgptSignIn())
      const result = yield* logout({ onlyIfStored: true }).pipe(
        Effect.provideService(CredentialStore, store),
        Effect.provide(layer)
      )
      assert.isTrue(result.removed)
      assert.isTrue(result.revoked)
      assert.strictEqual((yield* revocations).length, 1)
      assert.isFalse(existsSync(join(home, "auth.work.json")))
      assert.isTrue(existsSync(join(home, "auth.work.lock")), "taken, as for any sign-in")
    })
  )

  it.scoped("with onlyIfStored, an unreadable record is set aside as ever", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const { layer } = yield* fakeIssuers()
      writeFileSync(join(home, "auth.work.json"), "not json")
      const store = yield* FileStore.make(join(home, "auth.work.json")).pipe(Effect.provide(Platform))
      const result = yield* logout({ onlyIfStored: true }).pipe(
        Effect.provideService(CredentialStore, store),
        Effect.provide(layer)
      )
      assert.isTrue(result.removed)
      assert.isTrue(Option.isSome(result.keptAside))
      assert.isFalse(existsSync(join(home, "auth.work.json")))
    })
  )
})
