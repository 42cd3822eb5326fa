// The build starts from an empty dist/: files a rename or an older build left there would otherwise be shipped.
import { rmSync } from "node:fs"

rmSync("dist", { recursive: true, force: true })
