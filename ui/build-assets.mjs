// Copies the static files next to the compiled scripts in dist/.
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";

mkdirSync("dist", { recursive: true });
for (const name of readdirSync("static")) {
  copyFileSync(`static/${name}`, `dist/${name}`);
}
