/**
 * Seeded randomness and identifiers, so a sandbox scenario runs the same way every
 * time (Step Functions' FULL jitter, ECS ids, task IPs, event ids).
 */

/** mulberry32: a small, well-distributed 32-bit PRNG. */
export class SeededRandom {
  constructor(private state: number) {}

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  get seed(): number {
    return this.state;
  }

  /** A string of `length` characters drawn from `alphabet`. */
  chars(length: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < length; i += 1) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  digits(length: number): string {
    return this.chars(1, '123456789') + this.chars(length - 1, '0123456789');
  }

  hex(length: number): string {
    return this.chars(length, '0123456789abcdef');
  }

  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[Math.floor(this.next() * 4)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

/** Replaces Math.random with a seeded generator until the returned function is called. */
export function seedMathRandom(random: SeededRandom): () => void {
  const original = Math.random;
  Math.random = () => random.next();
  return () => {
    Math.random = original;
  };
}
