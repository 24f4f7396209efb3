// @actions/cache restoreCache: the exact key is missed on purpose, the restore-key prefix finds the
// entry the earlier job saved; prints what toolkit-cached/payload.txt holds afterwards.
import * as fs from 'node:fs';
import * as cache from '@actions/cache';
import * as core from '@actions/core';

async function run() {
    const key = core.getInput('key', { required: true });
    const prefix = core.getInput('restore-key', { required: true });
    const matched = await cache.restoreCache(['toolkit-cached'], key, [prefix]);
    if (!matched) throw new Error(`no cache entry for '${key}' or the prefix '${prefix}'`);
    core.setOutput('matched-key', matched);
    const payload = fs.readFileSync('toolkit-cached/payload.txt', 'utf8');
    core.info(`cache restored key=${matched} payload=${payload}`);
}

run().catch((e) => core.setFailed(`toolkit cache restore: ${e.stack || e}`));
