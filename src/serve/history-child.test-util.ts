/**
 * The child of history.test.ts, as root: opens the history store the way the agent does (openAgentHistory,
 * before the drop), drops to the user named, then stores a second of records through the store's thread and
 * prints what it was afterwards and what it read back.
 * Usage: node history-child.test-util.js DATA_DIR USER T0
 */
import { connRecord, statsSecond } from '../store/store-fixtures.test-util.js';
import { openAgentHistory } from './history.js';
import { dropPrivileges, dropTarget, realPrivilegeOps } from './privileges.js';
import { prepareDataDir } from './status.js';

const [dataDir, user, t0] = process.argv.slice(2);
const T0 = Number(t0);
const target = dropTarget(user, realPrivilegeOps);
prepareDataDir(dataDir, target);
const history = openAgentHistory(dataDir, target);
dropPrivileges(target, realPrivilegeOps);
history.appendStats(statsSecond(T0, 3));
history.appendConn(connRecord(T0 + 0.5, '10.0.0.5', 40_000, '10.0.0.9', 443));
history.flush();
// Answered after the batch flushed before it: the write went through as the new user.
const flows = await history.flowRows({ since: T0, until: T0 + 1, limit: 10 });
process.stdout.write(`${JSON.stringify({ uid: process.getuid!(), euid: process.geteuid!(), flows: flows.ts.length })}\n`);
history.close();
