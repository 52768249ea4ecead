// The bare floor: see _floor.ts.
import { floor } from "./_floor.ts";

await floor(import.meta.filename!);
