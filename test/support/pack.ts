// The npm package as a user gets it: `npm pack` of the built working tree, unpacked, or installed into an app outside
// the repository the way npm would, but offline: the tarball unpacked into node_modules/devicecode, its `bin` linked
// into node_modules/.bin, and only the packages its package.json asks for (dependencies, optionalDependencies) plus
// the app's own, linked from the repository's node_modules. A package the tarball needs but does not declare is then
// missing, as it would be for a user.
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../..", import.meta.url))

/** The fields of a package.json the tests read. */
export interface PackageJson {
  readonly name: string
  readonly bin?: Readonly<Record<string, string>>
  readonly dependencies?: Readonly<Record<string, string>>
  readonly devDependencies?: Readonly<Record<string, string>>
  readonly optionalDependencies?: Readonly<Record<string, string>>
  readonly peerDependencies?: Readonly<Record<string, string>>
}

export const readPackageJson = (dir: string): PackageJson =>
  JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageJson

/** `npm pack` of the repository as it is built now (no scripts run), into `dir`: the tarball's path. */
export const pack = (dir: string): string => {
  mkdirSync(dir, { recursive: true })
  const [result] = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"]
    })
  ) as ReadonlyArray<{ readonly filename: string }>
  return join(dir, result!.filename)
}

/** The tarball's package/ folder unpacked into `dir` (made if need be). */
export const unpack = (tarball: string, dir: string): string => {
  mkdirSync(dir, { recursive: true })
  execFileSync("tar", ["-xzf", tarball, "-C", dir, "--strip-components=1"])
  return dir
}

/**
 * Installs the tarball into the app in `app` (whose package.json names its own dependencies) as npm would, offline;
 * returns the installed package's folder. A dependency npm would skip (an optional one that is not installed here)
 * is left out.
 */
export const installPacked = (tarball: string, app: string): string => {
  const modules = join(app, "node_modules")
  const installed = unpack(tarball, join(modules, "devicecode"))
  const packed = readPackageJson(installed)
  const own = existsSync(join(app, "package.json")) ? readPackageJson(app) : undefined
  const wanted = new Set([
    ...Object.keys(packed.dependencies ?? {}),
    ...Object.keys(packed.optionalDependencies ?? {}),
    ...Object.keys(own?.dependencies ?? {}),
    ...Object.keys(own?.devDependencies ?? {})
  ])
  wanted.delete("devicecode")
  for (const name of wanted) {
    const target = join(root, "node_modules", name)
    if (!existsSync(target)) {
      if (name in (packed.optionalDependencies ?? {})) continue
      throw new Error(`${name} is not installed in the repository's node_modules`)
    }
    mkdirSync(dirname(join(modules, name)), { recursive: true })
    symlinkSync(target, join(modules, name), "dir")
  }
  // npm links each bin relatively, and runs it through its shebang: the file must be executable
  for (const [name, file] of Object.entries(packed.bin ?? {})) {
    mkdirSync(join(modules, ".bin"), { recursive: true })
    symlinkSync(relative(join(modules, ".bin"), join(installed, file)), join(modules, ".bin", name))
  }
  return installed
}
