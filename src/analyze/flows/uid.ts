/**
 * Connection uids and alert ids, unique per process as Zeek's are. A uid is "C" + 17 base62 characters:
 * a derivation of the flow's serial number, each character then shifted by one digit of the process's
 * `IdSeed` (17 digits, ~101 bits, random unless the user asks for repeatable ids with `--seed N` or
 * `LOOPY_SEED`). Two processes give disjoint uids; the same capture read with the same seed gives the
 * same ones. Never called on the packet loop: records are made after it.
 */
import { randomInt } from 'node:crypto';
import { mix32 } from '../mix32.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE62_CODES = Array.from(BASE62, (c) => c.charCodeAt(0));
const UID_DIGITS = 17;
/** The largest `--seed`: a whole number JavaScript holds exactly. */
export const MAX_ID_SEED = Number.MAX_SAFE_INTEGER;

/** What makes one process's ids its own: one base62 digit added to each of a uid's 17 characters. */
export type IdSeed = readonly number[];

/** 17 random base62 digits (62^17 ≈ 2^101), from the system's CSPRNG. */
export function randomIdSeed(): IdSeed {
  return Array.from({ length: UID_DIGITS }, () => randomInt(62));
}

/**
 * The repeatable seed `--seed N` names. Seed 0 adds nothing: the ids the derivation alone gives (the read
 * baselines in src/tests use it).
 */
export function idSeedFrom(n: number): IdSeed {
  let x = mix32((n >>> 0) ^ mix32(Math.floor(n / 4294967296) >>> 0));
  const digits: number[] = [];
  for (let i = 0; i < UID_DIGITS; i++) {
    digits.push(x % 62);
    x = mix32(x); // a bijection that keeps 0 at 0 and anything else away from it
  }
  return digits;
}

let processSeed: IdSeed | undefined;

/** Sets this process's (this thread's) seed: the CLI from --seed or LOOPY_SEED, the store's worker from its parent. */
export function setIdSeed(seed: IdSeed): void {
  processSeed = seed;
}

/** This process's seed: random on first use unless set. */
export function idSeed(): IdSeed {
  processSeed ??= randomIdSeed();
  return processSeed;
}

/** Char codes of a uid being made: one String.fromCharCode call instead of 17 concatenations. */
const uidCodes: number[] = new Array<number>(UID_DIGITS + 1).fill(0x43); // 'C'

/** A Zeek-style connection uid ("C" + 17 base62 characters) of the flow with this serial number. */
export function uidFor(serial: number, stream = 0x9e3779b9): string {
  const offset = idSeed();
  let a = mix32((serial >>> 0) ^ stream);
  let b = mix32(((serial / 4294967296) >>> 0) ^ a ^ 0x85ebca6b);
  for (let i = 0; i < UID_DIGITS; i++) {
    uidCodes[i + 1] = BASE62_CODES[((a >>> 0) % 62 + offset[i]) % 62];
    a = Math.floor((a >>> 0) / 62) + (b & 0x3f) * 69273666;
    b = mix32(b + i);
  }
  return String.fromCharCode.apply(null, uidCodes);
}

