// Seeded randomness for the reliability suite. Set RELIABILITY_SEED to
// replay a failure; the seed is in every failure message.

/** A small, fast, seedable PRNG (mulberry32): floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Deno.test whose body gets a seeded PRNG; a failure names the seed. */
export function seededTest(name: string, body: (random: () => number) => Promise<void>): void {
  Deno.test(name, async () => {
    const fixed = Deno.env.get("RELIABILITY_SEED");
    const seed = fixed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(fixed);
    try {
      await body(prng(seed));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`${message}\n(replay with RELIABILITY_SEED=${seed})`, { cause: err });
    }
  });
}

/** Prints one measured figure for docs/reliability.md. */
export function figure(name: string, value: unknown): void {
  console.log(`FIGURE ${name}: ${typeof value === "string" ? value : JSON.stringify(value)}`);
}
