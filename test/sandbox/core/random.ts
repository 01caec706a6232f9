/** A small seeded PRNG (mulberry32): seed data and fault injection repeat exactly for the same seed. */
export class SeededRandom {
	private state: number;

	constructor(seed: number | string = 1) {
		this.state = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
	}

	/** A float in [0, 1). */
	next(): number {
		this.state = (this.state + 0x6d2b79f5) >>> 0;
		let t = this.state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	}

	int(minInclusive: number, maxInclusive: number): number {
		return minInclusive + Math.floor(this.next() * (maxInclusive - minInclusive + 1));
	}

	pick<T>(items: readonly T[]): T {
		return items[Math.floor(this.next() * items.length)];
	}

	chance(probability: number): boolean {
		return probability > 0 && this.next() < probability;
	}

	/** A version-4-shaped GUID drawn from this generator (deterministic, unlike crypto.randomUUID). */
	guid(): string {
		const hex = (n: number) =>
			Array.from({ length: n }, () => Math.floor(this.next() * 16).toString(16)).join('');
		const variant = ((Math.floor(this.next() * 4) & 0x3) | 0x8).toString(16);
		return `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(12)}`;
	}
}

function hashString(value: string): number {
	let h = 2166136261;
	for (let i = 0; i < value.length; i++) {
		h ^= value.charCodeAt(i);
		h = Math.imul(h, 16777619);
	}
	return h >>> 0;
}
