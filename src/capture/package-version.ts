/**
 * This package's version, read once from package.json: what `loopy --version` prints, what the agent says it
 * runs in hello, what a client sends. In the lowest room so that every stage may name it (dist/capture and
 * src/capture both sit two levels below package.json).
 */
import { readFileSync } from 'node:fs';

export const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
