import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { noBrowserReason } from "../src/cli/browserLoginRun.js"

describe("login --browser: where a browser can be opened", () => {
  it("not over SSH (SSH_CONNECTION or SSH_TTY), even with a display", () => {
    assert.deepStrictEqual(
      noBrowserReason({ SSH_TTY: "/dev/pts/1", DISPLAY: ":0" }, "linux"),
      Option.some("this is an SSH session")
    )
    assert.deepStrictEqual(
      noBrowserReason({ SSH_CONNECTION: "a 1 b 22" }, "darwin"),
      Option.some("this is an SSH session")
    )
  })

  it("not on Linux or a BSD without DISPLAY or WAYLAND_DISPLAY (empty counts as unset)", () => {
    assert.deepStrictEqual(noBrowserReason({}, "linux"), Option.some("there is no display"))
    assert.deepStrictEqual(noBrowserReason({ DISPLAY: "" }, "freebsd"), Option.some("there is no display"))
  })

  it("on a Linux desktop (X11 or Wayland), macOS and Windows", () => {
    assert.isTrue(Option.isNone(noBrowserReason({ DISPLAY: ":0" }, "linux")))
    assert.isTrue(Option.isNone(noBrowserReason({ WAYLAND_DISPLAY: "wayland-0" }, "linux")))
    assert.isTrue(Option.isNone(noBrowserReason({}, "darwin")))
    assert.isTrue(Option.isNone(noBrowserReason({}, "win32")))
  })
})
