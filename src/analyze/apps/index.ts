import type { AppRegistration } from './types.js';
import { dnsRegistration } from './dns/index.js';
import { tlsRegistration } from './tls/index.js';
import { httpRegistration } from './http/index.js';
import { sshRegistration } from './ssh/index.js';

/** Every application analyzer Loopy runs. A new analyzer is one folder plus one line here. */
export const defaultApps: readonly AppRegistration[] = [dnsRegistration, tlsRegistration, httpRegistration, sshRegistration];
