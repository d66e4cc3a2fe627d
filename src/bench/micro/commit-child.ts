/**
 * The commit micro-benchmark's measuring node (commit.ts `inOwnProcess`): argv is the small repo,
 * the large repo and the number of runs; prints both repos' figures and its peak RSS as JSON.
 */
import { measureRepo } from './commit.js';

const [small, large, runs] = process.argv.slice(2);
const s = await measureRepo(small!, Number(runs));
const l = await measureRepo(large!, Number(runs));
process.stdout.write(JSON.stringify({ s, l, rssMb: process.resourceUsage().maxRSS / 1024 }));
