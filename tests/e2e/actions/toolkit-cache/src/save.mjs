// @actions/cache saveCache: writes toolkit-cached/payload.txt in the workspace and saves it under
// the input key with the runner's actions/cache server.
import * as fs from 'node:fs';
import * as cache from '@actions/cache';
import * as core from '@actions/core';

async function run() {
    const key = core.getInput('key', { required: true });
    fs.mkdirSync('toolkit-cached', { recursive: true });
    fs.writeFileSync('toolkit-cached/payload.txt', core.getInput('payload', { required: true }));
    const id = await cache.saveCache(['toolkit-cached'], key);
    // saveCache warns and returns -1 where the server refused or failed.
    if (id === -1) throw new Error(`saveCache did not save '${key}' (see the warning above)`);
    core.info(`cache saved key=${key} id=${id}`);
}

run().catch((e) => core.setFailed(`toolkit cache save: ${e.stack || e}`));
